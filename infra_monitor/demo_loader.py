"""Loading the demo province into an empty inventory (``infra-monitor init --demo``)."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from infra_monitor.db import write_session
from inventory.changelog import change_context
from inventory.importer import import_document
from inventory.models import Site

log = logging.getLogger(__name__)

DEMO_ACTOR = "init --demo"


class DemoLoadError(RuntimeError):
    """The demo document did not import (a bug in the demo data): the lines say what is wrong."""


def load_demo_if_empty(engine: Engine) -> bool:
    """Import :func:`inventory.demo.build_demo_document` when there are no sites; return whether it did."""
    from inventory.demo import build_demo_document

    with write_session(engine, expire_on_commit=False) as session:
        if session.scalar(select(func.count()).select_from(Site)):
            log.info("event=demo_skipped reason=inventory_not_empty")
            return False
        with change_context(DEMO_ACTOR):
            report = import_document(session, build_demo_document(), source="demo province")
    if not report.ok:
        raise DemoLoadError("\n".join(str(e) for e in report.errors))
    log.info("event=demo_loaded created=%d seconds=%.2f", report.total("created"), report.seconds)
    return True
