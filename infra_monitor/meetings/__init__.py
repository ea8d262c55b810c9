"""Videoconference meetings and their readiness checks (issue 13, point 2).

``models`` (the tables), ``rules`` (validation of a meeting), ``readiness`` (pure: facts of each room → verdict
and what changed since the previous check), ``participants`` (who takes part, resolved against the inventory
at check time), ``facts`` (the path to each room from the status engine and the latest rollups), ``probing``
(the kinds' probers through the registry, with deadlines), ``store`` (running, storing and notifying a check),
``schedule`` (which lead-time sweeps are due), ``manage`` (create/update/list meetings for CLI, API and pages).
"""
