"""Videoconference endpoints become SIP or H.323 checks: ``vc:<id>:sip`` / ``vc:<id>:h323`` by the endpoint's
protocol, at its device's address, never availability checks; the Request-URI is the endpoint's SIP URI (its
port and transport honoured) or ``sip:<address>``; a URI the prober cannot use is a configuration error of
that endpoint only. From the database they load in a constant number of queries (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.targets import TargetIndex, load_records, load_targets
from probes import h323, sip
from probes.plugin import DeviceRecord, InventoryRecords, VcEndpointRecord
from tests.probes.vc_inventory import Codec, add_codecs

DEVICES = [DeviceRecord(id=i, name=f"codec-{i}", site="xa-a", address=a)
           for i, a in ((1, "10.1.0.1"), (2, "10.1.0.2"), (3, "10.1.0.3"), (4, "2001:db8::4"), (5, "10.1.0.5"),
                        (6, "10.1.0.6"), (7, "10.1.0.7"), (8, "10.1.0.8"))]


def _ep(i: int, protocol: str = "sip", uri: str = "", device_id: int | None = None) -> VcEndpointRecord:
    device = device_id or i
    address = next((d.address for d in DEVICES if d.id == device), "10.9.9.9")
    return VcEndpointRecord(id=100 + i, device_id=device, protocol=protocol, address=address, uri=uri)


RECORDS = InventoryRecords(devices=DEVICES, vc_endpoints=[
    _ep(1, uri="sip:room1@mcu.example"),                      # the URI as written, default port
    _ep(2),                                                   # no URI: sip:<address>
    _ep(3, uri="h323:alias-3"),                               # not a SIP URI: sip:<address>
    _ep(4),                                                   # IPv6 in brackets
    _ep(5, uri="sip:room5@10.1.0.5:5070;transport=tcp"),      # port and transport from the URI
    _ep(6, uri="sips:room6@10.1.0.6"),                        # TLS: a configuration error
    _ep(7, protocol="h323", uri="room7"),                     # H.323: the other kind
    _ep(8, uri="sip:room8@10.1.0.8;transport=ws"),            # a transport it does not speak
    _ep(9, device_id=99),                                     # its device is not monitored: not checked
])


def test_sip_endpoints_become_sip_checks_with_their_request_uri() -> None:
    built = sip.build_targets(RECORDS, sip.SipSettings())
    got = {t.key: (t.address, t.param("uri"), t.param("port"), t.param("transport")) for t in built.targets}
    assert got == {
        "vc:101:sip": ("10.1.0.1", "sip:room1@mcu.example", 5060, "udp"),
        "vc:102:sip": ("10.1.0.2", "sip:10.1.0.2", 5060, "udp"),
        "vc:103:sip": ("10.1.0.3", "sip:10.1.0.3", 5060, "udp"),
        "vc:104:sip": ("2001:db8::4", "sip:[2001:db8::4]", 5060, "udp"),
        "vc:105:sip": ("10.1.0.5", "sip:room5@10.1.0.5:5070;transport=tcp", 5070, "tcp"),
    }
    assert all(t.check == t.key and t.availability is False and t.service_id is None for t in built.targets)
    assert [(p.device_id, p.check, p.reason) for p in built.problems] == [
        (6, "vc:106:sip", "videoconference endpoint 106: URI 'sips:room6@10.1.0.6' asks for SIP over TLS (sips:), "
                          "which this prober does not speak"),
        (8, "vc:108:sip", "videoconference endpoint 108: URI 'sip:room8@10.1.0.8;transport=ws' asks for transport "
                          "'ws'; this prober speaks udp and tcp")]


def test_settings_choose_the_default_transport_and_port() -> None:
    built = sip.build_targets(RECORDS, sip.SipSettings(transport="tcp", port=5080))
    got = {t.key: (t.param("port"), t.param("transport")) for t in built.targets}
    assert got["vc:102:sip"] == (5080, "tcp") and got["vc:105:sip"] == (5070, "tcp")


def test_h323_endpoints_become_h323_checks() -> None:
    built = h323.build_targets(RECORDS, h323.H323Settings(port=1721))
    assert [(t.key, t.address, t.param("port"), t.availability) for t in built.targets] == [
        ("vc:107:h323", "10.1.0.7", 1721, False)]
    assert built.problems == []


@pytest.mark.parametrize(("settings", "message"), [
    ({"t1_ms": 1000, "t2_ms": 500}, "t2_ms (500) must not be shorter than t1_ms (1000)"),
    ({"transport": "tls"}, "Input should be 'udp' or 'tcp'"),
    ({"from_uri": "mailto:x@y"}, "from_uri must be a sip: or sips: URI"),
    ({"user_agent": "a\r\nX-Injected: 1"}, "user_agent must be one line of text"),
    ({"port": 0}, "greater than or equal to 1"),
])
def test_bad_sip_settings_are_refused(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        sip.SipSettings(**settings)  # type: ignore[arg-type]


def _count_statements(engine: Engine, n_codecs: int, offset: int) -> tuple[int, InventoryRecords]:
    with Session(engine) as s:
        add_codecs(s, [Codec(f"codec-{offset}-{i}", f"10.2.{offset}.{i + 1}", "sip" if i % 2 else "h323",
                             f"sip:r{i}@10.2.{offset}.{i + 1}" if i % 2 else "") for i in range(n_codecs)],
                   site_slug=f"xa-{offset}")
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        with Session(engine) as s:
            records = load_records(s, TargetIndex(), poller_group="default", site_slug=f"xa-{offset}")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements), records


def test_endpoints_load_from_the_database_in_a_constant_number_of_queries(migrated_engine: Engine) -> None:
    few, small = _count_statements(migrated_engine, 2, 1)
    many, large = _count_statements(migrated_engine, 12, 2)
    assert few == many  # one query for the endpoints, whatever their number
    assert len(small.vc_endpoints) == 2 and len(large.vc_endpoints) == 12
    first = large.vc_endpoints[1]
    device = large.device(first.device_id)
    assert device is not None and first.address == device.address and first.protocol == "sip"
    assert first.uri == "sip:r1@10.2.2.2" and first.room == "Phòng họp codec-2-1"
    with Session(migrated_engine) as s:
        idx = load_targets(s, kinds=("sip", "h323"), site_slug="xa-2", log_skipped=False)
    assert len(idx.targets["sip"]) == 6 and len(idx.targets["h323"]) == 6
    assert all(t.key.startswith("vc:") and t.key.endswith(":sip") for t in idx.targets["sip"])
    assert {idx.device_of[t.key] for t in idx.targets["h323"]} == {
        r.device_id for r in large.vc_endpoints if r.protocol == "h323"}
