"""Network-namespace lab with real agents (see tests/lab/netlab.py)."""
