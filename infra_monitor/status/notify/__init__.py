"""Notifications: grouping and filtering (``dispatcher``), delivery channels (``webhook``, ``email``) and the
outbox worker (``worker``) that delivers them with retries, outside the probe path."""
