"""Probe errors are shown in the operator's language: every message a prober can write is recognised.

The messages are read from the probers' source (``error = …``, ``errors.append(…)``, ``_fail(out, …)``,
``SnmpError(…)``, ``set_result((None, …))``), with every ``{placeholder}`` of an f-string filled with a
sample value, so a new message added to a prober without a translation fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from infra_monitor.i18n import has_key, translator
from infra_monitor.storage.models import LatestResult
from tests.web.builders import Province
from web import probe_errors

PROBES = Path(__file__).resolve().parents[2] / "probes"
# Messages that carry a library's own text verbatim (an exception's class and message): shown framed.
PASSTHROUGH = {"7: 7", "walk 7: 7"}
SAMPLE = "7"


def _sample(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else SAMPLE for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _sample(node.left), _sample(node.right)
        return None if left is None else left + (right or "")
    return None


def _messages() -> set[str]:
    found: set[str] = set()
    for path in sorted(PROBES.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            candidates: list[ast.expr] = []
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "error" for t in node.targets):
                candidates.append(node.value)
            elif isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
                if name == "append" and isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "errors":
                    candidates += node.args
                elif name == "_fail" and len(node.args) == 2:
                    candidates.append(node.args[1])
                elif name == "SnmpError":
                    candidates += node.args
                elif name == "set_result" and node.args and isinstance(node.args[0], ast.Tuple):
                    candidates.append(node.args[0].elts[1])
            for candidate in candidates:
                text = _sample(candidate)
                if text and text != SAMPLE:
                    found.add(text)
    # the ICMP error messages built from the type tables of icmp_wire.py
    from probes.icmp_wire import _V4_ERRORS, _V6_ERRORS

    found |= {f"{kind} (code 1) from 127.0.0.9" for kind in {*_V4_ERRORS.values(), *_V6_ERRORS.values()}}
    found |= {"No SNMP response received before timeout", "walk 1.3.6.1.2.1.2.2.1.8: No SNMP response received "
              "before timeout", "Unknown USM user", "Wrong SNMP PDU digest", "connect to port 22 failed: "
              "connection refused", "no reply to 1 echo request(s) within 1s"}
    return found


def test_the_source_scan_finds_the_probers_messages() -> None:
    messages = _messages()
    assert "target has no TCP port" in messages and "HTTP status 7" in messages and len(messages) > 20


@pytest.mark.parametrize("message", sorted(_messages()))
def test_every_prober_message_has_a_translation(message: str) -> None:
    if message in PASSTHROUGH:
        assert probe_errors.match(message) is None
        return
    found = probe_errors.match(message)
    assert found is not None, f"no pattern in web/probe_errors.py for the prober message {message!r}"
    key, _params = found
    assert has_key(key), key
    vi = probe_errors.explain(translator("vi"), message)
    assert vi and vi != message and "{" not in vi, (message, vi)


def test_an_unknown_message_is_shown_framed_and_whole() -> None:
    assert probe_errors.explain(translator("vi"), "weird: thing") == "Lỗi kiểm tra: weird: thing"
    assert probe_errors.explain(translator("en"), "weird: thing") == "probe error: weird: thing"
    assert probe_errors.explain(translator("en"), None) == ""


def test_counts_in_probe_errors_take_the_plural_of_the_language() -> None:
    en = translator("en")
    assert probe_errors.explain(en, "no reply to 1 echo request(s) within 1s") == (
        "no reply to 1 echo request within 1 s")
    assert probe_errors.explain(en, "no reply to 3 echo request(s) within 0.5s") == (
        "no reply to 3 echo requests within 0.5 s")


def test_the_device_page_shows_the_error_in_vietnamese_and_keeps_the_original(
        client: TestClient, province: Province) -> None:
    router = province.district_routers[0]
    province.measurements([router], hours=1)
    with province.engine.begin() as conn:
        conn.execute(update(LatestResult).where(LatestResult.device_id == router).values(  # type: ignore[arg-type]
            success=False, error="connect to port 22 failed: connection refused"))
    vi = client.get(f"/devices/{router}?lang=vi").text
    assert "Cổng 22 từ chối kết nối" in vi
    assert 'data-error="connect to port 22 failed: connection refused"' in vi
    assert "port 22 refused the connection" in client.get(f"/devices/{router}?lang=en").text
