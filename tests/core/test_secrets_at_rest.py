"""Secrets at rest (issue 10, point 6): SNMP secrets stored encrypted when a key is configured, read back
as plaintext, rotated from key to key; encrypted values in the configuration; the key file's protection.

The stored bytes are read with plain SQL (no column type in between), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from infra_monitor.cli import app
from infra_monitor.config import ConfigError, SecurityConfig, Settings, WebConfig, load_settings
from infra_monitor.db import current_revision, head_revision, make_engine, upgrade
from infra_monitor.targets import load_targets
from inventory import secretbox
from inventory.importer import import_document
from tests.probes.conftest import LocalSnmpd, probe_once, snmpd  # noqa: F401 - the snmpd fixture

KEY_A, KEY_B, KEY_C = (Fernet.generate_key().decode() for _ in range(3))
COMMUNITY = "c-plain-4711"
AUTH, PRIV = "auth-plain-4712", "priv-plain-4713"
PLAINTEXTS = (COMMUNITY, AUTH, PRIV)
TOKEN = "t0ken-for-secrets-at-rest"


@pytest.fixture(autouse=True)
def _no_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts without a key; a keyring installed by a test does not outlive it."""
    monkeypatch.delenv(secretbox.ENV_KEY, raising=False)
    secretbox.install(None)
    yield
    secretbox.install(None)


def use_keys(monkeypatch: pytest.MonkeyPatch, *keys: str) -> None:
    if keys:
        monkeypatch.setenv(secretbox.ENV_KEY, ",".join(keys))
    else:
        monkeypatch.delenv(secretbox.ENV_KEY, raising=False)


def inventory_doc(community: str = COMMUNITY, port: int = 161) -> dict[str, Any]:
    def device(name: str, ip: str, profile: str) -> dict[str, Any]:
        return {"site": "xa-a", "name": name, "role": "router", "status": "active", "primary_ip": f"{ip}/32",
                "monitoring": {"enabled": True, "snmp_profile": profile},
                "interfaces": [{"name": "lo", "type": "virtual", "ip_addresses": [{"address": f"{ip}/32"}]}]}

    return {
        "sites": [{"slug": "xa-a", "name": "Xã A", "category": "unit", "status": "active"}],
        "device_roles": [{"slug": "router", "name": "Router"}],
        "snmp_profiles": [
            {"name": "v2c", "version": "2c", "community": community, "port": port},
            {"name": "v3", "version": "3", "user": "mon", "auth_protocol": "sha", "auth_key": AUTH,
             "priv_protocol": "aes", "priv_key": PRIV},
        ],
        "devices": [device("r-v2c", "127.0.0.1", "v2c"), device("r-v3", "127.0.0.2", "v3")],
    }


def fill(engine: Engine, doc: dict[str, Any] | None = None) -> None:
    with Session(engine) as s:
        report = import_document(s, doc or inventory_doc(), source="test")
        assert report.ok, [str(e) for e in report.errors]


def stored(engine: Engine) -> dict[str, tuple[str, str, str]]:
    """The raw column values, by profile name, read with plain SQL."""
    with engine.connect() as conn:
        rows = conn.execute(text("select name, community, auth_key, priv_key from snmp_profile order by id"))
        return {r[0]: (r[1], r[2], r[3]) for r in rows}


def raw_values(engine: Engine) -> list[str]:
    return [v for row in stored(engine).values() for v in row if v]


def cli(engine: Engine, monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str | None = None) -> Any:
    monkeypatch.setenv("INFRA_MONITOR_DATABASE__URL", engine.url.render_as_string(hide_password=False))
    return CliRunner().invoke(app, ["--lang", "en", "--lang", "en", *args], input=stdin)


def opens_with(value: str, *keys: str) -> bool:
    try:
        secretbox.parse_keys(",".join(keys), "test").decrypt(value)
    except secretbox.SecretDecryptError:
        return False
    return True


# --- the database ------------------------------------------------------------------------------------

