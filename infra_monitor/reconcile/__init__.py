"""Reconciliation of what SNMP observes (the ``discovery`` probe kind) with the inventory.

``diff`` (pure rules: observation × inventory snapshot → differences), ``store`` (reads the inventory and the
latest discovery results), ``accept`` (an operator takes an observed value into the inventory, through the
models' validation, recorded in the change log with the observation as its source).
"""
