"""The pure status engine: no database, no I/O (see :mod:`infra_monitor.status`)."""
