"""The DNS kind against a real server: dnsmasq on 127.0.0.1 with a zone of our own, a silent UDP socket, and a
name whose answer does not fit a 512-byte UDP message (TC bit, asked again over TCP)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from probes.base import Target
from probes.dns import DnsSettings, build_targets, decode_answer, encode_query
from probes.plugin import DeviceRecord, InventoryRecords, ServiceRecord
from tests.probes.conftest import probe_once
from tests.requirements import missing

SETTINGS = DnsSettings(timeout_s=2.0)
BIG = 40  # A records of big.example: 40 × 16 bytes + header and question > 512 bytes


@dataclass
class Dnsmasq:
    port: int
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = int(u.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port for both UDP and TCP")


def _answers(port: int) -> bool:
    query = encode_query("portal.example", "A", 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        try:
            s.sendto(query, ("127.0.0.1", port))
            return bool(s.recv(4096))
        except OSError:
            return False


@pytest.fixture(scope="module")
def dnsmasq() -> Iterator[Dnsmasq]:
    binary = shutil.which("dnsmasq") or shutil.which("/usr/sbin/dnsmasq")
    if binary is None:
        missing("dnsmasq is not installed (apt-get install -y dnsmasq-base)")
        raise AssertionError("unreachable")
    port = _free_port()
    args = [binary, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--pid-file=",
            f"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces", "--local=/example/",
            "--log-facility=-", "--host-record=portal.example,10.20.30.40",
            "--host-record=dual.example,10.20.30.41,fd00::41", "--cname=www.example,portal.example",
            "--mx-host=example,mail.example,10", "--txt-record=example,v=spf1 -all"]
    args += [f"--host-record=big.example,10.99.0.{i + 1}" for i in range(BIG)]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            if process.poll() is not None:
                raise RuntimeError(f"dnsmasq exited: {process.stderr.read().decode() if process.stderr else ''}")
            if _answers(port):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("dnsmasq did not start answering")
        yield Dnsmasq(port, process)
    finally:
        process.terminate()
        process.wait(10)


def _target(server_port: int, name: str, rtype: str = "A", expected: tuple[str, ...] = ()) -> Target:
    return Target(key=f"dns:{name}/{rtype}", address="127.0.0.1",
                  params={"name": name, "type": rtype, "expected": expected, "port": server_port})


def test_a_record_is_resolved_with_its_latency_and_answers(dnsmasq: Dnsmasq) -> None:
    result = probe_once("dns", _target(dnsmasq.port, "portal.example", expected=("10.20.30.40",)), SETTINGS)
    assert result.success, result.error
    assert result.measurements["latency_ms"] > 0
    assert result.measurements["answers"] == 1.0 and result.measurements["rcode"] == 0.0
    assert result.info["answers"] == "10.20.30.40" and result.info["transport"] == "udp"


@pytest.mark.parametrize(("name", "rtype", "expected"), [
    ("dual.example", "AAAA", ("fd00::41",)),
    ("www.example", "CNAME", ("portal.example.",)),
    ("example", "MX", ("mail.example",)),
    ("example", "MX", ("10 mail.example",)),
    ("example", "TXT", ("v=spf1 -all",)),
])
def test_other_record_types_match_their_expected_answers(dnsmasq: Dnsmasq, name: str, rtype: str,
                                                         expected: tuple[str, ...]) -> None:
    result = probe_once("dns", _target(dnsmasq.port, name, rtype, expected), SETTINGS)
    assert result.success, result.error


def test_a_name_that_does_not_exist_is_nxdomain(dnsmasq: Dnsmasq) -> None:
    result = probe_once("dns", _target(dnsmasq.port, "nowhere.example"), SETTINGS)
    assert not result.success
    assert result.error == "NXDOMAIN for nowhere.example A"
    assert result.measurements["rcode"] == 3.0


def test_a_wrong_answer_fails_and_names_what_came_back(dnsmasq: Dnsmasq) -> None:
    result = probe_once("dns", _target(dnsmasq.port, "portal.example", expected=("10.20.30.99",)), SETTINGS)
    assert not result.success
    assert result.error == "wrong answer for portal.example A: got 10.20.30.40, expected 10.20.30.99"


def test_a_name_without_a_record_of_the_type_is_no_data(dnsmasq: Dnsmasq) -> None:
    result = probe_once("dns", _target(dnsmasq.port, "portal.example", "AAAA"), SETTINGS)
    assert not result.success
    assert result.error == "no AAAA record for portal.example"


def test_a_truncated_udp_answer_is_asked_again_over_tcp(dnsmasq: Dnsmasq) -> None:
    query = encode_query("big.example", "A", 7)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(query, ("127.0.0.1", dnsmasq.port))
        _rcode, truncated, _records = decode_answer(s.recv(4096), 7)
    assert truncated  # the setup really produces a truncated UDP answer
    result = probe_once("dns", _target(dnsmasq.port, "big.example", expected=("10.99.0.1", f"10.99.0.{BIG}")),
                        SETTINGS)
    assert result.success, result.error
    assert result.info["transport"] == "tcp"
    assert result.measurements["answers"] == float(BIG)


def test_a_server_that_never_answers_fails_within_the_timeout() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        result = probe_once("dns", _target(port, "portal.example"), DnsSettings(timeout_s=0.3))
    assert not result.success
    assert result.error == f"no answer from 127.0.0.1:{port} within 0.3s"


def test_services_become_targets_and_bad_ones_are_configuration_errors() -> None:
    device = DeviceRecord(id=1, name="dc-dns", site="dc", address="127.0.0.1")
    good = ServiceRecord(id=4, name="Portal DNS", device_id=1, kind="dns", address="127.0.0.1", ports=(5353,),
                         dns_name="portal.example", dns_record_type="A", dns_expected=("10.20.30.40",))
    bad_type = ServiceRecord(id=5, name="SRV lookup", device_id=1, kind="dns", address="127.0.0.1",
                             dns_name="portal.example", dns_record_type="SRV")
    no_name = ServiceRecord(id=6, name="Nameless", device_id=1, kind="dns", address="127.0.0.1")
    bad_name = ServiceRecord(id=7, name="Spaces", device_id=1, kind="dns", address="127.0.0.1",
                             dns_name="not a name")
    built = build_targets(InventoryRecords(devices=[device], services=[good, bad_type, no_name, bad_name]),
                          DnsSettings())
    [target] = built.targets
    assert (target.check_key, target.availability, target.service_id) == ("service:4:dns", False, 4)
    assert target.params == {"name": "portal.example", "type": "A", "expected": ("10.20.30.40",), "port": 5353}
    assert [(p.check, p.reason) for p in built.problems] == [
        ("service:5:dns", "service 'SRV lookup': record type 'SRV' is not one this prober asks "
                          "(A, NS, CNAME, MX, TXT, AAAA)"),
        ("service:6:dns", "service 'Nameless': no DNS name to ask"),
        ("service:7:dns", "service 'Spaces': not a DNS name: 'not a name'"),
    ]
