"""``/api/reports/``: the report engine over HTTP (the same documents as ``infra-monitor report`` writes).

``GET /api/reports/`` lists the report kinds with their titles, the formats and the default options;
``GET /api/reports/{kind}?from=YYYY-MM-DD&to=YYYY-MM-DD`` computes one report and returns it rendered:
``format`` json (default, the document inline), csv (a zip of one csv per table), xlsx or pdf (downloads
named by :func:`~infra_monitor.reports.render.file_name`), ``lang`` vi or en, ``as_of`` (default: the last
day of the period) and the options of :class:`~infra_monitor.reports.params.ReportParams` (defaults from
``[reports]``). Dates are local (``general.timezone``) and ``to`` is exclusive. Bad input is 422 with a
NetBox-style body ``{"field": ["message"]}`` naming the query parameter; an unknown kind is 404.

Reads are open, like the rest of ``/api/status``. The handlers are plain ``def``: FastAPI runs them in its
thread pool, so a pdf rendered for a second or two does not hold up the event loop.

:func:`parse_report_query` is shared with the reports page (:mod:`web.pages_reports`): every error carries
a message key and its arguments, so the page can show it in its own language next to the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError

from infra_monitor.accounts.principal import Principal
from infra_monitor.config import Settings
from infra_monitor.readmodel import ReadModel
from infra_monitor.reports.document import LANGS, ReportDocument, ReportKind, Text
from infra_monitor.reports.engine import TITLES, build_report, params_from_config
from infra_monitor.reports.params import ReportParams, TierReference, params_for
from infra_monitor.reports.render import FORMATS, file_name, media_type, render
from web.api.inventory.auth import require_operator
from web.api.inventory.crud import Detail, FieldErrors
from web.api.inventory.filters import declared
from web.deps import get_settings
from web.templating import readmodel

router = APIRouter(prefix="/reports", tags=["reports"])

MAX_PERIOD_DAYS = 3660
MIN_YEAR, MAX_YEAR = 1970, 2999
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off", "")
TIER_REFERENCES = tuple(t.value for t in TierReference)
KINDS = tuple(k.value for k in ReportKind)
#: ReportParams field → query parameter (for errors raised by the model itself)
_PARAM_OF = {"start": "from", "end": "to", "kind": "kind"}


@dataclass(frozen=True)
class FieldError:
    """One problem with one parameter: an English message for the API, a key + arguments for the page."""

    code: str
    message: str
    args: dict[str, Any] = field(default_factory=dict)


class ReportInputError(Exception):
    """Bad report parameters, by query parameter name."""

    def __init__(self, errors: dict[str, list[FieldError]]) -> None:
        super().__init__("; ".join(f"{k}: {e.message}" for k, errs in errors.items() for e in errs))
        self.errors = errors

    def body(self) -> dict[str, list[str]]:
        return {name: [e.message for e in errs] for name, errs in self.errors.items()}


@dataclass(frozen=True)
class ReportQuery:
    """A validated request: what to compute, and how to render it."""

    params: ReportParams
    fmt: str
    lang: str


def default_lang(settings: Settings) -> str:
    return settings.general.language if settings.general.language in LANGS else "vi"


class _Errors:
    def __init__(self) -> None:
        self.by_field: dict[str, list[FieldError]] = {}

    def add(self, name: str, code: str, message: str, **args: Any) -> None:
        self.by_field.setdefault(name, []).append(FieldError(code, message, args))


def _date(raw: Mapping[str, str | None], name: str, errors: _Errors, *, required: bool) -> date | None:
    value = (raw.get(name) or "").strip()
    if not value:
        if required:
            errors.add(name, "err_required", "This parameter is required (a date, YYYY-MM-DD).")
        return None
    try:
        if not _DATE_RE.fullmatch(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        errors.add(name, "err_date", f"{value!r} is not a date; expected YYYY-MM-DD.")
        return None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        errors.add(name, "err_date_range", f"The year must be between {MIN_YEAR} and {MAX_YEAR}.",
                   low=MIN_YEAR, high=MAX_YEAR)
        return None
    return day


def _number(raw: Mapping[str, str | None], name: str, errors: _Errors, low: float, high: float, *,
            low_open: bool = False) -> float | None:
    value = (raw.get(name) or "").strip()
    if not value:
        return None
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        errors.add(name, "err_number", f"{value!r} is not a number.")
        return None
    if number < low or number > high or (low_open and number == low):
        bound = f"above {low:g}" if low_open else f"at least {low:g}"
        errors.add(name, "err_range", f"Must be {bound} and at most {high:g}.", low=low, high=high)
        return None
    return number


def _flag(raw: Mapping[str, str | None], name: str, errors: _Errors) -> bool | None:
    value = (raw.get(name) or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return None if value == "" else False
    errors.add(name, "err_bool", f"{raw.get(name)!r} is not a boolean; use true or false.")
    return None


def _choice(raw: Mapping[str, str | None], name: str, choices: tuple[str, ...], errors: _Errors) -> str | None:
    value = (raw.get(name) or "").strip()
    if not value:
        return None
    if value not in choices:
        errors.add(name, "err_choice", f"{value!r} is not one of: {', '.join(choices)}.",
                   choices=", ".join(choices))
        return None
    return value


def parse_report_query(raw: Mapping[str, str | None], settings: Settings) -> ReportQuery:
    """Validate the query parameters of a report (``kind`` included) or raise :class:`ReportInputError`
    listing every bad parameter at once."""
    errors = _Errors()
    kind = (raw.get("kind") or "").strip()
    if not kind:
        errors.add("kind", "err_required", "This parameter is required.")
    elif kind not in KINDS:
        errors.add("kind", "err_choice", f"{kind!r} is not one of: {', '.join(KINDS)}.", choices=", ".join(KINDS))
    start = _date(raw, "from", errors, required=True)
    end = _date(raw, "to", errors, required=True)
    as_of = _date(raw, "as_of", errors, required=False)
    if start is not None and end is not None:
        if end <= start:
            errors.add("to", "err_period_empty",
                       f"'to' ({end.isoformat()}) must be after 'from' ({start.isoformat()}); 'to' is exclusive.")
        elif (end - start).days > MAX_PERIOD_DAYS:
            errors.add("to", "err_period_long", f"The period is {(end - start).days} days long; at most "
                       f"{MAX_PERIOD_DAYS} days are allowed.", days=(end - start).days, max=MAX_PERIOD_DAYS)
    fmt = _choice(raw, "format", FORMATS, errors) or "json"
    lang = _choice(raw, "lang", LANGS, errors) or default_lang(settings)
    options: dict[str, Any] = {
        "threshold_pct": _number(raw, "threshold_pct", errors, 0, 100),
        "utilisation_threshold_pct": _number(raw, "utilisation_threshold_pct", errors, 0, 1000, low_open=True),
        "maintenance_as_down": _flag(raw, "maintenance_as_down", errors),
        "no_data_as_down": _flag(raw, "no_data_as_down", errors),
        "tier_reference": _choice(raw, "tier_reference", TIER_REFERENCES, errors),
    }
    if errors.by_field:
        raise ReportInputError(errors.by_field)
    assert start is not None and end is not None
    try:
        params = params_for(kind, start, end, as_of, timezone=settings.general.timezone,
                            **params_from_config(settings.reports, **options))
    except ValidationError as exc:
        for err in exc.errors():
            name = str(err["loc"][0]) if err.get("loc") else "to"
            errors.add(_PARAM_OF.get(name, name), "err_invalid", str(err["msg"]), detail=str(err["msg"]))
        raise ReportInputError(errors.by_field) from exc
    except (ValueError, OverflowError) as exc:
        errors.add("to", "err_invalid", str(exc), detail=str(exc))
        raise ReportInputError(errors.by_field) from exc
    return ReportQuery(params=params, fmt=fmt, lang=lang)


def compute(request: Request, params: ReportParams) -> ReportDocument:
    """The document for ``params`` from the app's database, dated by the read model's clock."""
    settings: Settings = request.app.state.settings
    rm: ReadModel = readmodel(request)
    return build_report(request.app.state.engine, params, settings.reports,
                        province_name=settings.general.province_name, now=rm.now())


# --- endpoints ------------------------------------------------------------------------------------------

class KindOut(BaseModel):
    kind: str
    title: Text
    url: str


class KindList(BaseModel):
    count: int
    formats: list[str]
    languages: list[str]
    max_period_days: int
    defaults: dict[str, Any]
    results: list[KindOut]


SettingsDep = Annotated[Settings, Depends(get_settings)]
Opt = Annotated[str | None, Query()]
# The handler parses its parameters itself (every bad one is named in one 422); the spec says what is valid.
_DAY = {"type": "string", "format": "date", "pattern": "^(19[7-9][0-9]|2[0-9]{3})-"}
_FLAG = declared({"type": "boolean"}, empty=True)
KindPath = Annotated[str, Path(description="report kind"), declared({"type": "string", "enum": list(KINDS)})]


@router.get("/", response_model=KindList, summary="Report kinds, formats and default options")
def list_reports(settings: SettingsDep) -> KindList:
    defaults = {"maintenance_as_down": False, "no_data_as_down": False, "lang": default_lang(settings),
                "format": "json", **params_from_config(settings.reports)}
    return KindList(count=len(KINDS), formats=list(FORMATS), languages=list(LANGS), max_period_days=MAX_PERIOD_DAYS,
                    defaults=defaults,
                    results=[KindOut(kind=k.value, title=TITLES[k], url=f"/api/reports/{k.value}") for k in ReportKind])


@router.get(
    "/{kind}", summary="One report, computed now and rendered (json inline; csv zip, xlsx, pdf as downloads)",
    response_class=Response,
    responses={200: {"content": {media_type(f): {} for f in FORMATS}, "description": "The rendered report"},
               403: {"model": Detail, "description": "Running a report needs the operator role"},
               404: {"model": Detail, "description": "Unknown report kind"},
               422: {"model": FieldErrors, "description": "Invalid parameters: {parameter: [messages]}"}},
)
def get_report(
    kind: KindPath,
    request: Request,
    settings: SettingsDep,
    start: Annotated[str | None, Query(alias="from", description="first local day, YYYY-MM-DD (required)"),
                     declared(_DAY)] = None,
    end: Annotated[str | None, Query(alias="to", description="local day after the last one (exclusive; required)"),
                   declared(_DAY)] = None,
    as_of: Annotated[str | None, Query(description="date of the administrative structure (default: to − 1)"),
                     declared(_DAY, empty=True)] = None,
    fmt: Annotated[str | None, Query(alias="format", description="default json"),
                   declared({"type": "string", "enum": list(FORMATS)}, empty=True)] = None,
    lang: Annotated[str | None, Query(description="json carries both"),
                    declared({"type": "string", "enum": list(LANGS)}, empty=True)] = None,
    threshold_pct: Annotated[str | None, Query(description="target availability"),
                             declared({"type": "number", "minimum": 0, "maximum": 100}, empty=True)] = None,
    utilisation_threshold_pct: Annotated[str | None, Query(description="capacity level"),
                                         declared({"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
                                                  empty=True)] = None,
    maintenance_as_down: Annotated[str | None, Query(description="true: maintenance counts as downtime"),
                                   _FLAG] = None,
    no_data_as_down: Annotated[str | None, Query(description="true: time without data counts as downtime"),
                               _FLAG] = None,
    tier_reference: Annotated[str | None, Query(),
                              declared({"type": "string", "enum": list(TIER_REFERENCES)}, empty=True)] = None,
    _who: Principal = Depends(require_operator),
) -> Response:
    if kind not in KINDS:
        raise HTTPException(404, f"no report kind {kind!r}; expected one of {', '.join(KINDS)}")
    raw = {"kind": kind, "from": start, "to": end, "as_of": as_of, "format": fmt, "lang": lang,
           "threshold_pct": threshold_pct, "utilisation_threshold_pct": utilisation_threshold_pct,
           "maintenance_as_down": maintenance_as_down, "no_data_as_down": no_data_as_down,
           "tier_reference": tier_reference}
    twice = sorted(name for name in raw if len(request.query_params.getlist(name)) > 1)
    if twice:
        return JSONResponse({name: ["Give this parameter once."] for name in twice}, status_code=422)
    try:
        query = parse_report_query(raw, settings)
    except ReportInputError as exc:
        return JSONResponse(exc.body(), status_code=422)
    doc = compute(request, query.params)
    body = render(doc, query.fmt, query.lang)
    disposition = "inline" if query.fmt == "json" else "attachment"
    headers = {"Content-Disposition": f'{disposition}; filename="{file_name(doc, query.fmt)}"',
               "Cache-Control": "no-store"}
    return Response(body, media_type=media_type(query.fmt), headers=headers)