def test_stored_secrets_are_ciphertext_and_the_targets_get_the_plaintext(
        migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    use_keys(monkeypatch, KEY_A)
    fill(migrated_engine)
    raw = stored(migrated_engine)
    assert raw["v2c"][1:] == ("", "") and raw["v3"][0] == ""  # no secret stays empty
    for value in raw_values(migrated_engine):
        assert value.startswith("enc:v1:") and opens_with(value, KEY_A)
        assert not any(p in value for p in PLAINTEXTS)
    with Session(migrated_engine) as s:
        idx = load_targets(s)
    creds = {t.device: t.param("snmp") for t in idx.targets["snmp"]}
    assert creds["r-v2c"] is not None and creds["r-v2c"].community == COMMUNITY
    assert creds["r-v3"] is not None and (creds["r-v3"].auth_key, creds["r-v3"].priv_key) == (AUTH, PRIV)
    assert idx.skipped == []


def test_without_a_key_secrets_are_stored_as_before(migrated_engine: Engine) -> None:
    fill(migrated_engine)
    assert stored(migrated_engine) == {"v2c": (COMMUNITY, "", ""), "v3": ("", AUTH, PRIV)}


def test_plaintext_longer_than_128_characters_is_still_refused(migrated_engine: Engine,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    use_keys(monkeypatch, KEY_A)
    with Session(migrated_engine) as s:
        report = import_document(s, inventory_doc(community="x" * 129), source="doc.yaml")
    assert not report.ok
    assert any(e.field == "community" and "at most 128" in e.message for e in report.errors), report.errors
    assert stored(migrated_engine) == {}


def test_rotation_from_a_to_b_then_dropping_a(migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(migrated_engine)  # plaintext: written before any key was configured
    use_keys(monkeypatch, KEY_A)
    first = cli(migrated_engine, monkeypatch, "secrets", "rotate")
    assert first.exit_code == 0, first.output
    assert "encrypted 3 plaintext, re-encrypted 0" in first.stdout
    under_a = raw_values(migrated_engine)
    assert all(opens_with(v, KEY_A) for v in under_a)

    use_keys(monkeypatch, KEY_B, KEY_A)  # step 1: the new key first, the old one kept
    second = cli(migrated_engine, monkeypatch, "secrets", "rotate")
    assert second.exit_code == 0, second.output
    assert "re-encrypted 3 from older keys, already current 0" in second.stdout
    again = cli(migrated_engine, monkeypatch, "secrets", "rotate")
    assert "encrypted 0 plaintext, re-encrypted 0 from older keys, already current 3" in again.stdout

    use_keys(monkeypatch, KEY_B)  # step 3: the old key removed
    under_b = raw_values(migrated_engine)
    assert not set(under_a) & set(under_b)  # the old ciphertext is gone
    assert all(opens_with(v, KEY_B) and not opens_with(v, KEY_A) for v in under_b)
    with Session(migrated_engine) as s:
        idx = load_targets(s)
    assert {t.device: t.param("snmp").community for t in idx.targets["snmp"] if t.param("snmp")}["r-v2c"] == COMMUNITY
    status = cli(migrated_engine, monkeypatch, "secrets", "status", "--json")
    assert status.exit_code == 0, status.output
    counts = json.loads(status.stdout)["columns"]
    assert counts["snmp_profile.community"] == {"empty": 1, "plaintext": 0, "current": 1, "older": 0,
                                                "undecryptable": 0}
    assert not any(p in status.stdout for p in PLAINTEXTS)


def test_rotate_decrypt_stores_plaintext_again(migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    use_keys(monkeypatch, KEY_A)
    fill(migrated_engine)
    result = cli(migrated_engine, monkeypatch, "secrets", "rotate", "--decrypt")
    assert result.exit_code == 0, result.output
    assert "decrypted 3" in result.stdout
    assert stored(migrated_engine) == {"v2c": (COMMUNITY, "", ""), "v3": ("", AUTH, PRIV)}


def test_a_profile_under_an_unknown_key_is_skipped_with_its_table_column_and_row(
        migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    use_keys(monkeypatch, KEY_A)
    fill(migrated_engine)
    with migrated_engine.begin() as conn:  # the v3 profile stays readable: re-encrypted under key C
        conn.execute(text("update snmp_profile set auth_key = :a, priv_key = :p where name = 'v3'"), {
            "a": secretbox.parse_keys(KEY_C, "t").encrypt(AUTH), "p": secretbox.parse_keys(KEY_C, "t").encrypt(PRIV)})
        v2c_id = conn.execute(text("select id from snmp_profile where name = 'v2c'")).scalar_one()
    before = stored(migrated_engine)
    use_keys(monkeypatch, KEY_B, KEY_C)  # key A, which encrypted the v2c community, is not configured

    with Session(migrated_engine) as s:
        idx = load_targets(s)  # no exception: one bad profile does not stop the sweep
    assert [t.device for t in idx.targets["snmp"]] == ["r-v3"]
    assert sorted(t.device for t in idx.targets["icmp"]) == ["r-v2c", "r-v3"]
    # every kind that speaks SNMP to the device leaves it out (polling and discovery), for the same reason
    assert sorted(kind for _, kind, _ in idx.skipped) == ["discovery", "snmp"]
    reason = next(r for _, kind, r in idx.skipped if kind == "snmp")
    assert f"snmp_profile.community of row id={v2c_id} ('v2c') cannot be decrypted" in reason
    assert "not among the 2 key(s)" in reason and secretbox.ENV_KEY in reason
    assert COMMUNITY not in reason and "enc:v1:" not in reason

    status = cli(migrated_engine, monkeypatch, "secrets", "status")
    assert status.exit_code == 1
    assert f"cannot decrypt: snmp_profile.community of row id={v2c_id}" in status.stderr
    rotate = cli(migrated_engine, monkeypatch, "secrets", "rotate")
    assert rotate.exit_code == 1
    assert f"snmp_profile.community of row id={v2c_id}" in rotate.stderr and "nothing was changed" in rotate.stderr
    assert stored(migrated_engine) == before  # left as it was, the readable rows too


def test_api_never_returns_secrets_and_stores_new_ones_encrypted(migrated_engine: Engine,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    use_keys(monkeypatch, KEY_A)
    fill(migrated_engine)
    client = TestClient(create_app_with_token(migrated_engine))
    headers = {"Authorization": f"Token {TOKEN}"}
    created = client.post("/api/extras/snmp-profiles/", headers=headers,
                          json={"name": "new", "version": "2c", "community": "c-api-4714"})
    assert created.status_code == 201, created.text
    listing = client.get("/api/extras/snmp-profiles/", headers=headers)
    assert listing.status_code == 200
    body = listing.text
    assert not any(p in body for p in (*PLAINTEXTS, "c-api-4714", "enc:v1:"))
    assert {r["name"]: r["community_set"] for r in listing.json()["results"]} == {"v2c": True, "v3": False,
                                                                                   "new": True}
    new = stored(migrated_engine)["new"][0]
    assert new.startswith("enc:v1:") and "c-api-4714" not in new and opens_with(new, KEY_A)


def create_app_with_token(engine: Engine, key_file: str = "") -> Any:
    from web.app import create_app

    return create_app(Settings(web=WebConfig(admin_token=TOKEN), security=SecurityConfig(key_file=key_file)), engine)


def test_other_writes_keep_an_undecryptable_secret_and_a_new_value_replaces_it(
        migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_keys(monkeypatch, KEY_A)
    fill(migrated_engine)
    before = stored(migrated_engine)["v2c"][0]
    use_keys(monkeypatch)
    keys = write(tmp_path / "keys", KEY_B + "\n")
    client = TestClient(create_app_with_token(migrated_engine, str(keys)))  # the app installs the key file's key
    headers = {"Authorization": f"Token {TOKEN}"}
    pid = {r["name"]: r["id"] for r in client.get("/api/extras/snmp-profiles/", headers=headers).json()["results"]}
    renamed = client.patch(f"/api/extras/snmp-profiles/{pid['v2c']}/", headers=headers, json={"description": "d"})
    assert renamed.status_code == 200, renamed.text
    assert stored(migrated_engine)["v2c"][0] == before  # written back as it was, not re-encrypted garbage
    fixed = client.patch(f"/api/extras/snmp-profiles/{pid['v2c']}/", headers=headers, json={"community": "c-new"})
    assert fixed.status_code == 200, fixed.text
    after = stored(migrated_engine)["v2c"][0]
    assert opens_with(after, KEY_B) and not opens_with(after, KEY_A)
    with Session(migrated_engine) as s:
        idx = load_targets(s)
    assert {t.device: t.param("snmp").community for t in idx.targets["snmp"] if t.param("snmp")}["r-v2c"] == "c-new"


def test_export_with_secrets_writes_plaintext_and_its_import_stores_ciphertext(
        migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_keys(monkeypatch, KEY_A)
    fill(migrated_engine)
    out = tmp_path / "full.yaml"
    exported = cli(migrated_engine, monkeypatch, "export", str(out), "--include-secrets")
    assert exported.exit_code == 0, exported.output
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert {p["name"]: p.get("community") for p in doc["snmp_profiles"]}["v2c"] == COMMUNITY
    assert "enc:v1:" not in out.read_text(encoding="utf-8")

    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    upgrade(other)
    imported = cli(other, monkeypatch, "import", str(out))
    assert imported.exit_code == 0, imported.output
    assert all(v.startswith("enc:v1:") and opens_with(v, KEY_A) for v in raw_values(other))
    assert not any(p in v for v in raw_values(other) for p in PLAINTEXTS)
    other.dispose()


def test_an_snmp_probe_works_with_a_community_stored_encrypted(
        migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch, snmpd: LocalSnmpd) -> None:  # noqa: F811
    from probes.snmp import SnmpSettings

    use_keys(monkeypatch, KEY_A)
    fill(migrated_engine, inventory_doc(community=snmpd.v2c.community, port=snmpd.port))
    assert snmpd.v2c.community not in stored(migrated_engine)["v2c"][0]
    with Session(migrated_engine) as s:
        [target] = [t for t in load_targets(s).targets["snmp"] if t.device == "r-v2c"]
    result = probe_once("snmp", target, SnmpSettings(timeout_s=1.0, snmp_retries=1))
    assert result.success, result.error
    assert result.info["sys_name"] == snmpd.sys_name


def test_upgrade_and_downgrade_keep_a_populated_database(migrated_engine: Engine,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    fill(migrated_engine)  # devices reference the profiles: SQLite could not rebuild the table
    downgrade(migrated_engine, "0002")
    assert current_revision(migrated_engine) == "0002"
    assert column_widths(migrated_engine) == {"community": 128, "auth_key": 128, "priv_key": 128}
    upgrade(migrated_engine, "head")
    assert current_revision(migrated_engine) == head_revision()
    assert stored(migrated_engine) == {"v2c": (COMMUNITY, "", ""), "v3": ("", AUTH, PRIV)}
    assert column_widths(migrated_engine) == {"community": 1024, "auth_key": 1024, "priv_key": 1024}
    if migrated_engine.dialect.name == "sqlite":
        with migrated_engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    use_keys(monkeypatch, KEY_A)
    assert cli(migrated_engine, monkeypatch, "secrets", "rotate").exit_code == 0
    downgrade(migrated_engine, "0003")  # SQLite runs each migration in its own transaction
    with pytest.raises(RuntimeError, match="secrets rotate --decrypt"):
        downgrade(migrated_engine, "0002")
    assert current_revision(migrated_engine) == "0003"  # the refused downgrade changed nothing
    assert column_widths(migrated_engine) == {"community": 1024, "auth_key": 1024, "priv_key": 1024}
    assert all(opens_with(v, KEY_A) for v in raw_values(migrated_engine))
    assert cli(migrated_engine, monkeypatch, "secrets", "rotate", "--decrypt").exit_code == 0
    downgrade(migrated_engine, "0002")
    assert stored(migrated_engine) == {"v2c": (COMMUNITY, "", ""), "v3": ("", AUTH, PRIV)}
    too_old = cli(migrated_engine, monkeypatch, "secrets", "rotate")
    assert too_old.exit_code == 1 and "infra-monitor db upgrade" in too_old.stderr
    assert stored(migrated_engine) == {"v2c": (COMMUNITY, "", ""), "v3": ("", AUTH, PRIV)}


def column_widths(engine: Engine) -> dict[str, int]:
    from sqlalchemy import inspect

    return {c["name"]: getattr(c["type"], "length", 0) for c in inspect(engine).get_columns("snmp_profile")
            if c["name"] in ("community", "auth_key", "priv_key")}


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    from infra_monitor.db import alembic_config

    command.downgrade(alembic_config(engine), revision)


# --- the configuration -------------------------------------------------------------------------------

def write(path: Path, body: str, mode: int = 0o600) -> Path:
    path.write_text(body, encoding="utf-8")
    path.chmod(mode)
    return path


def test_encrypted_config_values_are_decrypted_when_loaded(tmp_path: Path) -> None:
    ring = secretbox.parse_keys(KEY_A, "t")
    keys = write(tmp_path / "keys", f"# infra-monitor\n{KEY_B}\n{KEY_A}\n")
    cfg = write(tmp_path / "c.toml", f'[security]\nkey_file = "{keys}"\n'
                f'[web]\nadmin_token = "{ring.encrypt("tok-4715")}"\n'
                f'[database]\nurl = "{ring.encrypt("postgresql+psycopg://u:db-4716@h/db")}"\n'
                f'[[notifications.webhooks]]\nname = "ops"\nurl = "https://h/x"\nsecret = "{ring.encrypt("hk-4717")}"\n'
                f'[[notifications.email]]\nname = "m"\nhost = "smtp"\nsender = "a@b.vn"\nrecipients = ["c@d.vn"]\n'
                f'password = "{ring.encrypt("smtp-4718")}"\n')
    settings = load_settings(cfg, environ={})
    assert settings.web.admin_token == "tok-4715"
    assert settings.database.url == "postgresql+psycopg://u:db-4716@h/db"
    assert settings.notifications.webhooks[0].secret == "hk-4717"
    assert settings.notifications.email[0].password == "smtp-4718"
    env = load_settings(None, environ={secretbox.ENV_KEY: KEY_A, "INFRA_MONITOR_WEB__ADMIN_TOKEN": ring.encrypt("t2")})
    assert env.web.admin_token == "t2"


@pytest.mark.parametrize("environ", [{}, {secretbox.ENV_KEY: KEY_B}], ids=["no key", "wrong key"])
def test_an_encrypted_config_value_that_cannot_be_decrypted_names_the_key_not_the_value(
        tmp_path: Path, environ: dict[str, str]) -> None:
    token = secretbox.parse_keys(KEY_A, "t").encrypt("smtp-4719")
    cfg = write(tmp_path / "c.toml", '[[notifications.email]]\nname = "m"\nhost = "smtp"\nsender = "a@b.vn"\n'
                f'recipients = ["c@d.vn"]\npassword = "{token}"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, environ=environ)
    msg = str(err.value)
    assert f"{cfg}" in msg and "notifications.email[0].password" in msg
    assert ("no secret key is configured" in msg) if not environ else ("cannot decrypt" in msg)
    assert token not in msg and "smtp-4719" not in msg and KEY_B not in msg


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    keys = write(tmp_path / "keys", KEY_A + "\n", mode=0o644)
    cfg = write(tmp_path / "c.toml", f'[security]\nkey_file = "{keys}"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, environ={})
    msg = str(err.value)
    assert "security.key_file" in msg and "0644" in msg and f"chmod 600 {keys}" in msg and KEY_A not in msg
    result = CliRunner().invoke(app, ["--lang", "en", "secrets", "status", "--config", str(cfg)])
    assert result.exit_code == 2 and "too open" in result.stderr
    keys.chmod(0o600)
    assert load_settings(cfg, environ={}).security.key_file == str(keys)


@pytest.mark.parametrize(("env", "wanted"), [("not-a-key", "key 1 is not a Fernet key"),
                                               (f"{KEY_A},short", "key 2 is not a Fernet key")],
                         ids=["not a key", "good key then short"])  # KEY_A is random: ids must not show it (xdist)
def test_a_bad_key_in_the_environment_is_named_not_shown(env: str, wanted: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(None, environ={secretbox.ENV_KEY: env})
    assert wanted in str(err.value) and secretbox.ENV_KEY in str(err.value)
    assert KEY_A not in str(err.value) and "short" not in str(err.value)


def test_cli_encrypt_output_is_read_back_from_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = tmp_path / "keys"
    made = CliRunner().invoke(app, ["--lang", "en", "secrets", "genkey", "--add-to", str(keys)])
    assert made.exit_code == 0, made.output
    assert oct(os.stat(keys).st_mode & 0o777) == "0o600"
    first = keys.read_text().split()[0]
    again = CliRunner().invoke(app, ["--lang", "en", "secrets", "genkey", "--add-to", str(keys)])
    assert again.exit_code == 0 and keys.read_text().split()[1] == first  # the new key goes first
    cfg = write(tmp_path / "c.toml", f'[security]\nkey_file = "{keys}"\n')
    encrypted = CliRunner().invoke(app, ["--lang", "en",
                                         "secrets", "encrypt", "--config", str(cfg)], input="tok-4720\n")
    assert encrypted.exit_code == 0, encrypted.output
    value = encrypted.stdout.strip()
    assert value.startswith("enc:v1:") and "tok-4720" not in value
    write(cfg, f'[security]\nkey_file = "{keys}"\n[web]\nadmin_token = "{value}"\n')
    assert load_settings(cfg, environ={}).web.admin_token == "tok-4720"
    CliRunner().invoke(app, ["--lang", "en",
                             "secrets", "genkey", "--add-to", str(keys)])  # a rotation: a third key first
    newest = secretbox.read_key_file(keys)
    assert not newest.is_current(value)
    rotated = CliRunner().invoke(app, ["--lang", "en", "secrets", "encrypt", "--config", str(cfg)], input=value)
    assert rotated.exit_code == 0, rotated.output
    assert newest.is_current(rotated.stdout.strip()) and newest.decrypt(rotated.stdout.strip()) == "tok-4720"
    no_key = CliRunner().invoke(app, ["--lang", "en", "secrets", "encrypt"], input="x\n")
    assert no_key.exit_code == 2 and "no secret key is configured" in no_key.stderr
    printed = CliRunner().invoke(app, ["--lang", "en", "secrets", "genkey"])
    assert secretbox.parse_keys(printed.stdout, "stdout").keys  # a usable Fernet key


def test_export_with_secrets_refuses_an_undecryptable_one_and_writes_nothing(
        migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_keys(monkeypatch, KEY_A)
    fill(migrated_engine)
    use_keys(monkeypatch, KEY_B)
    for name in ("full.yaml", "full.json"):
        out = tmp_path / name
        result = cli(migrated_engine, monkeypatch, "export", str(out), "--include-secrets")
        assert result.exit_code == 1, result.output
        assert "snmp_profile.community of row id=" in result.stderr and "nothing was written" in result.stderr
        assert "enc:v1:" not in result.output and not out.exists()
    assert cli(migrated_engine, monkeypatch, "export", str(tmp_path / "plain.yaml")).exit_code == 0


def test_a_long_undecryptable_key_does_not_block_other_changes_to_its_profile(
        migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    use_keys(monkeypatch, KEY_A)
    doc = inventory_doc()
    doc["snmp_profiles"][1]["auth_key"] = "k" * 64  # its ciphertext is longer than 128 characters
    fill(migrated_engine, doc)
    before = stored(migrated_engine)["v3"]
    use_keys(monkeypatch, KEY_B)
    client = TestClient(create_app_with_token(migrated_engine))
    headers = {"Authorization": f"Token {TOKEN}"}
    pid = {r["name"]: r["id"] for r in client.get("/api/extras/snmp-profiles/", headers=headers).json()["results"]}
    resp = client.patch(f"/api/extras/snmp-profiles/{pid['v3']}/", headers=headers, json={"description": "d"})
    assert resp.status_code == 200, resp.text
    assert stored(migrated_engine)["v3"] == before
