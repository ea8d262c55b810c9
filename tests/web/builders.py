"""Builds a small province straight into a database for the status-page tests (rows, not mocks).

``Province.build(engine, communes=N)`` creates the province region, two districts, a data center with a
core router, a router at each district site, and N commune sites (router + videoconference codec behind
it), circuits DC→district→commune, device statuses (all UP), fresh poller heartbeats and the plan's
coverage targets. Helpers then change states the way the status engine would write them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, text, update
from sqlalchemy.engine import Engine

from infra_monitor.db import import_all_models
from infra_monitor.status.store.models import DeviceStatusRow, EventRow, PollerHeartbeatRow, StateIntervalRow
from infra_monitor.storage.models import InterfaceRollup, LatestResult, Rollup
from inventory.models import (
    Circuit,
    CircuitTermination,
    CircuitType,
    CoverageTarget,
    Device,
    DeviceRole,
    Interface,
    IPAddress,
    Provider,
    Region,
    RegionParentLink,
    Site,
    VideoconferenceEndpoint,
)
from inventory.search import fold

HOSTILE = "<script>alert(1)</script>"


def create_schema(engine: Engine) -> None:
    import_all_models().metadata.create_all(engine)


class _Rows:
    """Rows per table with explicit ids, inserted in dependency order by :meth:`Province.build`."""

    def __init__(self) -> None:
        self.data: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.ids: dict[str, int] = defaultdict(int)

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def add(self, table: str, **values: Any) -> int:
        if table == "device_status":
            self.data[table].append(values)
            return int(values["device_id"])
        if table == "region":  # what the search hook would have written (Core inserts bypass it)
            values.setdefault("search_text", fold(" ".join(str(values.get(k) or "") for k in ("code", "name", "slug"))))
        values.setdefault("id", self.next_id(table))
        self.data[table].append(values)
        return int(values["id"])


@dataclass
class Province:
    """Ids of what :meth:`build` created, and helpers that write status rows."""

    engine: Engine
    now: datetime
    dc_site: int = 0
    core: int = 0
    districts: list[str] = field(default_factory=list)         # region codes
    district_routers: list[int] = field(default_factory=list)
    commune_sites: list[str] = field(default_factory=list)     # slugs
    commune_routers: list[int] = field(default_factory=list)
    vc_devices: list[int] = field(default_factory=list)
    commune_circuits: list[int] = field(default_factory=list)
    commune_interfaces: list[int] = field(default_factory=list)

    @classmethod
    def build(cls, engine: Engine, communes: int = 10, now: datetime | None = None,
              names: list[str] | None = None) -> Province:
        """Create the schema and the province (Core bulk inserts: fast, no change-log noise)."""
        create_schema(engine)
        p = cls(engine=engine, now=now or datetime.now(UTC).replace(microsecond=0))
        rows = _Rows()
        p._build(rows, communes, names or [])
        with engine.begin() as conn:
            for model in (Region, RegionParentLink, DeviceRole, Provider, CircuitType, Site, Device, Interface,
                          IPAddress, DeviceStatusRow, Circuit, CircuitTermination, VideoconferenceEndpoint,
                          CoverageTarget):
                table = model.__table__  # type: ignore[attr-defined]
                if rows.data[table.name]:
                    conn.execute(insert(table), rows.data[table.name])
                    if conn.dialect.name == "postgresql" and "id" in table.c and table.name in rows.ids:
                        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                          f"{rows.ids[table.name]})"))
        p.heartbeat()
        p.retally()
        return p

    def _device(self, rows: _Rows, site: int, name: str, role: int, parent: int | None = None) -> int:
        d = rows.next_id("device")
        lo = rows.add("interface", device_id=d, name="Loopback0", type="virtual", speed_kbps=None)
        host = f"127.60.{lo // 250}.{lo % 250 + 1}"
        ip = rows.add("ip_address", address=f"{host}/32", host=host, interface_id=lo)
        rows.add("device", id=d, site_id=site, name=name, role_id=role, parent_id=parent, primary_ip_id=ip,
                 search_text=fold(name))
        since = self.now - timedelta(days=40)
        rows.add("device_status", device_id=d, state="up", hard=True, since=since, cause="none", hard_state="up",
                 hard_since=since, last_check_at=self.now)
        return d

    def _circuit(self, rows: _Rows, cid: str, a: tuple[int, int], z: tuple[int, int], kbps: int) -> tuple[int, int]:
        """Circuit from device ``a`` to device ``z`` (each given as (site, device)); returns (circuit, Z interface)."""
        c = rows.add("circuit", provider_id=1, cid=cid, type_id=1, commit_rate_kbps=kbps, search_text=fold(cid))
        a_if = rows.add("interface", device_id=a[1], name=f"Gi0/0/0.{c}", type="1000base-t", speed_kbps=1_000_000)
        z_if = rows.add("interface", device_id=z[1], name="Gi0/0/0", type="1000base-t", speed_kbps=1_000_000)
        rows.add("circuit_termination", circuit_id=c, term_side="A", site_id=a[0], device_id=a[1], interface_id=a_if)
        rows.add("circuit_termination", circuit_id=c, term_side="Z", site_id=z[0], device_id=z[1], interface_id=z_if)
        return c, z_if

    def _site(self, rows: _Rows, slug: str, name: str, category: str, region: int, lat: float, lon: float) -> int:
        return rows.add("site", slug=slug, name=name, category=category, region_id=region, latitude=lat,
                        longitude=lon, search_text=fold(f"{slug} {name}"))

    def _build(self, rows: _Rows, communes: int, names: list[str]) -> None:
        router = rows.add("device_role", slug="router", name="Router")
        codec = rows.add("device_role", slug="vc", name="VC codec")
        rows.add("provider", slug="vnpt", name="VNPT")
        rows.add("circuit_type", slug="tslcd", name="TSLCD")
        province = rows.add("region", code="24", name="Tỉnh Bắc Giang", slug="bac-giang", level="province",
                            latitude=21.3, longitude=106.6)
        self.dc_site = self._site(rows, "dc", "Trung tâm tích hợp dữ liệu tỉnh", "datacenter", province, 21.28, 106.2)
        self.core = self._device(rows, self.dc_site, "dc-core-01", router)
        district_devs = []
        for i, (code, name, lat) in enumerate((("213", "Thành phố Bắc Giang", 21.29), ("215", "Huyện Yên Thế", 21.51))):
            reg = rows.add("region", code=code, name=name, slug=f"d-{code}", level="district", latitude=lat,
                           longitude=106.1)
            rows.add("region_parent_link", region_id=reg, parent_id=province)
            site = self._site(rows, f"ubnd-{code}", f"UBND {name}", "district", reg, lat, 106.1 + i * 0.05)
            dev = self._device(rows, site, f"d{code}-rt", router)
            self._circuit(rows, f"TSLCD-{code}", (self.dc_site, self.core), (site, dev), 1_000_000)
            self.districts.append(code)
            self.district_routers.append(dev)
            district_devs.append((reg, site, dev))
        for k in range(communes):
            reg_d, site_d, dev_d = district_devs[k % 2]
            name = names[k] if k < len(names) else f"UBND xã Tân Sỏi {k:03d}"
            creg = rows.add("region", code=f"07{k:03d}", name=f"Xã {k:03d}", slug=f"x-{k:03d}", level="commune",
                            latitude=None, longitude=None)
            rows.add("region_parent_link", region_id=creg, parent_id=reg_d)
            site = self._site(rows, f"xa-{k:03d}", name, "commune", creg, 21.2 + (k % 20) * 0.02,
                              106.0 + (k // 20) * 0.03)
            rt = self._device(rows, site, f"xa-{k:03d}-rt", router)
            vc = self._device(rows, site, f"xa-{k:03d}-vc", codec, parent=rt)
            rows.add("vc_endpoint", device_id=vc, protocol="sip", uri=f"sip:xa{k}@mcu", room="Phòng họp")
            cid, z_if = self._circuit(rows, f"TSLCD-07{k:03d}", (site_d, dev_d), (site, rt), 100_000)
            self.commune_sites.append(f"xa-{k:03d}")
            self.commune_routers.append(rt)
            self.vc_devices.append(vc)
            self.commune_circuits.append(cid)
            self.commune_interfaces.append(z_if)
        for category, target in (("department", 22), ("district", 10), ("commune", 230)):
            rows.add("coverage_target", plan="KH-59-2019", category=category, target=target,
                     valid_from=date(2019, 3, 29), valid_to=None)

    # --- what the status engine and the pollers would write -------------------------------------------------

    def set_state(self, device_id: int, state: str, *, cause: str = "own_failure", root: int | None = None,
                  since: datetime | None = None, hard: bool = True, flapping: bool = False) -> None:
        since = since or self.now - timedelta(minutes=10)
        values = {"state": state, "hard": hard, "since": since, "cause": cause, "root_cause_device_id": root,
                  "flapping": flapping, "updated_at": self.now}
        if hard:
            values.update(hard_state=state, hard_since=since)
        with self.engine.begin() as conn:
            conn.execute(update(DeviceStatusRow).where(DeviceStatusRow.device_id == device_id).values(**values))
        self.retally()

    def retally(self) -> None:
        """What every applied sweep does after writing statuses: the stored site tallies follow them."""
        from sqlalchemy.orm import Session

        from infra_monitor.status.store.site_tally import refresh_site_tally

        with Session(self.engine) as session, session.begin():
            refresh_site_tally(session, (), self.now, full=True)

    def cut_district(self, index: int = 0) -> None:
        """District router ``index`` DOWN; the communes behind it (and their codecs) UNREACHABLE."""
        root = self.district_routers[index]
        self.set_state(root, "down")
        for k, (rt, vc) in enumerate(zip(self.commune_routers, self.vc_devices, strict=True)):
            if k % 2 == index:
                self.set_state(rt, "unreachable", cause="parent_unreachable", root=root)
                self.set_state(vc, "unreachable", cause="parent_unreachable", root=root)

    def heartbeat(self, age_s: float = 20, kinds: tuple[str, ...] = ("icmp", "snmp")) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(PollerHeartbeatRow))
            for kind in kinds:
                conn.execute(PollerHeartbeatRow.__table__.insert().values(  # type: ignore[attr-defined]
                    poller_group="default", kind=kind, last_sweep_started=self.now - timedelta(seconds=age_s + 5),
                    last_sweep_finished=self.now - timedelta(seconds=age_s), targets=10))

    def event(self, device_id: int, old: str, new: str, *, cause: str = "own_failure", minutes_ago: int = 5,
              message: str = "") -> None:
        with self.engine.begin() as conn:
            conn.execute(EventRow.__table__.insert().values(  # type: ignore[attr-defined]
                time=self.now - timedelta(minutes=minutes_ago), kind="state_change", device_id=device_id,
                severity="critical" if new == "down" else "info", old_state=old, new_state=new, cause=cause,
                message=message, details={}))

    def intervals(self, device_ids: list[int], *, down_minutes: int = 0) -> None:
        """UP for 40 days, then (when ``down_minutes``) DOWN for the last ``down_minutes`` minutes."""
        start, cut = self.now - timedelta(days=40), self.now - timedelta(minutes=down_minutes)
        with self.engine.begin() as conn:
            for d in device_ids:
                conn.execute(StateIntervalRow.__table__.insert().values(  # type: ignore[attr-defined]
                    device_id=d, state="up", cause="none", start=start, end=cut if down_minutes else None))
                if down_minutes:
                    conn.execute(StateIntervalRow.__table__.insert().values(  # type: ignore[attr-defined]
                        device_id=d, state="down", cause="own_failure", start=cut, end=None))

    def measurements(self, device_ids: list[int], hours: int = 24, rtt: float = 12.5) -> None:
        """5-minute RTT rollups over the last ``hours`` plus a latest result per device."""
        end = self.now.replace(minute=self.now.minute - self.now.minute % 5, second=0)
        rows = []
        for d in device_ids:
            for i in range(hours * 12):
                rows.append({"resolution": 300, "device_id": d, "kind": "icmp",
                             "bucket": end - timedelta(minutes=5 * i), "count": 5, "successes": 5,
                             "rtt_min_ms": rtt - 2, "rtt_max_ms": rtt + 5 + i % 7,
                             "rtt_sum_ms": rtt * 5, "rtt_n": 5, "loss_sum_pct": 0.0, "loss_n": 5})
        with self.engine.begin() as conn:
            if rows:
                conn.execute(Rollup.__table__.insert(), rows)  # type: ignore[attr-defined]
            for d in device_ids:
                conn.execute(LatestResult.__table__.insert().values(  # type: ignore[attr-defined]
                    device_id=d, kind="icmp", ts=self.now, success=True, rtt_avg_ms=rtt, loss_pct=0.0))

    def traffic(self, interface_ids: list[int], bps: float = 40e6, hours: int = 2) -> None:
        end = self.now.replace(minute=self.now.minute - self.now.minute % 5, second=0)
        rows = [{"resolution": 300, "interface_id": i, "bucket": end - timedelta(minutes=5 * k), "n": 1,
                 "in_bps_sum": bps, "in_bps_max": bps, "out_bps_sum": bps / 4, "out_bps_max": bps / 4,
                 "util_max_pct": bps / 1e6}
                for i in interface_ids for k in range(hours * 12)]
        with self.engine.begin() as conn:
            conn.execute(InterfaceRollup.__table__.insert(), rows)  # type: ignore[attr-defined]
