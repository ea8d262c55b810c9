"""``infra-monitor user …`` and ``token …`` through the real CLI, then the token used against the real app;
``init --demo`` creates a demo admin once and says how to sign in."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from infra_monitor.cli import app
from infra_monitor.config import Settings

Run = Callable[..., Result]


@pytest.fixture
def run(migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("INFRA_MONITOR_DATABASE__URL", migrated_engine.url.render_as_string(hide_password=False))

    def invoke(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(app, ["--lang", "en", *args], input=stdin)

    return invoke


def _api(engine: Engine) -> TestClient:
    from web.app import create_app

    return TestClient(create_app(Settings(), engine))


def test_users_are_added_listed_and_their_passwords_never_shown(run: Run, migrated_engine: Engine) -> None:
    added = run("user", "add", "lan.nguyen", "--role", "operator", "--name", "Nguyễn Thị Lan", "--password-stdin",
                stdin="mat-khau-du-dai\n")
    assert added.exit_code == 0, added.output
    listed = run("user", "list")
    assert "lan.nguyen" in listed.output and "operator" in listed.output and "mat-khau" not in listed.output
    with migrated_engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM account_user")).scalar_one()
    assert stored.startswith("$argon2id$") and "mat-khau" not in stored


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (("user", "add", "Bad Name", "--password-stdin"), "mat-khau-du-dai\n", "lower-case letters"),
    (("user", "add", "lan", "--role", "root", "--password-stdin"), "mat-khau-du-dai\n", "unknown role 'root'"),
    (("user", "add", "lan", "--password-stdin"), "ngan\n", "at least 10 characters"),
    (("user", "passwd", "khong-co", "--password-stdin"), "mat-khau-du-dai\n", "no user named 'khong-co'"),
    (("token", "create", "--user", "khong-co"), None, "no user named 'khong-co'"),
    (("token", "revoke", "12345"), None, "no token with id or key '12345'"),
])
def test_mistakes_are_named_and_change_nothing(run: Run, migrated_engine: Engine, args: tuple[str, ...],
                                               stdin: str | None, message: str) -> None:
    result = run(*args, stdin=stdin)
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output
    with migrated_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM account_user")).scalar_one() == 0


def test_a_taken_username_is_refused(run: Run) -> None:
    assert run("user", "add", "lan", "--password-stdin", stdin="mat-khau-du-dai\n").exit_code == 0
    again = run("user", "add", "lan", "--password-stdin", stdin="mat-khau-khac-nua\n")
    assert again.exit_code == 2 and "already taken" in again.output


def test_a_token_is_shown_once_works_and_is_revoked(run: Run, migrated_engine: Engine) -> None:
    run("user", "add", "lan", "--role", "viewer", "--password-stdin", stdin="mat-khau-du-dai\n")
    made = run("token", "create", "--user", "lan", "--expires", "30d", "--description", "grafana")
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[0]
    assert re.fullmatch(r"imt_[0-9a-f]{12}_[\w-]{40,}", token)
    with migrated_engine.connect() as conn:
        assert token not in str(conn.execute(text("SELECT * FROM account_token")).all())
    listed = run("token", "list")
    key = token.split("_")[1]
    assert key in listed.output and token not in listed.output and "grafana" in listed.output
    api = _api(migrated_engine)
    assert api.get("/api/dcim/sites/", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert api.get("/api/dcim/sites/", headers={"Authorization": f"Token {token}"}).status_code == 200
    with migrated_engine.connect() as conn:                     # the last use is recorded
        assert conn.execute(text("SELECT last_used FROM account_token")).scalar_one() is not None
    assert run("token", "revoke", key).exit_code == 0
    assert api.get("/api/dcim/sites/", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_read_only_token_of_an_admin_cannot_write(run: Run, migrated_engine: Engine) -> None:
    run("user", "add", "quan-tri", "--role", "admin", "--password-stdin", stdin="mat-khau-du-dai\n")
    token = run("token", "create", "-u", "quan-tri", "--read-only", "--expires", "never").stdout.splitlines()[0]
    api = _api(migrated_engine)
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/dcim/sites/", headers=headers).status_code == 200
    refused = api.post("/api/dcim/sites/", headers=headers, json={"slug": "a", "name": "A", "category": "commune"})
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"]


def test_disable_stops_tokens_and_role_changes_take_effect(run: Run, migrated_engine: Engine) -> None:
    run("user", "add", "lan", "--role", "viewer", "--password-stdin", stdin="mat-khau-du-dai\n")
    token = run("token", "create", "-u", "lan").stdout.splitlines()[0]
    api = _api(migrated_engine)
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/reports/coverage?from=2026-11-01&to=2026-12-01", headers=headers).status_code == 403
    assert run("user", "role", "lan", "operator").exit_code == 0
    assert api.get("/api/reports/coverage?from=2026-11-01&to=2026-12-01", headers=headers).status_code == 200
    assert run("user", "disable", "lan").exit_code == 0
    assert api.get("/api/dcim/sites/", headers=headers).status_code == 401
    assert "disabled" in run("user", "list").output
    assert run("user", "enable", "lan").exit_code == 0
    assert api.get("/api/dcim/sites/", headers=headers).status_code == 200


def test_init_demo_creates_one_admin_and_prints_how_to_sign_in(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("INFRA_MONITOR_DATABASE__URL", f"sqlite:///{tmp_path / 'demo.db'}")
    first = CliRunner().invoke(app, ["--lang", "en", "init", "--demo"])
    assert first.exit_code == 0, first.output
    found = re.search(r"sign in at (http://127\.0\.0\.1:8000/login) as 'admin' with password (\S+)", first.output)
    assert found, first.output
    second = CliRunner().invoke(app, ["--lang", "en", "init", "--demo"])
    assert "with your account" in second.output and found.group(2) not in second.output
    from infra_monitor.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    from tests.accounts.test_signin import login
    from web.app import create_app

    with TestClient(create_app(Settings(), engine), follow_redirects=False) as client:
        assert login(client, "admin", found.group(2)).status_code == 303  # type: ignore[attr-defined]
        assert client.get("/").status_code == 200
    engine.dispose()
