"""Web sign-in through the real form: session cookie flags, CSRF on every form and unsafe request,
lock-out after wrong passwords, the per-address rate limit, safe redirects, sign-out."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.accounts.users import set_active, set_password
from infra_monitor.config import Settings, WebConfig
from tests.users import PASSWORD, ensure_user

SITE = {"slug": "so-tt-tt", "name": "Sở Thông tin và Truyền thông", "category": "department"}


def _client(engine: Engine, **web: object) -> TestClient:
    from web.app import create_app

    app = create_app(Settings(web=WebConfig(**web)), engine)  # type: ignore[arg-type]
    tls = str(web.get("base_url", "")).startswith("https://")
    # behind a TLS proxy the browser speaks https: so does this client (it keeps Secure cookies only then)
    return TestClient(app, follow_redirects=False, base_url="https://testserver" if tls else "http://testserver")


@pytest.fixture
def client(migrated_engine: Engine) -> Iterator[TestClient]:
    ensure_user(migrated_engine, "quan-tri", "admin")
    ensure_user(migrated_engine, "vien", "viewer")
    with _client(migrated_engine) as c:
        yield c


def _csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD, next_url: str = "/") -> object:
    form = client.get("/login")
    return client.post("/login", data={"username": username, "password": password, "next": next_url,
                                       "csrf_token": _csrf_of(form.text)})


def test_signing_in_sets_a_strict_session_cookie_and_opens_the_pages(client: TestClient,
                                                                     migrated_engine: Engine) -> None:
    resp = login(client, "quan-tri", next_url="/sites?level=commune")
    assert resp.status_code == 303 and resp.headers["location"] == "/sites?level=commune"
    cookie = next(c for c in resp.headers.get_list("set-cookie") if c.startswith("im_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie and "Secure" not in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    page = client.get("/")
    assert page.status_code == 200 and "quan-tri" in page.text and 'id="logout-form"' in page.text
    with migrated_engine.connect() as conn:       # only a hash of the cookie is stored
        stored = conn.execute(text("SELECT session_hash FROM account_session")).scalars().all()
    assert len(stored) == 1 and value not in stored[0] and len(stored[0]) == 64


def test_behind_tls_the_cookie_is_secure(migrated_engine: Engine) -> None:
    ensure_user(migrated_engine, "quan-tri", "admin")
    with _client(migrated_engine, base_url="https://giamsat.example.vn") as c:
        resp = login(c, "quan-tri")
    cookie = next(c for c in resp.headers.get_list("set-cookie") if c.startswith("im_session="))  # type: ignore[attr-defined]
    assert "Secure" in cookie


def test_a_session_write_needs_the_csrf_token(client: TestClient) -> None:
    login(client, "quan-tri")
    refused = client.post("/api/dcim/sites/", json=SITE)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert client.get("/api/dcim/sites/").json()["count"] == 0
    csrf = _csrf_of(client.get("/").text)      # the sign-out form carries the session's token
    assert client.post("/api/dcim/sites/", json=SITE, headers={"X-CSRF-Token": "forged"}).status_code == 403
    made = client.post("/api/dcim/sites/", json=SITE, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201, made.text
    changes = client.get("/api/extras/object-changes/").json()["results"]
    assert changes[0]["actor"] == "quan-tri"


def test_the_sign_in_form_itself_is_csrf_protected(client: TestClient) -> None:
    client.get("/login")
    resp = client.post("/login", data={"username": "quan-tri", "password": PASSWORD, "csrf_token": "guess"})
    assert resp.status_code == 403 and "im_session" not in resp.headers.get("set-cookie", "")


def test_sign_out_needs_the_form_token_and_ends_the_session(client: TestClient, migrated_engine: Engine) -> None:
    login(client, "vien")
    csrf = _csrf_of(client.get("/").text)
    assert client.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
    assert client.get("/").status_code == 200
    out = client.post("/logout", data={"csrf_token": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    with migrated_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM account_session")).scalar_one() == 0
    assert client.get("/").status_code == 303


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"])
def test_next_never_leaves_the_site(client: TestClient, target: str) -> None:
    assert login(client, "vien", next_url=target).headers["location"] == "/"  # type: ignore[attr-defined]


def test_wrong_passwords_lock_the_account_and_a_new_password_unlocks_it(client: TestClient,
                                                                        migrated_engine: Engine) -> None:
    for _ in range(4):
        resp = login(client, "vien", "wrong-password")
        assert resp.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in resp.text  # type: ignore[attr-defined]
    locked = login(client, "vien", "wrong-password")
    assert locked.status_code == 401 and "tạm khoá" in locked.text  # type: ignore[attr-defined]
    still = login(client, "vien")                     # the right password does not open a locked account
    assert still.status_code == 401 and "tạm khoá" in still.text  # type: ignore[attr-defined]
    with Session(migrated_engine) as session:
        set_password(session, "vien", "another-long-password")
        session.commit()
    assert login(client, "vien", "another-long-password").status_code == 303  # type: ignore[attr-defined]


def test_unknown_users_and_disabled_users_are_refused(client: TestClient, migrated_engine: Engine) -> None:
    assert login(client, "khong-co", PASSWORD).status_code == 401  # type: ignore[attr-defined]
    login(client, "vien")
    assert client.get("/").status_code == 200
    with Session(migrated_engine) as session:
        set_active(session, "vien", False)
        session.commit()
    assert client.get("/").status_code == 303            # the open session ends at once
    refused = login(client, "vien")
    assert refused.status_code == 401 and "vô hiệu hoá" in refused.text  # type: ignore[attr-defined]


def test_attempts_are_rate_limited_per_address(migrated_engine: Engine) -> None:
    ensure_user(migrated_engine, "vien", "viewer")
    with _client(migrated_engine, login_rate_per_minute=3, login_max_failures=100) as c:
        codes = [login(c, f"u{i}", "wrong-password").status_code for i in range(5)]  # type: ignore[attr-defined]
        limited = login(c, "vien")
    assert codes == [401, 401, 401, 429, 429]
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1  # type: ignore[attr-defined]
