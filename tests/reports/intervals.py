"""A hand-built day for the report tests: exact state intervals, a maintenance window, uplinks and traffic.

The province of :class:`tests.web.builders.Province` with four communes (0 and 2 under district 213, 1 and 3
under district 215), plus a second data-center router and two uplinks into the data center (VNPT on
dc-core-01, Viettel on dc-core-02). The period is the local day 01/03/2026, i.e. [2026-02-28T17:00Z,
2026-03-01T17:00Z); ``h(x)`` is ``x`` hours into it. Every expected figure in the tests is computed by hand
from the table below.

=============  ========================================================================================
device         intervals (hours into the period; ``None`` = still open)
=============  ========================================================================================
dc-core-01     UP -48 → None
dc-core-02     UP -48 → 6, DOWN 6 → 6.25, UP 6.25 → None; maintenance window 14 → 15 (after the fact)
d213-rt        UP -48 → 2, DOWN 2 → 3, UP 3 → None                       (crosses the period start)
d215-rt        UP -48 → None
xa-000-rt      UP -48 → 2, UNREACHABLE(d213) 2 → 3, UP 3 → 10, DOWN 10 → 10.5, UP 10.5 → None
xa-001-rt      UP -48 → 5, DOWN 5 → 8, UP 8 → None; maintenance window 7 → 9 overlapping the outage
xa-002-rt      UP -48 → 2, UNREACHABLE(d213) 2 → 3, UP 3 → None
xa-002-vc      UP -48 → 20, DOWN 20 → None                               (outage open at the end)
xa-003-rt/vc   created mid-period: UP 12 → None                          (no data before)
other codecs   UP -48 → None
=============  ========================================================================================

Traffic on xa-000's circuit (Z interface), 288 five-minute buckets: in = k × 300 kbit/s (k = 1…288), out
constant 10 Mbit/s, committed 100 Mbit/s.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from infra_monitor.status.store.models import MaintenanceWindowRow, StateIntervalRow
from infra_monitor.storage.models import InterfaceRollup
from inventory.models import Circuit, CircuitTermination, Device, Interface, Provider, Site
from tests.web.builders import Province

START = datetime(2026, 2, 28, 17, 0, tzinfo=UTC)
END = START + timedelta(days=1)
NOW = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)
H = 3600


def h(x: float) -> datetime:
    return START + timedelta(hours=x)


class Day:
    """Ids of the hand-built day."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.p = Province.build(engine, communes=4, now=NOW)
        with engine.begin() as conn:
            self.core2 = self._device(conn, "dc-core-02")
            viettel = conn.execute(insert(Provider).values(slug="viettel", name="Viettel",
                                                           created=NOW, last_updated=NOW)).inserted_primary_key[0]
            self.uplinks = [self._uplink(conn, "VNPT-INET-01", 1, self.p.core),
                            self._uplink(conn, "VTL-INET-01", viettel, self.core2)]
        p = self.p
        self.d0, self.d1 = p.district_routers
        self.r = p.commune_routers
        self.vc = p.vc_devices
        up = ("up", "none", None)
        rows: list[tuple[int, str, str, int | None, float, float | None]] = [
            (p.core, *up, -48, None),
            (self.core2, *up, -48, 6), (self.core2, "down", "own_failure", None, 6, 6.25),
            (self.core2, *up, 6.25, None),
            (self.d0, *up, -48, 2), (self.d0, "down", "own_failure", None, 2, 3), (self.d0, *up, 3, None),
            (self.d1, *up, -48, None),
            (self.r[0], *up, -48, 2), (self.r[0], "unreachable", "parent_unreachable", self.d0, 2, 3),
            (self.r[0], *up, 3, 10), (self.r[0], "down", "own_failure", None, 10, 10.5), (self.r[0], *up, 10.5, None),
            (self.r[1], *up, -48, 5), (self.r[1], "down", "own_failure", None, 5, 8), (self.r[1], *up, 8, None),
            (self.r[2], *up, -48, 2), (self.r[2], "unreachable", "parent_unreachable", self.d0, 2, 3),
            (self.r[2], *up, 3, None),
            (self.vc[2], *up, -48, 20), (self.vc[2], "down", "own_failure", None, 20, None),
            (self.r[3], *up, 12, None), (self.vc[3], *up, 12, None),
            (self.vc[0], *up, -48, None), (self.vc[1], *up, -48, None),
        ]
        with engine.begin() as conn:
            conn.execute(insert(StateIntervalRow), [
                {"device_id": d, "state": s, "cause": c, "root_cause_device_id": root, "start": h(a),
                 "end": None if b is None else h(b)} for d, s, c, root, a, b in rows])
            for name, scope, a, b in (("Bảo trì xa-001", self.r[1], 7, 9), ("Bảo trì dc-core-02", self.core2, 14, 15)):
                conn.execute(insert(MaintenanceWindowRow).values(
                    name=name, scope_type="device", scope_id=scope, kind="one_off", start=h(a), end=h(b),
                    days=[], tz="Asia/Ho_Chi_Minh", created_at=NOW, start_time=None if a else time(0)))
            iface = p.commune_interfaces[0]
            conn.execute(insert(InterfaceRollup), [
                {"resolution": 300, "interface_id": iface, "bucket": START + timedelta(minutes=5 * (k - 1)), "n": 1,
                 "in_bps_sum": k * 300_000.0, "in_bps_max": k * 300_000.0, "out_bps_sum": 10e6, "out_bps_max": 10e6,
                 "util_max_pct": k * 0.3, "errors": 0} for k in range(1, 289)])

    def _device(self, conn, name: str) -> int:  # type: ignore[no-untyped-def]
        core = conn.execute(select(Device.__table__).where(Device.id == self.p.core)).one()  # type: ignore[attr-defined]
        return int(conn.execute(insert(Device).values(
            site_id=core.site_id, name=name, role_id=core.role_id, status="active", monitoring_enabled=True,
            poller_group="default", serial="SN-CORE-02", search_text=name, created=NOW, last_updated=NOW,
            custom_fields={}, tags=[], description="")).inserted_primary_key[0])

    def _uplink(self, conn, cid: str, provider: int, device: int) -> int:  # type: ignore[no-untyped-def]
        site = conn.execute(select(Site.id).where(Site.category == "datacenter")).scalar_one()
        c = conn.execute(insert(Circuit).values(provider_id=provider, cid=cid, type_id=1, status="active",
                                                commit_rate_kbps=1_000_000, search_text=cid, created=NOW,
                                                last_updated=NOW, custom_fields={}, tags=[],
                                                description="")).inserted_primary_key[0]
        i = conn.execute(insert(Interface).values(device_id=device, name=f"Te0/1/{c}", type="10gbase-x-sfpp",
                                                  created=NOW, last_updated=NOW)).inserted_primary_key[0]
        conn.execute(insert(CircuitTermination).values(circuit_id=c, term_side="Z", site_id=site, device_id=device,
                                                       interface_id=i, created=NOW, last_updated=NOW))
        return int(c)
