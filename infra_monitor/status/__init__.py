"""Status: probe results → device states (UP/DOWN/UNREACHABLE/UNKNOWN/MAINTENANCE), problems, notifications.

``engine/`` is the pure logic (plain dataclasses in, plain dataclasses out; no database): ``states``, ``rules``
(one sweep → new statuses and transitions), ``topology``, ``flapping``, ``availability``, ``problems``,
``tree`` (regions at a date) and ``config``. ``store/`` persists it (``models``, ``sweeps`` applies a sweep,
``problems``, the event and problem listings). ``maintenance/`` holds the windows (``windows``: when active,
what they cover, pure) and their management (``manage``). ``notify/`` delivers notifications from an outbox.
"""
