"""SIP messages written and read by hand: the OPTIONS request, responses with compact forms, folded lines and
combined Via values, matching answers to their request, framing a TCP stream, SIP URIs, and garbage that
never raises."""

from __future__ import annotations

import random

import pytest

from probes.sip_wire import StreamFramer, answers, build_options, parse_response, parse_uri


def _request() -> tuple[bytes, str, str]:
    req = build_options("sip:room@10.0.0.5", transport="udp", local_host="10.0.0.1", local_port=5099,
                        from_uri="sip:mon@example.invalid", user_agent="infra-monitor", call_id="abc@10.0.0.1",
                        branch="z9hG4bKfixed")
    return req.data, req.call_id, req.branch


def test_options_carries_every_header_rfc_3261_asks() -> None:
    data, _call_id, _branch = _request()
    lines = data.decode().split("\r\n")
    assert lines[0] == "OPTIONS sip:room@10.0.0.5 SIP/2.0"
    assert "Via: SIP/2.0/UDP 10.0.0.1:5099;branch=z9hG4bKfixed;rport" in lines
    for line in ("Max-Forwards: 70", "To: <sip:room@10.0.0.5>", "Call-ID: abc@10.0.0.1", "CSeq: 1 OPTIONS",
                 "Contact: <sip:10.0.0.1:5099;transport=udp>", "Accept: application/sdp", "Content-Length: 0"):
        assert line in lines
    assert any(line.startswith("From: <sip:mon@example.invalid>;tag=") for line in lines)
    assert data.endswith(b"\r\n\r\n")
    other = build_options("sip:room@10.0.0.5", transport="udp", local_host="10.0.0.1", local_port=5099,
                          from_uri="sip:mon@example.invalid", user_agent="x")
    assert other.branch.startswith("z9hG4bK") and other.branch != "z9hG4bKfixed" and other.call_id != "abc@10.0.0.1"


def test_compact_forms_folding_and_lf_only_lines() -> None:
    _data, call_id, branch = _request()
    raw = (f"SIP/2.0 486 Busy Here\nv: SIP/2.0/UDP 10.0.0.1:5099;branch={branch};received=10.0.0.1, "
           f"SIP/2.0/UDP proxy:5060;branch=z9hG4bKproxy\ni:{call_id}\nCSeq: 1\n OPTIONS\n"
           "Server: Room\n\tKit\nl: 0\n\n").encode()
    response = parse_response(raw)
    assert response is not None and (response.code, response.reason) == (486, "Busy Here")
    assert response.headers["via"][1].endswith("branch=z9hG4bKproxy") and len(response.headers["via"]) == 2
    assert response.header("server") == "Room Kit" and response.header("i") == call_id
    req = build_options("sip:room@10.0.0.5", transport="udp", local_host="10.0.0.1", local_port=5099,
                        from_uri="sip:mon@example.invalid", user_agent="x", call_id=call_id, branch=branch)
    assert answers(response, req)


def test_an_answer_must_match_call_id_branch_and_cseq() -> None:
    req = build_options("sip:r@h", transport="tcp", local_host="1.2.3.4", local_port=1, from_uri="sip:a@b",
                        user_agent="x", call_id="c1", branch="z9hG4bKb1", cseq=7)
    good = "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 1.2.3.4:1;branch=z9hG4bKb1\r\nCall-ID: c1\r\nCSeq: 7 OPTIONS\r\n\r\n"
    response = parse_response(good.encode())
    assert response is not None and answers(response, req)
    for wrong in (good.replace("c1", "c2"), good.replace("b1", "b2"), good.replace("7 OPTIONS", "8 OPTIONS"),
                  good.replace("7 OPTIONS", "7 INVITE")):
        parsed = parse_response(wrong.encode())
        assert parsed is not None and not answers(parsed, req), wrong


def test_a_stream_is_cut_into_messages_by_content_length() -> None:
    framer = StreamFramer()
    one = b"SIP/2.0 100 Trying\r\nl: 0\r\n\r\n"
    two = b"SIP/2.0 200 OK\r\nContent-Length: 5\r\n\r\nv=0\r\n"
    stream = b"\r\n\r\n" + one + two
    got: list[bytes] = []
    for i in range(0, len(stream), 7):  # arrives in pieces
        got += framer.feed(stream[i:i + 7])
    assert got == [one, two] and framer.buffer == b""
    parsed = [parse_response(m) for m in got]
    assert [p.code for p in parsed if p] == [100, 200]


@pytest.mark.parametrize(("text", "parts"), [
    ("sip:room@10.0.0.5", ("sip", "10.0.0.5", None, None)),
    ("SIP:Room@codec.example:5070;transport=TCP", ("sip", "codec.example", 5070, "tcp")),
    ("sip:[2001:db8::5]:5062", ("sip", "[2001:db8::5]", 5062, None)),
    ("sips:room@10.0.0.5", ("sips", "10.0.0.5", None, None)),
])
def test_sip_uris(text: str, parts: tuple[object, ...]) -> None:
    uri = parse_uri(text)
    assert uri is not None and (uri.scheme, uri.host, uri.port, uri.transport) == parts


@pytest.mark.parametrize("text", ["", "sip:", "h323:room@10.0.0.5", "sip:room@", "sip:a@b:99999", "sip:[zz::1]",
                                  "room@10.0.0.5", "sip:a b@c"])
def test_not_sip_uris(text: str) -> None:
    assert parse_uri(text) is None


def test_random_bytes_never_raise() -> None:
    rng = random.Random(13)
    seeds = [b"SIP/2.0 200 OK\r\nVia: x\r\nl: 3\r\n\r\nabc", b"SIP/2.0 486 Busy\r\n \r\n\tfold\r\n\r\n"]
    for _ in range(3000):
        base = bytearray(rng.choice(seeds) if rng.random() < 0.7 else rng.randbytes(rng.randrange(0, 200)))
        for _ in range(rng.randrange(0, 6)):
            if base:
                base[rng.randrange(len(base))] = rng.randrange(256)
        parse_response(bytes(base))
        try:
            for message in StreamFramer().feed(bytes(base)):
                parse_response(message)
        except ValueError:
            pass  # the one error the framer may give: a head it cannot frame
