"""``python -m infra_monitor`` runs the command line."""

from infra_monitor.cli import main

main()
