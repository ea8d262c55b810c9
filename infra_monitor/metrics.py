"""Prometheus metrics: probe results and device states from the database, and the monitor's own health.

Everything is collected at scrape time by one :class:`MonitorCollector` (a prometheus-client custom
collector), so a scrape always describes what the database holds now and no counter has to be kept in step
with it. Probe series carry the labels operators filter on: ``device``, ``site``, ``level`` (the site's
category), ``district``, ``kind`` and ``check`` (the check key: ``icmp``, ``service:12:tcp:443``…; one series per
check); ``infra_monitor_probe_measurement`` carries every other measurement a kind stores (``name`` label:
HTTP ``status_code``, ``tls_expiry_days``, DNS ``answers``…). The monitor's health comes from the poller
heartbeats (sweep duration, targets, overruns per poller group and kind), the notification outbox (pending
and failed messages) and, for pollers running in this process (``serve``), their in-memory write backlog and
sweep counters.

A result older than ``max(web.stale_after_s, 2 × the kind's interval)`` is not exported: a series that stops
is what Prometheus expects from a target that is gone, not a frozen last value.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection, Engine

from infra_monitor.config import Settings
from infra_monitor.readmodel.fmt import zone
from infra_monitor.readmodel.frame import DEV, DS, SITE, monitored
from infra_monitor.status.store.models import DeviceStatusRow, NotificationRow, PollerHeartbeatRow
from infra_monitor.storage.models import InterfaceRollup, LatestResult
from inventory.dated import Regions, load_regions
from inventory.models import Circuit, CircuitTermination, Device, Interface, Provider

LR = LatestResult.__table__.c  # type: ignore[attr-defined]
HB = PollerHeartbeatRow.__table__.c  # type: ignore[attr-defined]
NOTE = NotificationRow.__table__.c  # type: ignore[attr-defined]
IR = InterfaceRollup.__table__.c  # type: ignore[attr-defined]
IFACE = Interface.__table__.c  # type: ignore[attr-defined]
CIRCUIT = Circuit.__table__.c  # type: ignore[attr-defined]
TERM = CircuitTermination.__table__.c  # type: ignore[attr-defined]
PROV = Provider.__table__.c  # type: ignore[attr-defined]
STATES = ("up", "down", "unreachable", "maintenance", "unknown")
DEVICE_LABELS = ["device", "site", "level", "district"]
PROBE_LABELS = [*DEVICE_LABELS, "kind", "check"]
UTIL_WINDOW = timedelta(minutes=15)


class PollerFigures(Protocol):
    """What a poller in this process tells the scrape (see ``infra_monitor.scheduler.Poller``)."""

    settings: Settings

    def runtime_figures(self) -> dict[str, Any]: ...


_pollers: weakref.WeakSet[Any] = weakref.WeakSet()


def register_poller(poller: PollerFigures) -> None:
    """Report ``poller``'s backlog and sweep counters in this process's scrapes while it lives."""
    _pollers.add(poller)


def _recent(settings: Settings) -> Any:
    """``latest_result`` rows recent enough to describe the present, per kind."""
    conditions = []
    for kind, cfg in settings.probes:
        age = timedelta(seconds=max(settings.web.stale_after_s, 2 * cfg.interval_s))
        conditions.append(and_(LR.kind == kind, LR.ts >= datetime.now(UTC) - age))
    return or_(*conditions) if conditions else False


class MonitorCollector(Collector):
    """Collects every metric from one read of the database (a handful of queries)."""

    def __init__(self, engine: Engine, settings: Settings, regions: Regions | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.regions = regions

    def collect(self) -> Iterator[Metric]:
        with self.engine.connect() as conn:
            regions = self.regions or load_regions(conn, datetime.now(zone(self.settings.general.timezone)).date())
            sites = self._sites(conn, regions)
            yield from self._probe_metrics(conn, sites)
            yield from self._state_metrics(conn, sites)
            yield from self._circuit_metrics(conn, sites)
            yield from self._health_metrics(conn)
        yield from self._runtime_metrics()

    @staticmethod
    def _sites(conn: Connection, regions: Regions) -> dict[int, tuple[str, str, str]]:
        """site id → (slug, level, district name)."""
        out = {}
        for r in conn.execute(select(SITE.id, SITE.slug, SITE.category, SITE.region_id)):
            district = regions.district_of(r.region_id)
            out[r.id] = (r.slug, r.category, district.name if district else "")
        return out

    def _probe_metrics(self, conn: Connection, sites: dict[int, tuple[str, str, str]]) -> Iterator[Metric]:
        up = GaugeMetricFamily("infra_monitor_probe_success", "1 when the latest probe of this kind answered",
                               labels=PROBE_LABELS)
        rtt = GaugeMetricFamily("infra_monitor_probe_rtt_seconds", "average round-trip time of the latest probe",
                                labels=PROBE_LABELS)
        loss = GaugeMetricFamily("infra_monitor_probe_loss_ratio", "packet loss of the latest ICMP probe (0-1)",
                                 labels=PROBE_LABELS)
        age = GaugeMetricFamily("infra_monitor_probe_timestamp_seconds", "when the latest probe ran (Unix time)",
                                labels=PROBE_LABELS)
        measured = GaugeMetricFamily("infra_monitor_probe_measurement", "a measurement of the latest probe of this "
                                     "check, by name (HTTP status_code, tls_expiry_days, DNS answers…)",
                                     labels=[*PROBE_LABELS, "name"])
        stmt = (select(LR.kind, LR.check_key, LR.ts, LR.success, LR.rtt_avg_ms, LR.loss_pct, LR.measurements,
                       DEV.name, DEV.site_id)
                .join(Device, DEV.id == LR.device_id).where(monitored(), _recent(self.settings))
                .order_by(DEV.id, LR.kind, LR.check_key))
        for r in conn.execute(stmt):
            slug, level, district = sites.get(r.site_id, ("", "", ""))
            labels = [r.name, slug, level, district, r.kind, r.check_key]
            for name, value in sorted((r.measurements or {}).items()):
                if isinstance(value, int | float) and not isinstance(value, bool):
                    measured.add_metric([*labels, name], float(value))
            up.add_metric(labels, 1.0 if r.success else 0.0)
            age.add_metric(labels, r.ts.timestamp())
            if r.rtt_avg_ms is not None:
                rtt.add_metric(labels, r.rtt_avg_ms / 1000.0)
            if r.loss_pct is not None:
                loss.add_metric(labels, r.loss_pct / 100.0)
        yield from (up, rtt, loss, age, measured)

    @staticmethod
    def _state_metrics(conn: Connection, sites: dict[int, tuple[str, str, str]]) -> Iterator[Metric]:
        state = GaugeMetricFamily("infra_monitor_device_state", "1 for the device's confirmed state (one series "
                                  "per state: up, down, unreachable, maintenance, unknown)",
                                  labels=[*DEVICE_LABELS, "state"])
        up = GaugeMetricFamily("infra_monitor_device_up", "1 when the device's confirmed state is UP",
                               labels=DEVICE_LABELS)
        stmt = (select(DEV.name, DEV.site_id, DS.hard_state).outerjoin(DeviceStatusRow, DS.device_id == DEV.id)
                .where(monitored()).order_by(DEV.id))
        for r in conn.execute(stmt):
            slug, level, district = sites.get(r.site_id, ("", "", ""))
            current = r.hard_state if r.hard_state in STATES else "unknown"
            for s in STATES:
                state.add_metric([r.name, slug, level, district, s], 1.0 if s == current else 0.0)
            up.add_metric([r.name, slug, level, district], 1.0 if current == "up" else 0.0)
        yield from (state, up)

    @staticmethod
    def _circuit_metrics(conn: Connection, sites: dict[int, tuple[str, str, str]]) -> Iterator[Metric]:
        labels = ["circuit", "provider", "site", "level", "district", "device", "interface"]
        rate = GaugeMetricFamily("infra_monitor_circuit_commit_rate_bps", "contracted rate of the circuit",
                                 labels=labels)
        bps_in = GaugeMetricFamily("infra_monitor_circuit_in_bps", "average inbound rate, latest 5 minutes",
                                   labels=labels)
        bps_out = GaugeMetricFamily("infra_monitor_circuit_out_bps", "average outbound rate, latest 5 minutes",
                                    labels=labels)
        util = GaugeMetricFamily("infra_monitor_circuit_utilisation_ratio",
                                 "max(in, out) / contracted rate, latest 5 minutes", labels=labels)
        since = datetime.now(UTC) - UTIL_WINDOW
        latest = (select(IR.interface_id, func.max(IR.bucket).label("bucket"))
                  .where(IR.resolution == 300, IR.bucket >= since).group_by(IR.interface_id).subquery())
        rates = {r.interface_id: r for r in conn.execute(
            select(IR.interface_id, IR.n, IR.in_bps_sum, IR.out_bps_sum)
            .join(latest, and_(latest.c.interface_id == IR.interface_id, latest.c.bucket == IR.bucket))
            .where(IR.resolution == 300))}
        stmt = (select(CIRCUIT.id, CIRCUIT.cid, CIRCUIT.commit_rate_kbps, PROV.name.label("provider"), TERM.site_id,
                       TERM.interface_id, TERM.term_side, DEV.name.label("device"), IFACE.name.label("iface"))
                .join(CircuitTermination, TERM.circuit_id == CIRCUIT.id)
                .join(Provider, PROV.id == CIRCUIT.provider_id)
                .join(Interface, IFACE.id == TERM.interface_id).join(Device, DEV.id == IFACE.device_id)
                .where(CIRCUIT.status == "active").order_by(CIRCUIT.id, TERM.term_side.desc()))
        seen: set[int] = set()
        for r in conn.execute(stmt):
            if r.id in seen:
                continue  # the Z (served) side when it has an interface, else the A side
            seen.add(r.id)
            slug, level, district = sites.get(r.site_id, ("", "", ""))
            values = [r.cid, r.provider, slug, level, district, r.device, r.iface]
            commit = (r.commit_rate_kbps or 0) * 1000.0
            if commit:
                rate.add_metric(values, commit)
            measured = rates.get(r.interface_id)
            if measured is not None and measured.n:
                i, o = measured.in_bps_sum / measured.n, measured.out_bps_sum / measured.n
                bps_in.add_metric(values, i)
                bps_out.add_metric(values, o)
                if commit:
                    util.add_metric(values, max(i, o) / commit)
        yield from (rate, bps_in, bps_out, util)

    @staticmethod
    def _health_metrics(conn: Connection) -> Iterator[Metric]:
        labels = ["poller_group", "kind"]
        duration = GaugeMetricFamily("infra_monitor_sweep_duration_seconds", "duration of the last sweep",
                                     labels=labels)
        targets = GaugeMetricFamily("infra_monitor_sweep_targets", "targets of the last sweep", labels=labels)
        finished = GaugeMetricFamily("infra_monitor_sweep_last_finished_timestamp_seconds",
                                     "when the last sweep finished (Unix time)", labels=labels)
        overruns = CounterMetricFamily("infra_monitor_sweep_overruns", "sweeps that outlasted their interval",
                                       labels=labels)
        for r in conn.execute(select(HB.poller_group, HB.kind, HB.last_sweep_started, HB.last_sweep_finished,
                                     HB.targets, HB.overruns).order_by(HB.poller_group, HB.kind)):
            values = [r.poller_group, r.kind]
            targets.add_metric(values, float(r.targets))
            overruns.add_metric(values, float(r.overruns))
            if r.last_sweep_finished is not None:
                finished.add_metric(values, r.last_sweep_finished.timestamp())
                if r.last_sweep_started is not None and r.last_sweep_finished >= r.last_sweep_started:
                    duration.add_metric(values, (r.last_sweep_finished - r.last_sweep_started).total_seconds())
        notes = GaugeMetricFamily("infra_monitor_notifications", "messages in the notification outbox by status",
                                  labels=["channel", "status"])
        for r in conn.execute(select(NOTE.channel, NOTE.status, func.count()).group_by(NOTE.channel, NOTE.status)
                              .order_by(NOTE.channel, NOTE.status)):
            notes.add_metric([r[0], r[1]], float(r[2]))
        yield from (duration, targets, finished, overruns, notes)

    @staticmethod
    def _runtime_metrics() -> Iterator[Metric]:
        depth = GaugeMetricFamily("infra_monitor_write_backlog_results",
                                  "probe results kept in memory until the database takes them",
                                  labels=["poller_group"])
        sweeps = CounterMetricFamily("infra_monitor_sweeps", "sweeps run by this process",
                                     labels=["poller_group", "kind"])
        skipped = CounterMetricFamily("infra_monitor_sweeps_skipped",
                                      "sweeps not started because the previous one was still running",
                                      labels=["poller_group", "kind"])
        for poller in list(_pollers):
            figures = poller.runtime_figures()
            group = figures["poller_group"]
            depth.add_metric([group], float(figures["backlog_results"]))
            for kind, n in sorted(figures["sweeps"].items()):
                sweeps.add_metric([group, kind], float(n))
            for kind, n in sorted(figures["skipped"].items()):
                skipped.add_metric([group, kind], float(n))
        yield from (depth, sweeps, skipped)


__all__ = ["MonitorCollector", "register_poller"]
