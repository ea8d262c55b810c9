"""A district outage driven through real sweeps on the web test province (shared by the problems tests)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from infra_monitor.status.engine.config import StatusConfig
from infra_monitor.status.store.sweeps import apply_sweep
from tests.web.builders import Province

CONFIG = StatusConfig(retries=1)


def observe(p: Province, *failing: int) -> dict[int, bool | None]:
    obs: dict[int, bool | None] = {d: True for d in [p.core, *p.district_routers, *p.commune_routers,
                                                     *p.vc_devices]}
    obs.update(dict.fromkeys(failing, False))
    return obs


def behind(p: Province, index: int = 0) -> list[int]:
    """The communes' routers and codecs behind district router ``index`` (like ``Province.cut_district``)."""
    return [d for k, (rt, vc) in enumerate(zip(p.commune_routers, p.vc_devices, strict=True)) if k % 2 == index
            for d in (rt, vc)]


def sweep(p: Province, obs: dict[int, bool | None], minutes: int) -> None:
    with Session(p.engine) as session, session.begin():
        apply_sweep(session, obs, p.now + timedelta(minutes=minutes), CONFIG)


def outage(p: Province, index: int = 0, minutes: int = -5) -> None:
    """District router ``index`` fails with everything behind it (a problem opens)."""
    sweep(p, observe(p, p.district_routers[index], *behind(p, index)), minutes)
