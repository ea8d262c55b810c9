"""Status engine: turns probe results into device states (UP/DOWN/UNREACHABLE/UNKNOWN/MAINTENANCE).

Pure logic lives in ``states``, ``topology``, ``engine``, ``flapping``, ``maintenance`` and ``availability``
(plain dataclasses, no database); ``models`` and ``store`` persist it; ``notify`` delivers notifications.
"""
