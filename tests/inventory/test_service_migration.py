"""Migration 0006 moves device custom fields ``tcp_ports``/``http_urls`` into services, on both backends.

A database at revision 0005 with devices carrying those fields (valid, invalid and mixed entries, a value that
is not a list) is upgraded: valid entries become one tcp service and one http service per URL, owned by the
site's tenant; invalid entries stay in the custom field and are named in the migration log. Downgrade puts
them back. The schema the migration builds matches the models (tests/core/test_migrations.py checks it).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import col

from infra_monitor.db import alembic_config, import_all_models, make_engine, upgrade
from inventory.models import Device, DeviceRole, Service, Site, Tenant


@pytest.fixture
def at_0005(db_url: str) -> Engine:
    import_all_models()
    engine = make_engine(db_url)
    # today's models write today's schema (their change log has columns 0005 lacks), which then goes down to 0005
    upgrade(engine)
    with Session(engine) as s:
        tenant = Tenant(slug="so-tttt", name="Sở Thông tin và Truyền thông")
        s.add(tenant)
        s.flush()
        site = Site(slug="dc", name="Trung tâm dữ liệu", category="datacenter", tenant_id=tenant.id)
        bare = Site(slug="other", name="Other", category="unit")
        role = DeviceRole(slug="server", name="Server")
        s.add_all([site, bare, role])
        s.flush()
        assert site.id and bare.id and role.id
        fields: dict[str, dict[str, Any]] = {
            "web-1": {"tcp_ports": [22, "443", 22], "http_urls": ["https://portal.example.vn/", "http://127.0.0.1:8080/x"],
                      "rack_unit": 7},
            "mixed": {"tcp_ports": [80, 70000, "ssh"], "http_urls": ["ftp://files.example.vn/", "http://a.example/"]},
            "scalar": {"tcp_ports": 22, "http_urls": "https://x.example/"},
            "same-host": {"http_urls": ["https://h.example/", "https://h.example"]},
            "plain": {"owner": "vnpt"},
        }
        for name, cf in fields.items():
            s.add(Device(site_id=site.id if name != "plain" else bare.id, name=name, role_id=role.id,
                         custom_fields=cf))
        s.commit()
    command.downgrade(alembic_config(engine), "0005")
    return engine


def _services(engine: Engine) -> dict[str, list[Service]]:
    with Session(engine) as s:
        names = dict(s.execute(select(col(Device.id), col(Device.name))).all())
        out: dict[str, list[Service]] = {}
        for svc in s.scalars(select(Service).order_by(col(Service.id))):
            out.setdefault(names[svc.device_id], []).append(svc)
        return out


def _custom_fields(engine: Engine) -> dict[str, dict[str, Any]]:
    with Session(engine) as s:
        return dict(s.execute(select(col(Device.name), col(Device.custom_fields))).all())


def test_custom_field_ports_and_urls_become_services_and_invalid_entries_stay(
        at_0005: Engine, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="infra_monitor.migrations"):
        upgrade(at_0005, "0006")
    services = _services(at_0005)
    web = {s.name: s for s in services["web-1"]}
    assert set(web) == {"TCP 22/443", "HTTPS portal.example.vn", "HTTP 127.0.0.1:8080/x"}
    assert web["TCP 22/443"].kind == "tcp" and web["TCP 22/443"].ports == [22, 443]
    assert web["HTTPS portal.example.vn"].http_url == "https://portal.example.vn/"
    assert web["HTTPS portal.example.vn"].search_text == "https portal example vn https portal example vn"
    with Session(at_0005) as s:
        tenant_id = s.scalars(select(col(Tenant.id))).one()
    assert {svc.tenant_id for svc in services["web-1"]} == {tenant_id}
    assert all(svc.status == "active" and svc.monitoring_enabled and svc.criticality == "medium"
               for svc in services["web-1"])
    assert [(s.name, s.ports, s.http_url) for s in services["mixed"]] == [("TCP 80", [80], ""),
                                                                      ("HTTP a.example", [], "http://a.example/")]
    assert "scalar" not in services and "plain" not in services
    assert [s.name for s in services["same-host"]] == ["HTTPS h.example", "HTTPS h.example (2)"]

    cf = _custom_fields(at_0005)
    assert cf["web-1"] == {"rack_unit": 7}
    assert cf["mixed"] == {"tcp_ports": [70000, "ssh"], "http_urls": ["ftp://files.example.vn/"]}
    assert cf["scalar"] == {"tcp_ports": 22, "http_urls": "https://x.example/"}
    assert cf["plain"] == {"owner": "vnpt"}

    kept = [r.getMessage() for r in caplog.records if "migration_0006_kept" in r.getMessage()]
    assert len(kept) == 5, kept
    assert any("device='mixed'" in m and "value=70000" in m and "not a port" in m for m in kept)
    assert any("device='scalar'" in m and "field=http_urls" in m and "not a list" in m for m in kept)
    summary = [r.getMessage() for r in caplog.records if "event=migration_0006 " in r.getMessage()]
    assert summary == ["event=migration_0006 services_created=7 entries_kept=5"]


def test_migrated_services_pass_the_model_validation(at_0005: Engine) -> None:
    upgrade(at_0005, "0006")
    with Session(at_0005) as s:
        problems = {svc.name: svc.clean(s) for svc in s.scalars(select(Service))}
    assert problems and all(not p for p in problems.values()), problems


def test_downgrade_puts_the_ports_and_urls_back(at_0005: Engine) -> None:
    before = _custom_fields(at_0005)
    upgrade(at_0005, "0006")
    command.downgrade(alembic_config(at_0005), "0005")
    after = _custom_fields(at_0005)
    assert after["web-1"] == {"rack_unit": 7, "tcp_ports": [22, 443],
                              "http_urls": ["https://portal.example.vn/", "http://127.0.0.1:8080/x"]}
    assert after["mixed"] == {"tcp_ports": [80, 70000, "ssh"], "http_urls": ["http://a.example/", "ftp://files.example.vn/"]}
    assert after["scalar"] == before["scalar"] and after["plain"] == before["plain"]
