"""``python -m infra_monitor`` runs the command line."""

from infra_monitor.cli import main

if __name__ == "__main__":  # not when a child process (serve's poller) imports it as __mp_main__
    main()
