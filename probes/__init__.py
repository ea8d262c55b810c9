"""Probes, blackbox_exporter-style: ICMP, SNMP, TCP and HTTP probers, sweeps and SNMP rate arithmetic.

Entry points: ``probes.sweep.run_sweep`` / ``sweep_once``, ``probes.registry.get_prober``, the
vocabulary in ``probes.base`` and ``probes.rates.interface_rate``. Probes never touch a database.
"""
