"""Data files of the demo province (read with ``importlib.resources``; see ATTRIBUTION.md)."""
