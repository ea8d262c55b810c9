"""Lab fixtures for tests/lab itself, also when tests/conftest.py does not register the plugin."""

from tests.lab.fixtures import lab, lab_available, module_lab

__all__ = ["lab", "lab_available", "module_lab"]
