"""infra-monitor: inventory, probes, status and coverage reports for a provincial e-government network."""

__version__ = "0.1.0"
