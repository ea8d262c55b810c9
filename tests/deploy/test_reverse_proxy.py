"""deploy/nginx/infra-monitor.conf, run by a real nginx over TLS in front of a real ``infra-monitor serve``.

The example file itself is used: only its ports, certificate paths and upstream port are replaced for the
test (a self-signed certificate made here). Through the proxy: HTTP redirects to HTTPS, the sign-in page
answers with HSTS and the app's own security headers, the session cookie is ``Secure`` (uvicorn reads
``X-Forwarded-Proto`` from the local proxy), and API links start with the configured ``web.base_url``.
"""

from __future__ import annotations

import datetime as dt
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from infra_monitor.db import make_engine
from tests.deploy.conftest import Deployed, free_port, make_deployed
from tests.requirements import require_commands
from tests.users import PASSWORD, token_for

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "nginx" / "infra-monitor.conf"
NAME = "giamsat.example.gov.vn"


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


def _wait_http(url: str, **kw: object) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=2, **kw)  # type: ignore[arg-type]
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} never answered")


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[Deployed, int, int, Path]]:
    require_commands("nginx")
    https_port, http_port = free_port(), free_port()
    base_url = f"https://{NAME}:{https_port}"
    deployed = make_deployed(tmp_path / "app")
    deployed.config.write_text(deployed.config.read_text().replace(
        "[web]\n", f'[web]\nbase_url = "{base_url}"\n', 1), encoding="utf-8")
    cert, key = _certificate(tmp_path)
    site = EXAMPLE.read_text(encoding="utf-8")
    for old, new in (("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
                     ("listen [::]:443 ssl http2;", ""), ("listen [::]:80;", ""),
                     ("listen 80;", f"listen 127.0.0.1:{http_port};"),
                     (f"/etc/ssl/certs/{NAME}.pem", str(cert)), (f"/etc/ssl/private/{NAME}.key", str(key)),
                     ("http://127.0.0.1:8000", f"http://127.0.0.1:{deployed.port}"),
                     ("https://$host$request_uri", f"https://$host:{https_port}$request_uri")):
        assert old in site, old
        site = site.replace(old, new)
    prefix = tmp_path / "nginx"
    (prefix / "logs").mkdir(parents=True)
    (prefix / "site.conf").write_text(site, encoding="utf-8")
    (prefix / "nginx.conf").write_text(
        "daemon off;\nmaster_process on;\nworker_processes 1;\nuser root;\n"
        f"pid {prefix}/nginx.pid;\nerror_log {prefix}/logs/error.log warn;\nevents {{ worker_connections 64; }}\n"
        f"http {{\n access_log off;\n client_body_temp_path {prefix}/body;\n proxy_temp_path {prefix}/proxy;\n"
        f" include {prefix}/site.conf;\n}}\n", encoding="utf-8")
    test = subprocess.run(["nginx", "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                          capture_output=True, text=True, timeout=60)
    assert test.returncode == 0, test.stderr
    serve = deployed.popen("serve", "--no-probes")
    nginx = subprocess.Popen(["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_http(f"http://127.0.0.1:{deployed.port}/login")
        _wait_http(f"http://127.0.0.1:{http_port}/")
        yield deployed, https_port, http_port, cert
    finally:
        for proc in (nginx, serve):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _client(cert: Path, https_port: int) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(cert))
    # the certificate names NAME; connect to 127.0.0.1 while TLS and Host say NAME
    transport = httpx.HTTPTransport(verify=context)
    return httpx.Client(base_url=f"https://{NAME}:{https_port}", transport=transport, timeout=10,
                        mounts={f"https://{NAME}:{https_port}": transport})


def test_nginx_example_terminates_tls_and_the_app_knows_it_is_behind_https(
        proxied: tuple[Deployed, int, int, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    deployed, https_port, http_port, cert = proxied
    redirect = httpx.get(f"http://127.0.0.1:{http_port}/login", headers={"Host": NAME})
    assert redirect.status_code == 301
    assert redirect.headers["location"] == f"https://{NAME}:{https_port}/login"

    import socket as socket_module
    real = socket_module.getaddrinfo

    def resolve(host: str, *args: object, **kw: object) -> object:
        return real("127.0.0.1" if host == NAME else host, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(socket_module, "getaddrinfo", resolve)
    engine = make_engine(f"sqlite:///{deployed.db}")
    try:
        token = token_for(engine, "ops", "operator")
    finally:
        engine.dispose()
    with _client(cert, https_port) as client:
        page = client.get("/login")
        assert page.status_code == 200
        assert page.headers["strict-transport-security"] == "max-age=31536000"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
        signed = client.post("/login", data={"username": "ops", "password": PASSWORD, "next": "/",
                                             **_csrf(page.text)}, follow_redirects=False)
        assert signed.status_code in (302, 303), signed.text[:500]
        (session,) = [c for c in signed.headers.get_list("set-cookie") if c.startswith("im_session=")]
        assert "; Secure" in session and "HttpOnly" in session, session
        api = client.get("/api/dcim/sites/", headers={"Authorization": f"Token {token}"})
        assert api.status_code == 200
        assert api.json()["results"] == [] or api.json()["results"][0]["url"].startswith(
            f"https://{NAME}:{https_port}/api/")
        root = client.get("/api/", headers={"Authorization": f"Token {token}"})
        assert root.json()["dcim"] == f"https://{NAME}:{https_port}/api/dcim/"


def _csrf(html: str) -> dict[str, str]:
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    return {"csrf_token": found.group(1)} if found else {}

