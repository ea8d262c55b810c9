"""TCP and HTTP(S) probers against local servers, including a self-signed HTTPS server."""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from probes.base import Target
from probes.http import HttpSettings
from tests.probes.conftest import free_port, probe_once

SETTINGS = HttpSettings(timeout_s=2.0)
CERT_DAYS = 30


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = {"/": 200, "/broken": 500, "/moved": 302}.get(self.path, 404)
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(server: http.server.ThreadingHTTPServer) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def http_port() -> Iterator[int]:
    yield from _serve(http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler))


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 valid for CERT_DAYS days, made with cryptography."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "probe-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=CERT_DAYS))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    d = tmp_path_factory.mktemp("tls")
    (d / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    return d / "cert.pem", d / "key.pem"


@pytest.fixture(scope="module")
def https_port(self_signed: tuple[Path, Path]) -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(*self_signed)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    yield from _serve(server)


def test_open_tcp_port_reports_connect_time(http_port: int) -> None:
    result = probe_once("tcp", Target(key="web", address="127.0.0.1", params={"port": http_port}), SETTINGS)
    assert result.success and result.error is None
    assert result.measurements["connect_ms"] >= 0


def test_closed_tcp_port_fails_with_the_reason() -> None:
    closed = free_port(socket.SOCK_STREAM)
    result = probe_once("tcp", Target(key="web", address="127.0.0.1", params={"port": closed}), SETTINGS)
    assert not result.success
    assert result.error is not None and "refused" in result.error.lower()


def test_tcp_target_without_port_is_an_error() -> None:
    result = probe_once("tcp", Target(key="web", address="127.0.0.1"), SETTINGS)
    assert not result.success and result.error == "target has no TCP port"


def test_http_200_is_up_with_status_and_latency(http_port: int) -> None:
    url = f"http://127.0.0.1:{http_port}/"
    result = probe_once("http", Target(key="w", address="127.0.0.1", params={"url": url}), SETTINGS)
    assert result.success
    assert result.measurements["status_code"] == 200.0
    assert result.measurements["latency_ms"] >= 0
    assert "tls_expiry_days" not in result.measurements


def test_http_500_is_down_and_keeps_the_status(http_port: int) -> None:
    url = f"http://127.0.0.1:{http_port}/broken"
    result = probe_once("http", Target(key="w", address="127.0.0.1", params={"url": url}), SETTINGS)
    assert not result.success
    assert result.measurements["status_code"] == 500.0
    assert result.error == "HTTP status 500"


def test_http_redirect_is_followed_to_the_final_status(http_port: int) -> None:
    url = f"http://127.0.0.1:{http_port}/moved"
    result = probe_once("http", Target(key="w", address="127.0.0.1", params={"url": url}), SETTINGS)
    assert result.success and result.measurements["status_code"] == 200.0


def test_https_reports_days_until_certificate_expiry(https_port: int) -> None:
    url = f"https://127.0.0.1:{https_port}/"
    insecure = HttpSettings(timeout_s=2.0, verify_tls=False)
    result = probe_once("http", Target(key="w", address="127.0.0.1", params={"url": url}), insecure)
    assert result.success, result.error
    assert CERT_DAYS - 1 < result.measurements["tls_expiry_days"] <= CERT_DAYS


def test_https_with_untrusted_certificate_fails_when_verifying(https_port: int) -> None:
    url = f"https://127.0.0.1:{https_port}/"
    result = probe_once("http", Target(key="w", address="127.0.0.1", params={"url": url}), SETTINGS)
    assert not result.success
    assert result.error is not None and "certificate" in result.error.lower()


def test_https_trusted_through_a_local_ca_file(https_port: int, self_signed: tuple[Path, Path]) -> None:
    url = f"https://127.0.0.1:{https_port}/"
    result = probe_once("http", Target(key="w", address="127.0.0.1", params={"url": url}),
                        HttpSettings(timeout_s=2.0, ca_file=str(self_signed[0])))
    assert result.success, result.error
    assert result.measurements["tls_expiry_days"] > CERT_DAYS - 1


def test_http_connection_refused_is_down_with_the_reason() -> None:
    url = f"http://127.0.0.1:{free_port(socket.SOCK_STREAM)}/"
    result = probe_once("http", Target(key="w", address="127.0.0.1", params={"url": url}), SETTINGS)
    assert not result.success
    assert result.error is not None and "ConnectError" in result.error


def _service_target(url: str, **params: object) -> Target:
    return Target(key="service:1:http", check="service:1:http", address="127.0.0.1", availability=False,
                  service_id=1, params={"url": url, **params})


def test_a_service_expecting_other_status_codes_accepts_them_and_refuses_200(http_port: int) -> None:
    broken = probe_once("http", _service_target(f"http://127.0.0.1:{http_port}/broken", expected_status=(500,)),
                        SETTINGS)
    assert broken.success and broken.measurements["status_code"] == 500.0
    ok = probe_once("http", _service_target(f"http://127.0.0.1:{http_port}/", expected_status=(204,)), SETTINGS)
    assert not ok.success and ok.error == "HTTP status 200"


def test_a_service_expecting_content_fails_without_it(http_port: int) -> None:
    url = f"http://127.0.0.1:{http_port}/"
    assert probe_once("http", _service_target(url, expected_content="ok"), SETTINGS).success
    missing_text = probe_once("http", _service_target(url, expected_content="Cổng dịch vụ công"), SETTINGS)
    assert not missing_text.success
    assert missing_text.error == "expected content 'Cổng dịch vụ công' not in the response"


def test_a_certificate_expiring_within_the_warning_days_is_a_warning_not_a_failure(
        https_port: int, self_signed: tuple[Path, Path]) -> None:
    settings = HttpSettings(timeout_s=2.0, ca_file=str(self_signed[0]))
    url = f"https://127.0.0.1:{https_port}/"
    soon = probe_once("http", _service_target(url, tls_expiry_warning_days=CERT_DAYS + 5), settings)
    assert soon.success and soon.info["warning"].startswith("TLS certificate expires in")
    assert soon.info["http_version"] == "HTTP/1.0"  # what http.server speaks
    later = probe_once("http", _service_target(url, tls_expiry_warning_days=CERT_DAYS - 5), settings)
    assert later.success and "warning" not in later.info


def test_http_services_without_url_use_the_device_address_and_bad_urls_are_configuration_errors() -> None:
    from probes.http import build_targets
    from probes.plugin import DeviceRecord, InventoryRecords, ServiceRecord

    device = DeviceRecord(id=3, name="srv", site="dc", address="fd00::3")
    services = [ServiceRecord(id=1, name="Portal", device_id=3, kind="http", address="fd00::3"),
                ServiceRecord(id=2, name="Old", device_id=3, kind="http", address="fd00::3", url="ftp://x/"),
                ServiceRecord(id=3, name="Mail", device_id=3, kind="tcp", address="fd00::3", ports=(25,))]
    built = build_targets(InventoryRecords(devices=[device], services=services), HttpSettings())
    assert [(t.check_key, t.param("url"), t.availability) for t in built.targets] == [
        ("service:1:http", "http://[fd00::3]/", False)]
    assert [(p.check, p.reason) for p in built.problems] == [
        ("service:2:http", "service 'Old': not an http(s) URL: 'ftp://x/'")]
