"""The reports page ``/reports``: a form, a server-side preview of the computed document, download links.

The form is a plain GET to ``/reports`` (no script needed), so a preview's URL is shareable. Its fields are
the query parameters of ``/api/reports/{kind}`` (validated by the same :func:`~web.api.reports.parse_report_query`),
except that the report's language is ``report_lang``: ``lang`` stays the page's own language. Without a
``kind`` in the query the page shows the form with its defaults (the previous full month, options from
``[reports]``); with one it computes the document and shows its header, summary, notes and the first rows
of its first table, in the report's language, and links each format to the API with the same parameters.
Errors are shown next to their field in the page's language, with the submitted values kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from infra_monitor.accounts.roles import OPERATOR
from infra_monitor.readmodel import ReadModel
from infra_monitor.reports.document import LANGS, ColumnType, ReportDocument
from infra_monitor.reports.formatting import NUMERIC_TYPES, format_cell, format_value, period_text, tr, tz_of
from infra_monitor.reports.params import previous_month
from infra_monitor.reports.render import FORMATS
from web.api.reports import KINDS, TIER_REFERENCES, FieldError, ReportInputError, compute, parse_report_query
from web.templating import Page, page, readmodel, render

router = APIRouter(include_in_schema=False)
PageDep = Annotated[Page, Depends(page)]
ReadDep = Annotated[ReadModel, Depends(readmodel)]

PREVIEW_ROWS = 10
TEXT_FIELDS = ("kind", "from", "to", "as_of", "report_lang", "threshold_pct", "utilisation_threshold_pct",
               "tier_reference")
FLAGS = ("maintenance_as_down", "no_data_as_down")
#: query parameter of the API → form field of the page
FIELD_OF = {"lang": "report_lang"}
FIELD_OF_API = {v: k for k, v in FIELD_OF.items()}
TIER_LABELS = {"tcvn9250-2012": "TCVN 9250:2012", "tia-942": "ANSI/TIA-942", "uptime": "Uptime Institute"}
LANG_LABELS = {"vi": "Tiếng Việt", "en": "English"}
FORMAT_LABELS = {"json": "JSON", "csv": "CSV (zip)", "xlsx": "Excel (xlsx)", "pdf": "PDF"}


@dataclass
class Preview:
    """What the template shows of a computed document (texts already formatted in ``lang``)."""

    lang: str
    title: str
    province: str
    period: str
    as_of: str
    generated: str
    summary: list[tuple[str, str]]
    notes: list[str]
    table_title: str = ""
    headers: list[str] = field(default_factory=list)
    numeric: list[bool] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    total_rows: int = 0
    downloads: list[tuple[str, str, str]] = field(default_factory=list)  # (format, label, url)


def _fmt_arg(p: Page, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return p.fmt.num(value, 0 if float(value).is_integer() else 2)


def error_text(p: Page, err: FieldError) -> str:
    """An error in the page's language."""
    return p.t(err.code, **{k: _fmt_arg(p, v) for k, v in err.args.items()})


def default_values(p: Page, rm: ReadModel) -> dict[str, str]:
    """The form before anything is submitted: the previous full month, options from ``[reports]``."""
    cfg = p.settings.reports
    start, end = previous_month(rm.as_of())
    return {"kind": KINDS[0], "from": start.isoformat(), "to": end.isoformat(), "as_of": "",
            "report_lang": p.lang, "threshold_pct": f"{cfg.threshold_pct:g}",
            "utilisation_threshold_pct": f"{cfg.utilisation_threshold_pct:g}",
            "tier_reference": cfg.tier_reference, "maintenance_as_down": "", "no_data_as_down": ""}


def submitted_values(p: Page) -> dict[str, str]:
    q = p.request.query_params
    values = {name: (q.get(name) or "").strip() for name in TEXT_FIELDS}
    values.update({name: "true" if q.get(name) in ("true", "on", "1", "yes") else "" for name in FLAGS})
    if not values["report_lang"]:
        values["report_lang"] = p.lang
    return values


def api_query(values: dict[str, str]) -> dict[str, str]:
    """The form's values as the API's query parameters (empty ones left out)."""
    return {FIELD_OF_API.get(k, k): v for k, v in values.items() if v and k != "kind"}


def preview_of(p: Page, doc: ReportDocument, lang: str, values: dict[str, str]) -> Preview:
    tz = tz_of(doc.header)
    h = doc.header
    pv = Preview(
        lang=lang, title=tr(h.title, lang), province=h.province, period=period_text(h, lang),
        as_of=h.as_of.strftime("%d/%m/%Y"), generated=format_value(h.generated_at, ColumnType.DATETIME, lang, tz),
        summary=[(tr(s.label, lang), format_value(s.value, s.type, lang, tz, s.choices)) for s in doc.summary],
        notes=[tr(n, lang) for n in doc.notes])
    if doc.tables:
        table = doc.tables[0]
        pv.table_title = tr(table.title, lang)
        pv.headers = [tr(c.label, lang) for c in table.columns]
        pv.numeric = [c.type in NUMERIC_TYPES for c in table.columns]
        pv.rows = [[format_cell(c, row.get(c.key), lang, tz) for c in table.columns]
                   for row in table.rows[:PREVIEW_ROWS]]
        pv.total_rows = len(table.rows)
    base = f"/api/reports/{values['kind']}"
    pv.downloads = [(fmt, FORMAT_LABELS[fmt], p.url(base, **api_query(values), format=fmt)) for fmt in FORMATS]
    return pv


@router.get("/reports", response_class=HTMLResponse)
def reports_page(p: PageDep, rm: ReadDep) -> HTMLResponse:
    who = p.principal
    if who is None or not who.can(OPERATOR):
        return render(p, "error.html", status_code=403, active="nav_reports", freshness=rm.freshness(),
                      title_key="forbidden", message=p.t("forbidden_role", role=p.t("role_operator"),
                                                         user=who.username if who else "-",
                                                         have=p.t("role_" + who.role) if who else "-"))
    submitted = "kind" in p.request.query_params
    values = submitted_values(p) if submitted else default_values(p, rm)
    errors: dict[str, list[str]] = {}
    preview: Preview | None = None
    if submitted:
        raw = {FIELD_OF_API.get(k, k): v for k, v in values.items()}
        try:
            query = parse_report_query(raw, p.settings)
        except ReportInputError as exc:
            for name, errs in exc.errors.items():
                errors.setdefault(FIELD_OF.get(name, name), []).extend(error_text(p, e) for e in errs)
        else:
            preview = preview_of(p, compute(p.request, query.params), query.lang, values)
    known = {*TEXT_FIELDS, *FLAGS}
    general_errors = [msg for name, msgs in errors.items() if name not in known for msg in msgs]
    return render(p, "reports.html", status_code=422 if errors else 200, active="nav_reports", values=values,
                  errors=errors, general_errors=general_errors, preview=preview, kinds=KINDS,
                  langs=LANGS, lang_labels=LANG_LABELS, tiers=TIER_REFERENCES, tier_labels=TIER_LABELS,
                  freshness=rm.freshness())
