"""Maintenance windows: when they are active and what they cover (pure), and their management."""
