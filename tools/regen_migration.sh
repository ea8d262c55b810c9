#!/usr/bin/env bash
# Regenerate the initial migration from the models (only while no release has shipped a schema).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f infra_monitor/migrations/versions/0001_*.py /tmp/regen.db
.venv/bin/python - <<'PY'
from alembic import command
from infra_monitor.db import alembic_config, make_engine
engine = make_engine("sqlite:////tmp/regen.db")
command.revision(alembic_config(engine), message="initial schema", autogenerate=True, rev_id="0001")
PY
f=$(ls infra_monitor/migrations/versions/0001_*.py)
[ "$f" = infra_monitor/migrations/versions/0001_initial_schema.py ] || mv "$f" infra_monitor/migrations/versions/0001_initial_schema.py
.venv/bin/ruff check --fix -q infra_monitor/migrations/versions/ || true
echo "wrote infra_monitor/migrations/versions/0001_initial_schema.py"
