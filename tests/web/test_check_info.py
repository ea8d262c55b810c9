"""A device page shows of each check's ``info`` only what its kind declares (``ProbeKind.info``), labelled in
the page's language and with declared words translated; a kind's raw data (the discovery observation, a
counter of ignored responses) stays off the page, and the discovery check links to the reconciliation."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from infra_monitor.storage.models import LatestResult
from tests.web.builders import Province


def _results(engine: Engine, province: Province) -> int:
    device = province.vc_devices[0]
    observation = json.dumps({"schema": 1, "sys_name": "codec-secret-internals", "interfaces": []})
    with engine.begin() as conn:
        conn.execute(insert(LatestResult), [
            {"device_id": device, "check_key": "vc:1:sip", "kind": "sip", "availability": False,
             "ts": province.now, "success": False, "error": "SIP busy: 486 Busy Here",
             "measurements": {"code": 486.0, "latency_ms": 12.0},
             "info": {"answer": "busy", "reason": "Busy Here", "transport": "udp", "ignored": "7"}},
            {"device_id": device, "check_key": "discovery", "kind": "discovery", "availability": False,
             "ts": province.now, "success": True, "error": None, "measurements": {"interfaces": 2.0},
             "info": {"observation": observation, "notes": "no LLDP-MIB"}},
        ])
    return device


def test_declared_info_is_labelled_and_translated_and_raw_data_stays_off_the_page(
        client: TestClient, engine: Engine, province: Province) -> None:
    device = _results(engine, province)
    vi = client.get(f"/devices/{device}").text
    en = client.get(f"/devices/{device}?lang=en").text
    assert 'data-info="answer">Đang bận<' in vi and 'data-info="answer">Busy<' in en
    assert 'data-info="reason">Busy Here<' in en and 'data-info="notes">no LLDP-MIB<' in en
    assert "Lý do" in vi and "Reason" in en
    for page in (vi, en):
        assert "codec-secret-internals" not in page  # the observation is for /reconcile
        assert 'data-info="ignored"' not in page and 'data-info="observation"' not in page
        assert f'href="/reconcile/{device}"' in page
