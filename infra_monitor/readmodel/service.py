"""The read model's front door: :class:`ReadModel` runs the queries in a connection, keeps a short cache.

Pages, ``/api/status`` and the CLI all go through it. Aggregates over every site (overview, site lists)
are cached for ``cache_ttl_s`` seconds and dropped when a sweep finishes (the poller heartbeat, read at
most once a second, changes). While one request recomputes an expired entry, others are served the
previous value, so a burst of requests never recomputes the same aggregate twice. ``cache_ttl_s=0``
disables caching (CLI, tests).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from infra_monitor.config import Settings
from infra_monitor.readmodel import coverage as cov
from infra_monitor.readmodel import details as de
from infra_monitor.readmodel import inventory_lists as il
from infra_monitor.readmodel import lists as li
from infra_monitor.readmodel import overview as ov
from infra_monitor.readmodel import series as se
from infra_monitor.readmodel import sites as si
from infra_monitor.readmodel import vantages as va
from infra_monitor.readmodel.fmt import zone
from infra_monitor.readmodel.frame import DEV, SITE, SiteFilter, load_sites, site_ids
from infra_monitor.readmodel.schemas import (
    ConfigError,
    CoverageRow,
    DeviceDetail,
    Overview,
    Series,
    SiteDetail,
    SiteList,
)
from infra_monitor.storage.check_intervals import staleness
from inventory.dated import CHANGE, LINK, REGION, Regions, load_regions

log = logging.getLogger(__name__)
T = TypeVar("T")
REGIONS_TTL_S = 300.0
TOKEN_CHECK_S = 1.0


@dataclass
class _Entry:
    token: Any
    at: float
    value: Any


class TTLCache:
    """Values per key, valid while younger than ``ttl_s`` and computed under the same token."""

    def __init__(self, ttl_s: float, max_entries: int = 256) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._computing: set[Hashable] = set()
        self._lock = threading.Lock()

    def get(self, key: Hashable, token: Any, compute: Callable[[], T], ttl_s: float | None = None) -> T:
        if self.ttl_s <= 0:
            return compute()
        ttl = self.ttl_s if ttl_s is None else ttl_s
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.token == token and now - entry.at < ttl:
                return entry.value  # type: ignore[no-any-return]
            if entry is not None and key in self._computing:
                return entry.value  # type: ignore[no-any-return]
            self._computing.add(key)
        try:
            value = compute()
        finally:
            with self._lock:
                self._computing.discard(key)
        with self._lock:
            self._entries[key] = _Entry(token, time.monotonic(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class ReadModel:
    """Read-only queries over inventory, status and measurements for one engine and configuration."""

    def __init__(self, engine: Engine, settings: Settings, *, cache_ttl_s: float = 5.0,
                 token_check_s: float = TOKEN_CHECK_S, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.tz = zone(settings.general.timezone)
        self.cache = TTLCache(cache_ttl_s)
        self._clock = clock or (lambda: datetime.now(UTC))
        self.token_check_s = token_check_s
        self._last_token: tuple[float, Any] = (float("-inf"), None)
        self._last_regions_token: tuple[float, Any] = (float("-inf"), None)

    def now(self) -> datetime:
        return self._clock()

    def as_of(self, now: datetime | None = None) -> date:
        """Today in the configured time zone: the date whose administrative structure and plan apply."""
        return (now or self.now()).astimezone(self.tz).date()

    def _token(self) -> Any:
        """The heartbeat token, read from the database at most every ``token_check_s`` seconds."""
        if self.cache.ttl_s <= 0:
            return None
        now = time.monotonic()
        checked_at, token = self._last_token
        if now - checked_at < min(self.token_check_s, self.cache.ttl_s):
            return token
        with self.engine.connect() as conn:
            token = tuple(ov.heartbeat_token(conn))
        self._last_token = (now, token)
        return token

    def _cached(self, key: Hashable, compute: Callable[[], T]) -> T:
        return self.cache.get(key, self._token(), compute)

    def regions(self) -> Regions:
        """The administrative structure in force today, cached until regions, parent links or region changes
        (renames) change."""
        if self.cache.ttl_s <= 0:
            with self.engine.connect() as conn:
                return load_regions(conn, self.as_of())
        now = time.monotonic()
        checked_at, token = self._last_regions_token
        if now - checked_at >= self.token_check_s:
            with self.engine.connect() as conn:
                token = tuple(conn.execute(select(*(
                    select(agg).scalar_subquery() for agg in (func.count(REGION.id), func.max(REGION.last_updated),
                                                               func.count(LINK.id), func.max(LINK.last_updated),
                                                               func.count(CHANGE.id), func.max(CHANGE.last_updated))
                ))).one())
            self._last_regions_token = (now, token)

        def compute() -> Regions:
            with self.engine.connect() as conn:
                return load_regions(conn, self.as_of())
        return self.cache.get(("regions", self.as_of()), token, compute, ttl_s=REGIONS_TTL_S)

    def overview(self) -> Overview:
        def compute() -> Overview:
            started = time.perf_counter()
            now = self.now()
            with self.engine.connect() as conn:
                result = ov.overview(conn, self.settings, now, self.as_of(now), self.regions())
                result.vantage_disagreements = va.disagreements(conn, now, staleness(self.settings))
                result.freshness.poller_processes = va.poller_processes(conn, now)
            log.debug("event=overview_computed sites=%d ms=%.1f", result.sites.total,
                      (time.perf_counter() - started) * 1000)
            return result
        return self._cached(("overview",), compute)

    def sites(self, flt: SiteFilter, *, heartbeat: bool = False) -> SiteList:
        """A page of the site list; ``heartbeat``: with each row's 24-hour heartbeat bar (the HTML tables: one
        more query for the page, so only for a page a person reads)."""
        def compute() -> SiteList:
            with self.engine.connect() as conn:
                return si.list_sites(conn, flt, self.regions(), self.now() if heartbeat else None)
        return self._cached(("sites", flt, heartbeat), compute)

    def site_points(self, flt: SiteFilter) -> list[Any]:
        """Light rows (slug, name, state, latitude, longitude…) of every matching site, for the map."""
        def compute() -> list[Any]:
            with self.engine.connect() as conn:
                rows = load_sites(conn, replace(flt, state=None), self.regions())
            return [r for r in rows if not flt.state or r.state == flt.state]
        return self._cached(("points", flt), compute)

    def region_coverage(self, code: str, levels: tuple[str, ...]) -> list[CoverageRow]:
        """Coverage of a district's sites (no plan targets there), with availability and VC endpoints."""
        def compute() -> list[CoverageRow]:
            with self.engine.connect() as conn:
                return cov.coverage_of(conn, SiteFilter(district=code), self.regions(), self.now(), {}, levels)
        return self._cached(("region_coverage", code, levels), compute)

    def site(self, slug: str) -> SiteDetail | None:
        with self.engine.connect() as conn:
            return de.site_detail(conn, slug, self.now(), self.regions())

    def device(self, device_id: int) -> DeviceDetail | None:
        with self.engine.connect() as conn:
            detail = de.device_detail(conn, device_id, self.now(), self.regions())
            if detail is not None:
                detail.vantages = va.device_vantages(conn, device_id, self.now(), staleness(self.settings))
        if detail is not None:
            detail.config_errors = self.config_errors(device_id)
        return detail

    def config_errors(self, device_id: int) -> list[ConfigError]:
        """What the poller's target loading refuses for this device: the same rules, not a probe."""
        from sqlalchemy.orm import Session

        from infra_monitor.targets import load_targets

        with Session(self.engine) as session:
            idx = load_targets(session, poller_group=None, device_id=device_id, log_skipped=False)
        return [ConfigError(kind=s.kind, reason=s.reason) for s in idx.skipped]

    def site_series(self, site_id: int, metric: str, period: str, *, device_id: int | None = None,
                    circuit_id: int | None = None) -> Series:
        with self.engine.connect() as conn:
            return se.site_series(conn, site_id, metric, period, self.now(), device_id=device_id,
                                  circuit_id=circuit_id)

    def site_id(self, slug: str) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(select(SITE.id).where(SITE.slug == slug)).scalar_one_or_none()

    def device_name(self, device_id: int) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(DEV.name).where(DEV.id == device_id)).scalar_one_or_none()

    def device_series(self, device_id: int, name: str, metric: str, period: str) -> Series:
        with self.engine.connect() as conn:
            if metric == "util":
                return se.device_util_series(conn, device_id, period, self.now())
            return se.device_series(conn, device_id, metric, period, self.now(), subject=name)

    def events(self, limit: int = 100, before_id: int | None = None) -> list[ov.EventOut]:
        with self.engine.connect() as conn:
            return ov.events(conn, limit, before_id=before_id)

    def problems(self, flt: SiteFilter | None = None, limit: int = 100) -> tuple[list[ov.Problem], int]:
        """Problems everywhere, or at the sites of ``flt`` (a district's)."""
        with self.engine.connect() as conn:
            ids = site_ids(flt, self.regions()) if flt is not None else None
            return ov.problems(conn, limit, ids)

    def freshness(self) -> ov.Freshness:
        """Last sweeps and the stale verdict (cached like the aggregates; ages lag by at most the TTL)."""
        def compute() -> ov.Freshness:
            with self.engine.connect() as conn:
                return ov.freshness(conn, self.settings, self.now())
        return self._cached(("freshness",), compute)

    def devices(self, site_ids: set[int] | None = None) -> list[si.DeviceState]:
        with self.engine.connect() as conn:
            return si.all_devices(conn, site_ids)

    def inventory_list(self, kind: str, query: il.ListQuery) -> il.ListPage:
        """One page of an inventory list (``kind`` in :data:`inventory_lists.KINDS`); not cached: it is two
        queries and reflects writes at once."""
        with self.engine.connect() as conn:
            return il.LISTS[kind](conn, query, self.regions())

    def search(self, q: str, limit: int = 10) -> list[il.SearchGroup]:
        """Matches of ``q`` in every inventory kind (the header's search box)."""
        with self.engine.connect() as conn:
            return il.global_search(conn, q, self.regions(), limit)

    def circuits(self) -> list[li.CircuitListRow]:
        with self.engine.connect() as conn:
            return li.circuit_list(conn)

    def district_points(self) -> list[li.RegionPoint]:
        def compute() -> list[li.RegionPoint]:
            with self.engine.connect() as conn:
                return li.district_points(conn)
        return self._cached(("district_points",), compute)
