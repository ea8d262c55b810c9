"""Every user-visible string is translated, in both languages.

Three proofs, each of which fails on a single untranslated string:

1. The catalogues (``infra_monitor/locale/<lang>/LC_MESSAGES/*.po``) are complete: the same keys in both languages, no
   empty text, no key defined by two domain files, plural entries with the language's number of forms.
2. Every key the code asks for exists: keys are extracted from the templates (Jinja2's own parser) and the
   Python of the web layer (``ast``); a key built from a prefix (``t('state_' ~ s)``) is checked against the
   enumeration it is built from, and a prefix this test does not know fails until it is listed here.
3. Pseudo-localisation: the real pages are rendered with every translated text wrapped in markers; whatever
   visible text (text nodes, ``title``, ``aria-label``, ``placeholder``, ``alt``) is left outside a marker
   must be inventory data (names, slugs, addresses, circuit ids), numbers, dates or a technical symbol
   (``ICMP``, ``ms``). A hard-coded English word in a template, or a raw value such as ``active`` or
   ``unknown → up`` printed without ``t()``, fails it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from jinja2 import nodes
from sqlalchemy import String, inspect, select, text
from sqlalchemy.engine import Engine
from sqlmodel.sql.sqltypes import AutoString

from infra_monitor import i18n
from infra_monitor.accounts.roles import ROLES
from infra_monitor.config import Settings
from infra_monitor.readmodel.sites import SORTS
from infra_monitor.status.engine.states import Cause, EventKind, State
from inventory.choices import (
    CircuitStatusChoices,
    CoverageCategoryChoices,
    DeviceStatusChoices,
    InterfaceTypeChoices,
    IPAddressStatusChoices,
    ObjectChangeActionChoices,
    RegionChangeKindChoices,
    RegionLevelChoices,
    SiteCategoryChoices,
    SiteStatusChoices,
)
from tests.meetings.setup import meeting_with_check
from tests.web.builders import HOSTILE, Province
from tests.web.problems_setup import outage
from web.templating import env

ROOT = Path(__file__).resolve().parents[2]
KEY = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
OPEN, CLOSE = "\u27e6", "\u27e7"

# Prefix → the values the code appends to it. A new dynamic prefix must be listed here (and its keys written).
_STATUSES = {*SiteStatusChoices.values(), *DeviceStatusChoices.values(), *IPAddressStatusChoices.values(),
             *CircuitStatusChoices.values()}
DYNAMIC: dict[str, set[str]] = {
    "state_": {s.value for s in State},
    "state_help_": {s.value for s in State},
    "cause_": {c.value for c in Cause},
    "ev_": {k.value for k in EventKind},
    "level_": set(CoverageCategoryChoices.values()),
    "cat_": set(SiteCategoryChoices.values()),
    "role_": set(ROLES),
    "sort_": set(SORTS) - {"district"},
    "status_": _STATUSES,
    "region_level_": set(RegionLevelChoices.values()),
    "region_change_": set(RegionChangeKindChoices.values()),
    "action_": set(ObjectChangeActionChoices.values()),
    "iftype_": set(InterfaceTypeChoices.values()),
}


def _dynamic_values(prefix: str) -> set[str] | None:
    if prefix in DYNAMIC:
        return DYNAMIC[prefix]
    return _DYNAMIC_LATE.get(prefix, lambda: None)()


def _vc_check_words() -> set[str]:
    from web.pages_inventory import VC_CHECK_WORDS

    return set(VC_CHECK_WORDS)


def _graph_lines() -> set[str]:
    from web.pages_detail import GRAPH_LINES

    return set(GRAPH_LINES)


def _report_kinds() -> set[str]:
    from web.pages_reports import KINDS

    return set(KINDS)


def _periods() -> set[str]:
    from infra_monitor.readmodel.series import PERIODS

    return set(PERIODS)


def _metrics() -> set[str]:
    from infra_monitor.readmodel.series import METRICS

    return set(METRICS)


def _inventory_kinds() -> set[str]:
    from infra_monitor.readmodel.inventory_lists import KINDS

    return set(KINDS)


def _search_kinds() -> set[str]:
    from infra_monitor.readmodel.inventory_lists import SEARCH_KINDS

    return set(SEARCH_KINDS)


def _availability_periods() -> set[str]:
    from infra_monitor.readmodel.uptime import PERIODS

    return set(PERIODS)


def _verdicts() -> set[str]:
    from infra_monitor.readmodel.probe_health import VERDICTS

    return set(VERDICTS)


def _reconcile_kinds() -> set[str]:
    from infra_monitor.reconcile.diff import KINDS

    return set(KINDS)


_DYNAMIC_LATE: dict[str, Callable[[], set[str] | None]] = {
    "line_": _graph_lines, "rk_": _report_kinds, "period_": _periods, "metric_": _metrics,
    "inventory_search_hint_": _inventory_kinds, "search_kind_": _search_kinds,
    "vc_answer_": _vc_check_words,
    "avail_window_": _availability_periods, "verdict_": _verdicts, "rc_kind_": _reconcile_kinds}


# --- 1. the catalogues ------------------------------------------------------------------------------------

def test_catalogues_have_the_same_keys_in_both_languages_and_no_empty_text() -> None:
    assert i18n.missing_keys() == {}
    assert i18n.empty_keys() == {}
    assert i18n.duplicate_keys() == []


def test_plural_entries_have_the_forms_their_language_needs() -> None:
    wanted = {"vi": 1, "en": 2}
    for lang, forms in wanted.items():
        for path in sorted((i18n.LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po")):
            with path.open("rb") as fh:
                po = read_po(fh, locale=lang)
            assert po.num_plurals == forms, (path, po.num_plurals)
            for message in po:
                if isinstance(message.id, (list, tuple)):
                    assert len(message.string) == forms and all(message.string), (path, message.id)


def test_plural_forms_follow_the_count_and_numbers_follow_the_language() -> None:
    en, vi = i18n.translator("en"), i18n.translator("vi")
    assert en("behind", n=1) == "1 device cut off behind it"
    assert en("behind", n=38) == "38 devices cut off behind it"
    assert en("behind", n=1234) == "1,234 devices cut off behind it"
    assert vi("behind", n=1234) == "1.234 thiết bị bị cô lập phía sau"
    assert en("results", n=1) == "1 site" and en("results", n=0) == "0 sites"


# --- 2. every key asked for exists ----------------------------------------------------------------------

def _template_keys() -> Iterator[tuple[str, str, str]]:
    """(kind, key or prefix, where) for every ``t(...)`` in the templates; kind is ``key``, ``prefix`` or
    ``opaque`` (a key held in a variable)."""
    for path in sorted((ROOT / "web" / "templates").glob("*.html")):
        tree = env.parse(path.read_text(encoding="utf-8"))
        for call in tree.find_all(nodes.Call):
            if not (isinstance(call.node, nodes.Name) and call.node.name == "t" and call.args):
                continue
            arg = call.args[0]
            if isinstance(arg, nodes.Const) and isinstance(arg.value, str):
                yield "key", arg.value, path.name
            elif isinstance(arg, nodes.Concat) and isinstance(arg.nodes[0], nodes.Const):
                yield "prefix", arg.nodes[0].value, path.name
            else:
                yield "opaque", "", path.name
        # keys listed in loops: {% for href, key in (('/', 'nav_overview'), …) %}{{ t(key) }}
        for loop in tree.find_all(nodes.For):
            for index in _translated_loop_positions(loop):
                for item in loop.iter.items if isinstance(loop.iter, (nodes.Tuple, nodes.List)) else []:
                    const = item.items[index] if isinstance(item, nodes.Tuple) and index is not None else item
                    if isinstance(const, nodes.Const) and isinstance(const.value, str):
                        yield "key", const.value, path.name


def _translated_loop_positions(loop: nodes.For) -> list[int | None]:
    """Positions in the loop target of the names passed to ``t()`` in its body (None: the target itself)."""
    names = [n.name for n in loop.target.items] if isinstance(loop.target, nodes.Tuple) else None
    used = {call.args[0].name for node in loop.body for call in node.find_all(nodes.Call)
            if isinstance(call.node, nodes.Name) and call.node.name == "t" and call.args
            and isinstance(call.args[0], nodes.Name)}
    if names is None:
        return [None] if isinstance(loop.target, nodes.Name) and loop.target.name in used else []
    return [i for i, name in enumerate(names) if name in used]


def _python_files() -> list[Path]:
    """The modules that hold a translator (the reports carry their own bilingual texts)."""
    files = list((ROOT / "web").rglob("*.py")) + list((ROOT / "infra_monitor" / "cli").rglob("*.py"))
    return sorted(files)


def _python_keys() -> Iterator[tuple[str, str, str]]:
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            func = call.func
            is_t = (isinstance(func, ast.Name) and func.id == "t") or (
                isinstance(func, ast.Attribute) and func.attr == "t")
            if is_t and call.args:
                arg = call.args[0]
                where = f"{path.relative_to(ROOT)}:{call.lineno}"
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    yield "key", arg.value, where
                elif isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant):
                    yield "prefix", str(arg.values[0].value), where
                elif (isinstance(arg, ast.BinOp) and isinstance(arg.left, ast.Constant)
                      and isinstance(arg.left.value, str)):
                    yield "prefix", arg.left.value, where
            for kw in call.keywords:  # render(..., title_key="not_found")
                if kw.arg and kw.arg.endswith("_key") and isinstance(kw.value, ast.Constant):
                    yield "key", str(kw.value.value), f"{path.relative_to(ROOT)}:{call.lineno}"


def test_every_key_used_by_templates_and_code_is_in_both_catalogues() -> None:
    missing = sorted({(key, where) for kind, key, where in [*_template_keys(), *_python_keys()]
                      if kind == "key" and not i18n.has_key(key)})
    assert missing == [], f"keys used but not translated (add them to a .po of both languages): {missing}"


def test_every_key_built_from_a_prefix_exists_for_every_value_it_can_take() -> None:
    unknown: set[tuple[str, str]] = set()
    missing: set[str] = set()
    for kind, prefix, where in [*_template_keys(), *_python_keys()]:
        if kind != "prefix":
            continue
        values = _dynamic_values(prefix)
        if values is None:
            unknown.add((prefix, where))
            continue
        missing |= {prefix + v for v in values if not i18n.has_key(prefix + v)}
    assert unknown == set(), f"a key is built from an unknown prefix: list its values in DYNAMIC: {unknown}"
    assert missing == set(), f"keys of an enumeration missing from the catalogues: {sorted(missing)}"


# --- 3. pseudo-localisation of the real pages ------------------------------------------------------------

PAGES = ["/", "/sites", "/sites?state=unreachable&level=commune&sort=name", "/regions/213", "/regions/215",
         "/sites/xa-000", "/sites/xa-001", "/sites/dc", "/devices/1", "/devices/{district_router}", "/events",
         "/map", "/inventory/sites", "/inventory/devices", "/inventory/circuits", "/inventory/vc",
         "/inventory/devices?state=nope&q=zzz", "/search?q=xa", "/search?q=zzzz", "/reports", "/wall", "/problems",
         "/problems?state=all", "/problems/1", "/events?group=none", "/nope",
         "/reconcile", "/reconcile?kind=speed&site=dc", "/reconcile?kind=nope", "/reconcile/1",
         "/meetings", "/meetings/1", "/meetings/1?notice=no_poller"]
PUBLIC_PAGES = ["/login"]

# Technical symbols and units that read the same in both languages.
SYMBOLS = {"API", "JSON", "CSV", "XLSX", "PDF", "SVG", "ICMP", "SNMP", "TCP", "HTTP", "HTTPS", "DNS", "SIP", "RTT",
           "MCU", "IP", "ID", "GMT", "UTC", "ms", "s", "min", "h", "d", "bps", "kbps", "Mbps", "Gbps", "A", "Z",
           "P95", "TCVN", "VC", "WAN", "LAN", "OK", "URL", "URI", "CIDR", "IF", "MIB", "v2c", "v3", "v1",
           "H",  # H.323
           "DISCOVERY"}  # the discovery kind's name, as the overview's probe health writes every kind's name
# Names of standards and of the languages themselves (the language menu shows each in its own language).
NAMES = {"Uptime", "Institute", "ANSI", "TIA", "TCVN", "E", "English", "Tiếng", "Việt"}
# Units written by infra_monitor.readmodel.fmt.duration, in both languages.
DURATION_WORDS = {"ngày", "giờ", "phút", "giây"}
_VISIBLE_ATTRS = {"title", "aria-label", "placeholder", "alt"}


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._skip += 1
        for name, value in attrs:
            if name in _VISIBLE_ATTRS and value:
                self.parts.append(value)
            if tag == "input" and name == "value" and dict(attrs).get("type") in ("submit", "button") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _words(text: str) -> list[str]:
    """Words of letters; paths and URLs (``/api/dcim/sites/``) and addresses are not words."""
    text = re.sub(r"\S*[/@]\S*", " ", text)
    return re.findall(r"[^\W\d_]+", text)


def _unmarked_words(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    shown = " ".join(parser.parts)
    innermost = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
    while (stripped := innermost.sub(" ", shown)) != shown:  # a translation may hold another one
        shown = stripped
    return _words(shown)


def _data_words(engine: Engine, settings: Settings) -> set[str]:
    """Every word of every free-text column of the inventory and accounts (what the operators typed)."""
    from sqlmodel import SQLModel

    from infra_monitor.db import import_all_models

    import_all_models()
    words: set[str] = {"admin"}
    free_text = {"name", "slug", "cid", "address", "host", "uri", "room", "description", "code", "serial",
                 "asset_tag", "username", "comments", "label", "comment", "ack_comment", "title"}
    with engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        for table in SQLModel.metadata.tables.values():
            if table.name not in present:
                continue
            for column in table.columns:
                if column.name in free_text and _is_text(column):
                    for (value,) in conn.execute(select(column)):
                        words.update(_words(str(value or "")))
        for (group,) in conn.execute(text("SELECT DISTINCT poller_group FROM poller_heartbeat")):
            words.add(group)
    words.update(_words(HOSTILE))
    words.update(_words(settings.general.province_name))
    return words


def _is_text(column: Any) -> bool:
    return isinstance(column.type, (String, AutoString))


@pytest.fixture
def pseudo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every text that goes through ``t()`` comes out between markers."""
    import web.templating

    real = i18n.translator

    def marked(lang: str) -> Callable[..., str]:
        t = real(lang)
        return lambda key, **params: f"{OPEN}{t(key, **params)}{CLOSE}"

    monkeypatch.setattr(web.templating, "translator", marked)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_pages_show_no_text_that_did_not_go_through_a_translation(
        client: TestClient, engine: Engine, settings: Settings, province: Province, pseudo: None,
        lang: str) -> None:
    province.cut_district(0)
    outage(province)  # a real sweep: problem 1 opens
    province.event(province.district_routers[0], "up", "down", message="d213-rt: up → down")
    province.event(province.commune_routers[1], "unknown", "up", cause="none", message="xa-001-rt: unknown → up")
    province.measurements([province.commune_routers[1]], hours=2)
    meeting_with_check(province, settings)   # meeting 1: communes behind 213 not ready
    allowed = _data_words(engine, settings) | SYMBOLS | DURATION_WORDS | NAMES
    found: dict[str, set[str]] = {}
    paths = [p.format(district_router=province.district_routers[0]) for p in PAGES]
    for path in paths:
        sep = "&" if "?" in path else "?"
        r = client.get(f"{path}{sep}lang={lang}")
        assert r.status_code in (200, 404), (path, r.status_code)
        words = {w for w in _unmarked_words(r.text) if w not in allowed}
        if words:
            found[path] = words
    assert client.get("/problems/1").status_code == 200  # the problem page itself is checked, not a 404
    anonymous = TestClient(client.app)
    for path in PUBLIC_PAGES:
        words = {w for w in _unmarked_words(anonymous.get(f"{path}?lang={lang}").text) if w not in allowed}
        if words:
            found[path] = words
    assert found == {}, f"text shown without a translation ({lang}): {found}"
