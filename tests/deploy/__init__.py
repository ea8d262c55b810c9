"""Deployment: systemd units, the reverse-proxy example, check-config, backup and restore."""
