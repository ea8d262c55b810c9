"""``database.echo = true`` logs statements and parameters, never secrets: SNMP communities and v3 keys,
password hashes and token hashes are ``***`` in the ``sqlalchemy.engine`` log, other parameters stay visible.
On SQLite and PostgreSQL, for inserts, updates, filters and multi-row inserts."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import SQLModel, col

from infra_monitor.accounts.tokens import create_token
from infra_monitor.accounts.users import add_user
from infra_monitor.config import DatabaseConfig
from infra_monitor.db import import_all_models, make_engine
from inventory.models import SnmpProfile

COMMUNITY = "c0mmunity-Sup3r-s3cret"
AUTH_KEY = "auth-key-0123456789"
PRIV_KEY = "priv-key-9876543210"
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def echo_engine(db_url: str) -> Iterator[Engine]:
    import_all_models()
    SQLModel.metadata.create_all(make_engine(db_url))
    engine = make_engine(DatabaseConfig(url=db_url, echo=True))
    yield engine
    engine.dispose()


def _log(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("sqlalchemy.engine"))


def test_snmp_secrets_are_masked_and_other_parameters_shown(echo_engine: Engine,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
        with Session(echo_engine) as session:
            session.add(SnmpProfile(name="core-v2c", version="2c", community=COMMUNITY))
            session.add(SnmpProfile(name="core-v3", version="3", user="monitor", auth_protocol="SHA",
                                    auth_key=AUTH_KEY, priv_protocol="AES", priv_key=PRIV_KEY))
            session.commit()
            session.execute(update(SnmpProfile).where(col(SnmpProfile.name) == "core-v2c")
                            .values(community=COMMUNITY + "-new", description="rotated"))
            session.commit()
            found = session.scalars(select(SnmpProfile).where(col(SnmpProfile.community) == COMMUNITY + "-new")).all()
            assert [p.name for p in found] == ["core-v2c"]
        with echo_engine.begin() as conn:   # one statement, many rows (executemany / insertmanyvalues)
            conn.execute(insert(SnmpProfile.__table__), [  # type: ignore[attr-defined]
                {"name": f"bulk-{i}", "version": "2c", "community": f"{COMMUNITY}-{i}", "user": "", "auth_key": "",
                 "priv_key": "", "port": 161, "description": "", "tags": [], "custom_fields": {}}
                for i in range(3)])
    text = _log(caplog)
    assert "INSERT INTO snmp_profile" in text and "UPDATE snmp_profile" in text
    for secret in (COMMUNITY, AUTH_KEY, PRIV_KEY):
        assert secret not in text
    assert text.count("'***'") >= 7
    for visible in ("core-v2c", "core-v3", "monitor", "SHA", "rotated", "bulk-2"):
        assert f"'{visible}'" in text


def test_password_and_token_hashes_are_masked(echo_engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"), Session(echo_engine) as session:
        user = add_user(session, "truc-ca", PASSWORD, "operator")
        session.commit()
        row, plain = create_token(session, "truc-ca")
        session.commit()
        password_hash, token_hash = user.password_hash, row.token_hash
    text = _log(caplog)
    for secret in (PASSWORD, password_hash, plain, token_hash):
        assert secret not in text
    assert "'truc-ca'" in text and "'operator'" in text and "'***'" in text


def test_sql_logging_turned_on_by_the_logging_configuration_is_masked_too(db_url: str,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    """Without echo, SQLAlchemy still logs statements when its logger is enabled at INFO (a logging config)."""
    import_all_models()
    engine = make_engine(db_url)
    SQLModel.metadata.create_all(engine)
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"), Session(engine) as session:
        session.add(SnmpProfile(name="quiet", community=COMMUNITY))
        session.commit()
    engine.dispose()
    text = _log(caplog)
    assert "INSERT INTO snmp_profile" in text and "'quiet'" in text and "'***'" in text
    assert COMMUNITY not in text


def test_logged_result_rows_mask_secret_columns(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """Rows are logged when the logging configuration puts ``sqlalchemy.engine`` at DEBUG."""
    import_all_models()
    engine = make_engine(db_url)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(SnmpProfile(name="rows", version="3", user="monitor", auth_key=AUTH_KEY, priv_key=PRIV_KEY))
        session.commit()
    with caplog.at_level(logging.DEBUG, logger="sqlalchemy.engine"), Session(engine) as session:
        assert session.scalars(select(SnmpProfile)).one().auth_key == AUTH_KEY
    engine.dispose()
    text = _log(caplog)
    assert "Row (" in text and "'rows'" in text and "'monitor'" in text and "'***'" in text
    assert AUTH_KEY not in text and PRIV_KEY not in text
