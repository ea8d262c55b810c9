"""Probe result storage: raw results, 5-minute and 1-hour rollups, latest state, counters, retention."""
