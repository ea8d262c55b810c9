"""The report engine: ``build_report(conn, params, config) -> ReportDocument``.

It loads the data once (:mod:`.dataset`), hands it to the builder of the report kind (coverage,
availability, datacenter, capacity, videoconference: one module each), and wraps what comes back in a
header carrying the period, the as-of date, the parameters and who issues the document. Rows are
completed so every row has every column (missing = not measurable). The document is the single source of
every format (:mod:`.render`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection, Engine

from infra_monitor.config import ReportsConfig
from infra_monitor.readmodel.fmt import local_dt
from infra_monitor.reports import availability, capacity, coverage, datacenter, videoconference
from infra_monitor.reports.common import params_summary, policy_note
from infra_monitor.reports.dataset import Dataset, load
from infra_monitor.reports.document import ReportDocument, ReportHeader, ReportKind, Table, Text, t
from infra_monitor.reports.params import ReportParams
from infra_monitor.reports.structure import province_in_force

TITLES: dict[ReportKind, Text] = {
    ReportKind.COVERAGE: t("Báo cáo độ phủ mạng diện rộng và truyền hình trực tuyến đến cấp xã",
                           "Report on WAN and videoconference coverage down to commune level"),
    ReportKind.AVAILABILITY: t("Báo cáo khả dụng hạ tầng mạng", "Network availability report"),
    ReportKind.DATACENTER: t("Báo cáo khả dụng và dự phòng của Trung tâm dữ liệu (phục vụ nâng cấp theo TCVN 9250)",
                             "Data-center availability and redundancy report (for the TCVN 9250 upgrade)"),
    ReportKind.CAPACITY: t("Báo cáo mức sử dụng băng thông đường truyền", "Link capacity and utilisation report"),
    ReportKind.VIDEOCONFERENCE: t("Báo cáo sẵn sàng của các điểm cầu truyền hình trực tuyến",
                                  "Videoconference endpoint readiness report"),
}

Builder = Callable[[Dataset, Connection], Any]
BUILDERS: dict[ReportKind, Builder] = {
    ReportKind.COVERAGE: lambda ds, _c: coverage.build(ds),
    ReportKind.AVAILABILITY: lambda ds, _c: availability.build(ds),
    ReportKind.DATACENTER: lambda ds, _c: datacenter.build(ds),
    ReportKind.CAPACITY: lambda ds, conn: capacity.build(ds, conn),
    ReportKind.VIDEOCONFERENCE: lambda ds, conn: videoconference.build(ds, conn),
}


def _nfc(value: Any) -> Any:
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def _complete(table: Table) -> Table:
    keys = [c.key for c in table.columns]
    table.rows = [{k: _nfc(row.get(k)) for k in keys} for row in table.rows]
    if table.total is not None:
        table.total = {k: _nfc(table.total.get(k)) for k in keys}
    return table


def build_report(source: Connection | Engine, params: ReportParams, config: ReportsConfig | None = None, *,
                 province_name: str = "", now: datetime | None = None) -> ReportDocument:
    """Compute the report ``params`` asks for from the stored state (one read transaction)."""
    config = config or ReportsConfig()
    if isinstance(source, Engine):
        with source.connect() as conn:
            return build_report(conn, params, config, province_name=province_name, now=now)
    now = now or datetime.now(UTC)
    ds = load(source, params, now)
    summary, notes, sections, tables, charts = BUILDERS[params.kind](ds, source)
    province = province_in_force(ds.regions)
    header = ReportHeader(
        kind=params.kind, title=TITLES[params.kind],
        province=_nfc(province.name if province is not None else province_name),
        issuer=t(config.issuer, config.issuer), issuer_parent=t(config.issuer_parent, config.issuer_parent)
        if config.issuer_parent else None,
        place=_nfc(config.place), generated_at=now, period_start=params.start, period_end=params.end,
        measured_until=ds.stop, as_of=params.as_of, timezone=params.timezone,
        parameters=params_summary(params), recipients=[_nfc(r) for r in config.recipients])
    if ds.stop < params.end:
        notes.append(t(f"Kỳ báo cáo chưa kết thúc: số liệu tính đến {_local(ds.stop, params.timezone)}.",
                       f"The period has not ended: figures run to {_local(ds.stop, params.timezone)}."))
    return ReportDocument(header=header, summary=summary, notes=[policy_note(params), *notes], sections=sections,
                          tables=[_complete(tb) for tb in tables], charts=charts)


def _local(dt: datetime, tz: str) -> str:
    return local_dt(dt, ZoneInfo(tz))


def params_from_config(config: ReportsConfig, **kw: Any) -> dict[str, Any]:
    """Defaults for :class:`ReportParams` options from ``[reports]``."""
    return {"threshold_pct": config.threshold_pct, "utilisation_threshold_pct": config.utilisation_threshold_pct,
            "tier_reference": config.tier_reference, **{k: v for k, v in kw.items() if v is not None}}


__all__ = ["BUILDERS", "TITLES", "ReportParams", "build_report", "params_from_config"]
