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

from probes.base import ProbeSettings, Target
from tests.probes.conftest import free_port, probe_once

SETTINGS = ProbeSettings(timeout_s=2.0)
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
    result = probe_once("tcp", Target(key="web", address="127.0.0.1", port=http_port), SETTINGS)
    assert result.success and result.error is None
    assert result.measurements["connect_ms"] >= 0


def test_closed_tcp_port_fails_with_the_reason() -> None:
    result = probe_once("tcp", Target(key="web", address="127.0.0.1", port=free_port(socket.SOCK_STREAM)), SETTINGS)
    assert not result.success
    assert result.error is not None and "refused" in result.error.lower()


def test_tcp_target_without_port_is_an_error() -> None:
    result = probe_once("tcp", Target(key="web", address="127.0.0.1"), SETTINGS)
    assert not result.success and result.error == "target has no TCP port"


def test_http_200_is_up_with_status_and_latency(http_port: int) -> None:
    result = probe_once("http", Target(key="w", address="127.0.0.1", url=f"http://127.0.0.1:{http_port}/"), SETTINGS)
    assert result.success
    assert result.measurements["status_code"] == 200.0
    assert result.measurements["latency_ms"] >= 0
    assert "tls_expiry_days" not in result.measurements


def test_http_500_is_down_and_keeps_the_status(http_port: int) -> None:
    url = f"http://127.0.0.1:{http_port}/broken"
    result = probe_once("http", Target(key="w", address="127.0.0.1", url=url), SETTINGS)
    assert not result.success
    assert result.measurements["status_code"] == 500.0
    assert result.error == "HTTP status 500"


def test_http_redirect_is_followed_to_the_final_status(http_port: int) -> None:
    url = f"http://127.0.0.1:{http_port}/moved"
    result = probe_once("http", Target(key="w", address="127.0.0.1", url=url), SETTINGS)
    assert result.success and result.measurements["status_code"] == 200.0


def test_https_reports_days_until_certificate_expiry(https_port: int) -> None:
    url = f"https://127.0.0.1:{https_port}/"
    insecure = ProbeSettings(timeout_s=2.0, http_verify_tls=False)
    result = probe_once("http", Target(key="w", address="127.0.0.1", url=url), insecure)
    assert result.success, result.error
    assert CERT_DAYS - 1 < result.measurements["tls_expiry_days"] <= CERT_DAYS


def test_https_with_untrusted_certificate_fails_when_verifying(https_port: int) -> None:
    url = f"https://127.0.0.1:{https_port}/"
    result = probe_once("http", Target(key="w", address="127.0.0.1", url=url), SETTINGS)
    assert not result.success
    assert result.error is not None and "certificate" in result.error.lower()


def test_https_trusted_through_a_local_ca_file(https_port: int, self_signed: tuple[Path, Path]) -> None:
    url = f"https://127.0.0.1:{https_port}/"
    result = probe_once("http", Target(key="w", address="127.0.0.1", url=url), SETTINGS,
                        http_ca_file=str(self_signed[0]))
    assert result.success, result.error
    assert result.measurements["tls_expiry_days"] > CERT_DAYS - 1


def test_http_connection_refused_is_down_with_the_reason() -> None:
    url = f"http://127.0.0.1:{free_port(socket.SOCK_STREAM)}/"
    result = probe_once("http", Target(key="w", address="127.0.0.1", url=url), SETTINGS)
    assert not result.success
    assert result.error is not None and "ConnectError" in result.error
