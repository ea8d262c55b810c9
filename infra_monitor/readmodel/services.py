"""Hosted services for the pages: a paged, filtered, sortable list and one service with its checks.

The list is two queries whatever the inventory's size (a ``COUNT`` and one page joined to device, site and
tenant); the states of the checks on the page come from :func:`check_states`, one more query for the whole
page, read through the probes' :mod:`infra_monitor.readmodel.checks`, and their availability over 24 hours and
30 days, one more query (:mod:`infra_monitor.readmodel.service_uptime`: from the checks' state intervals, with
the part of the window it stands on). A service without a measured check is ``unknown`` — never a state that
was not measured; one whose checks cannot be built (a configuration error, e.g. a record the probes refuse) is
``error`` with the reason target loading gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from infra_monitor.readmodel import checks
from infra_monitor.readmodel.schemas import HostedDown, HostedSummary
from infra_monitor.readmodel.service_uptime import combined_figures, service_figures
from infra_monitor.readmodel.uptime import Figure
from infra_monitor.storage.check_intervals import DEFAULT_GAP
from inventory.choices import ServiceStatusChoices
from inventory.models import Device, Service, Site, Tenant
from inventory.search import fold

SVC = Service.__table__.c  # type: ignore[attr-defined]
DEV = Device.__table__.c  # type: ignore[attr-defined]
SITE = Site.__table__.c  # type: ignore[attr-defined]
TENANT = Tenant.__table__.c  # type: ignore[attr-defined]
PER_PAGE_CHOICES = (25, 50, 100, 250)
DEFAULT_PER_PAGE = 50
SORTS: dict[str, Any] = {"name": SVC.name, "kind": SVC.kind, "device": DEV.name, "site": SITE.name,
                         "tenant": TENANT.name, "criticality": SVC.criticality, "status": SVC.status}
SERVICE_STATES = ("up", "down", "warning", "error", "unknown")


@dataclass(frozen=True)
class ServiceQuery:
    """What the operator asked for; every filter is optional and they combine with AND."""

    q: str | None = None
    kind: str | None = None
    status: str | None = None
    criticality: str | None = None
    tenant: str | None = None          # tenant slug
    site: str | None = None            # site slug
    device_id: int | None = None
    hosted: bool | None = None         # counts toward the plan's hosted systems
    sort: str = ""
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def offset(self) -> int:
        return (max(self.page, 1) - 1) * self.per_page


@dataclass(frozen=True)
class CheckView:
    """One check of a service as the page shows it (a port, the URL, the DNS query)."""

    key: str
    label: str
    state: str                    # up, down, warning, error or unknown
    error: str | None = None
    latency_ms: float | None = None
    checked_at: Any = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceRow:
    id: int
    name: str
    kind: str
    protocol: str
    target: str                   # ports, URL or DNS name: what is checked
    device_id: int
    device: str
    site: str
    site_slug: str
    tenant: str | None
    criticality: str
    status: str
    monitored: bool
    counts_toward: str | None
    state: str = "unknown"
    checks: tuple[CheckView, ...] = ()
    availability_24h: float | None = None      # % of the time with data for all its checks that all were up
    availability_24h_data_s: float = 0.0       # how much of the 24 hours that figure stands on
    availability_30d: float | None = None
    availability_30d_data_s: float = 0.0


@dataclass(frozen=True)
class ServicePage:
    count: int
    rows: list[ServiceRow]


@dataclass(frozen=True)
class ServiceDetail:
    row: ServiceRow
    description: str
    ports: list[Any]
    url: str
    expected_status: list[Any]
    expected_content: str
    dns_name: str
    dns_record_type: str
    dns_expected: list[Any]
    tls_expiry_warning_days: int
    tenant_slug: str | None
    device_monitored: bool
    custom_fields: dict[str, Any]
    problems: tuple[str, ...] = ()      # configuration errors: why its checks cannot run


def _target(kind: str, ports: Any, url: str, dns_name: str, record: str) -> str:
    if kind == "http":
        return url
    if kind == "dns":
        return f"{dns_name} {record}".strip()
    return ", ".join(str(p) for p in ports) if isinstance(ports, list) else ""


def _where(sq: ServiceQuery) -> ColumnElement[bool]:
    words = fold(sq.q or "").split()  # accent-insensitive: "cong thong tin" finds "Cổng thông tin"
    text = and_(*(or_(SVC.search_text.contains(w, autoescape=True), DEV.search_text.contains(w, autoescape=True),
                      TENANT.search_text.contains(w, autoescape=True))
                  for w in words)) if words else true()
    return and_(
        text,
        SVC.kind == sq.kind if sq.kind else true(),
        SVC.status == sq.status if sq.status else true(),
        SVC.criticality == sq.criticality if sq.criticality else true(),
        TENANT.slug == sq.tenant if sq.tenant else true(),
        SITE.slug == sq.site if sq.site else true(),
        SVC.device_id == sq.device_id if sq.device_id is not None else true(),
        (SVC.counts_toward.is_not(None) if sq.hosted else SVC.counts_toward.is_(None))
        if sq.hosted is not None else true(),
    )


def _joined(stmt: Any) -> Any:
    return (stmt.select_from(Service.__table__)  # type: ignore[attr-defined]
            .join(Device.__table__, DEV.id == SVC.device_id)  # type: ignore[attr-defined]
            .join(Site.__table__, SITE.id == DEV.site_id)  # type: ignore[attr-defined]
            .outerjoin(Tenant.__table__, TENANT.id == SVC.tenant_id))  # type: ignore[attr-defined]


_COLUMNS = (SVC.id, SVC.name, SVC.kind, SVC.protocol, SVC.ports, SVC.http_url, SVC.dns_name, SVC.dns_record_type,
            SVC.device_id, DEV.name.label("device"), SITE.name.label("site"), SITE.slug.label("site_slug"),
            TENANT.name.label("tenant"), SVC.criticality, SVC.status, SVC.monitoring_enabled, SVC.counts_toward)


def _row(r: Any) -> ServiceRow:
    return ServiceRow(id=r.id, name=r.name, kind=r.kind, protocol=r.protocol,
                      target=_target(r.kind, r.ports, r.http_url, r.dns_name, r.dns_record_type),
                      device_id=r.device_id, device=r.device, site=r.site, site_slug=r.site_slug, tenant=r.tenant,
                      criticality=r.criticality, status=r.status, monitored=bool(r.monitoring_enabled),
                      counts_toward=r.counts_toward)


def _with_availability(rows: list[ServiceRow], figures: dict[str, dict[int, Figure]]) -> list[ServiceRow]:
    out = []
    for r in rows:
        fields: dict[str, Any] = {}
        for period, per_service in figures.items():
            fig = per_service.get(r.id)
            fields[f"availability_{period}"] = fig.pct if fig else None
            fields[f"availability_{period}_data_s"] = fig.data_s if fig else 0.0
        out.append(replace(r, **fields))
    return out


def service_list(conn: Connection, sq: ServiceQuery, stale_before: datetime | None = None, *,
                 now: datetime | None = None, max_gap: timedelta = DEFAULT_GAP) -> ServicePage:
    """One page of services with the state of their checks and their availability (four queries)."""
    where = _where(sq)
    count = int(conn.execute(_joined(select(func.count())).where(where)).scalar_one())
    key = sq.sort.removeprefix("-")
    column = SORTS.get(key)
    order = ([column.desc() if sq.sort.startswith("-") else column.asc()] if column is not None
             else [SITE.name, DEV.name, SVC.name])
    rows = [_row(r) for r in conn.execute(_joined(select(*_COLUMNS)).where(where).order_by(*order, SVC.id)
                                          .limit(sq.per_page).offset(sq.offset))]
    ids = [r.id for r in rows]
    states = check_states(conn, ids, stale_before)
    figures = service_figures(conn, ids, now or datetime.now(UTC), max_gap=max_gap)
    return ServicePage(count, _with_availability([_with_checks(r, states.get(r.id, ())) for r in rows], figures))


def service_detail(conn: Connection, service_id: int, stale_before: datetime | None = None, *,
                   now: datetime | None = None, max_gap: timedelta = DEFAULT_GAP) -> ServiceDetail | None:
    """One service with every field the page shows, its checks and its availability, or None when it does not
    exist."""
    r = conn.execute(_joined(select(*_COLUMNS, SVC.description, SVC.expected_status, SVC.expected_content,
                                    SVC.dns_expected, SVC.tls_expiry_warning_days, SVC.custom_fields,
                                    TENANT.slug.label("tenant_slug"),
                                    DEV.monitoring_enabled.label("device_monitored")))
                     .where(SVC.id == service_id)).first()
    if r is None:
        return None
    row = _with_checks(_row(r), check_states(conn, [service_id], stale_before).get(service_id, ()))
    row = _with_availability([row], service_figures(conn, [service_id], now or datetime.now(UTC), max_gap=max_gap))[0]
    checked = row.status == ServiceStatusChoices.ACTIVE and row.monitored and bool(r.device_monitored)
    problems = tuple(configuration_errors(conn, r.device_id, r.name)) if checked else ()
    if problems:
        row = replace(row, state="error")
    return ServiceDetail(row=row, description=r.description, ports=list(r.ports or []), url=r.http_url,
                         expected_status=list(r.expected_status or []), expected_content=r.expected_content,
                         dns_name=r.dns_name, dns_record_type=r.dns_record_type,
                         dns_expected=list(r.dns_expected or []), tls_expiry_warning_days=r.tls_expiry_warning_days,
                         tenant_slug=r.tenant_slug, device_monitored=bool(r.device_monitored),
                         custom_fields=dict(r.custom_fields or {}), problems=problems)


@dataclass(frozen=True)
class HostedFigures:
    """The plan's "systems hosted in the data center" (services counting toward ``hosted_systems``).

    ``monitored``: active services with monitoring on, on a monitored device; ``up``/``down``/``unknown``
    split the monitored ones by the state of their checks (``unknown``: no measured check).
    ``availability_pct`` (24 hours) and ``availability_30d_pct``: the monitored services together, service-time
    weighted, from their checks' state intervals (:mod:`infra_monitor.readmodel.service_uptime`); ``…_data_s``:
    the counted time per monitored service, on average (how much of the window the figure stands on); None
    when nothing was counted.
    """

    inventoried: int
    monitored: int
    up: int
    down: int
    unknown: int
    target: int | None = None
    availability_pct: float | None = None
    availability_data_s: float = 0.0
    availability_30d_pct: float | None = None
    availability_30d_data_s: float = 0.0
    down_services: tuple[tuple[int, str], ...] = ()   # (id, name) of the monitored ones down or misconfigured now


def hosted_figures(conn: Connection, target: int | None = None, stale_before: datetime | None = None, *,
                   now: datetime | None = None, max_gap: timedelta = DEFAULT_GAP) -> HostedFigures:
    """Counts of the hosted systems, their states now and their availability: three queries (the services, their
    check states, their checks' state intervals)."""
    rows = conn.execute(_joined(select(SVC.id, SVC.name, SVC.status, SVC.monitoring_enabled,
                                       DEV.monitoring_enabled.label("device_monitored")))
                        .where(SVC.counts_toward == "hosted_systems")).all()
    monitored = [r.id for r in rows if r.status == ServiceStatusChoices.ACTIVE and r.monitoring_enabled
                 and r.device_monitored]
    names = {r.id: r.name for r in rows}
    states = check_states(conn, monitored, stale_before)
    verdicts = [service_state(states.get(i, ())) for i in monitored]
    down = sum(1 for v in verdicts if v in ("down", "error"))
    up = sum(1 for v in verdicts if v in ("up", "warning"))
    figs = combined_figures(conn, monitored, now or datetime.now(UTC), max_gap=max_gap)
    return HostedFigures(inventoried=len(rows), monitored=len(monitored), up=up, down=down,
                         unknown=len(monitored) - up - down, target=target,
                         availability_pct=figs["24h"].pct, availability_data_s=figs["24h"].data_s,
                         availability_30d_pct=figs["30d"].pct, availability_30d_data_s=figs["30d"].data_s,
                         down_services=tuple(sorted(((i, names[i]) for i, v in zip(monitored, verdicts, strict=True)
                                                     if v in ("down", "error")), key=lambda x: (x[1], x[0]))))


HOSTED_DOWN_SHOWN = 10


def hosted_summary(conn: Connection, settings: Any, now: datetime) -> HostedSummary:
    """The hosted systems for the overview (three queries): :func:`hosted_figures` at the pages' staleness."""
    from infra_monitor.storage.check_intervals import staleness

    figs = hosted_figures(conn, stale_before=stale_limit(settings, now), now=now, max_gap=staleness(settings))
    return HostedSummary(inventoried=figs.inventoried, monitored=figs.monitored, up=figs.up, down=figs.down,
                         unknown=figs.unknown, availability_24h=figs.availability_pct,
                         availability_24h_data_s=figs.availability_data_s,
                         down_services=[HostedDown(id=i, name=n) for i, n in figs.down_services[:HOSTED_DOWN_SHOWN]])


def stale_limit(settings: Any, now: datetime) -> datetime:
    """Results older than this are not a current state: the pages' staleness, at least two probe intervals."""
    intervals = [cfg.interval_s for _k, cfg in settings.probes if cfg.enabled] or [0]
    return now - timedelta(seconds=max(settings.web.stale_after_s, 2 * max(intervals)))


def services_of_device(conn: Connection, device_id: int) -> list[ServiceRow]:
    """Every service of one device (for the device page's link list)."""
    return service_list(conn, ServiceQuery(device_id=device_id, per_page=max(PER_PAGE_CHOICES))).rows


def _with_checks(row: ServiceRow, views: tuple[CheckView, ...]) -> ServiceRow:
    if row.status != ServiceStatusChoices.ACTIVE or not row.monitored:
        return replace(row, state="unknown", checks=views)
    return replace(row, state=service_state(views), checks=views)


def service_state(checks: tuple[CheckView, ...] | list[CheckView]) -> str:
    """The service's state from its checks: down if any is down, error if one cannot run (configuration),
    warning (e.g. a certificate expiring), up when all are up; unknown without a measured check."""
    states = {c.state for c in checks}
    for state in ("down", "error", "warning"):
        if state in states:
            return state
    return "up" if states == {"up"} else "unknown"


# --- the probes' checks (infra_monitor.readmodel.checks, /work/briefs/checks-contract.md) ----------------

def check_states(conn: Connection, service_ids: list[int],
                 stale_before: datetime | None = None) -> dict[int, tuple[CheckView, ...]]:
    """The latest state of every check of ``service_ids`` (one query), keyed by service id. A result older
    than ``stale_before`` is ``unknown``; an up check carrying a warning (a TLS certificate expiring) is
    ``warning``."""
    if not service_ids:
        return {}
    out: dict[int, list[CheckView]] = {}
    for c in checks.latest_checks(conn, service_ids=service_ids, stale_before=stale_before):
        if c.service_id is None:
            continue
        state = {"up": "up", "down": "down"}.get(c.state, "unknown")
        warning = (c.info or {}).get("warning")
        if state == "up" and warning:
            state = "warning"
        out.setdefault(c.service_id, []).append(CheckView(
            key=c.check_key, label=_check_label(c.check_key), state=state, error=c.error or warning or None,
            latency_ms=c.rtt_ms, checked_at=c.at, details={**(c.measurements or {}), **(c.info or {})}))
    return {k: tuple(v) for k, v in out.items()}


def _check_label(key: str) -> str:
    """``service:12:tcp:443`` → ``tcp:443``; ``service:4:http`` → ``http``."""
    parts = key.split(":", 2)
    return parts[2] if len(parts) == 3 and parts[0] == "service" else key


def configuration_errors(conn: Connection, device_id: int, service_name: str) -> list[str]:
    """Why the probes cannot build this service's checks (a configuration error), from target loading."""
    from infra_monitor.targets import load_targets

    prefix = f"service {service_name!r}"
    with Session(bind=conn) as session:
        skipped = load_targets(session, poller_group=None, device_id=device_id, log_skipped=False).skipped
    return [s.reason for s in skipped if s.reason.startswith(prefix)]
