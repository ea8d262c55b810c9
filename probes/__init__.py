"""Probes, blackbox_exporter-style: probe kinds as plugins (ICMP, SNMP, TCP, HTTP, DNS), sweeps, SNMP rates.

Entry points: ``probes.sweep.run_sweep`` / ``sweep_once``, ``probes.registry`` (kinds), the contract in
``probes.plugin``, the
vocabulary in ``probes.base`` and ``probes.rates.interface_rate``. Probes never touch a database.
"""
