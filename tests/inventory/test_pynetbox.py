"""NetBox's own client, pynetbox, against the real app served by uvicorn on a loopback port (issue 14, point 4).

A built province (13 sites, 23 devices) behind a real user token; every operation goes over HTTP the way
pynetbox sends it (``Authorization: Token …``, absolute ``next`` links, list bodies for bulk writes).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.config import load_settings
from infra_monitor.db import make_engine
from inventory.models import Device, Site
from tests.browser import served
from tests.requirements import missing
from tests.users import token_for
from tests.web.builders import Province

SITES, DEVICES = 13, 23   # Province.build(communes=10): dc + 2 districts + 10 communes; 1 + 2 + 10 × 2 devices


@dataclass
class NetBox:
    api: Any
    base: str
    engine: Engine
    province: Province


def _pynetbox() -> Any:
    try:
        import pynetbox
    except ImportError:
        missing("pynetbox is not installed (pip install -e '.[test]')")
    return pynetbox


@pytest.fixture
def nb(tmp_path: Path) -> Iterator[NetBox]:
    pynetbox = _pynetbox()
    import infra_monitor.readmodel  # noqa: F401  (the web app's import order)
    from web.app import create_app

    url = f"sqlite:///{tmp_path / 'netbox.db'}"
    engine = make_engine(url)
    province = Province.build(engine, communes=10)
    token = token_for(engine, "netops", "admin")
    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": url})
    app = create_app(settings, engine)
    with served(app) as base:
        # the app must advertise the origin it is served at (pynetbox follows the absolute `next` links)
        app.state.settings = settings.model_copy(
            update={"web": settings.web.model_copy(update={"base_url": base})})
        yield NetBox(pynetbox.api(base, token=token), base, engine, province)
    engine.dispose()


def _site_names(engine: Engine) -> set[str]:
    with Session(engine) as s:
        return set(s.scalars(select(Site.slug)))


def test_status_and_version_read_like_netbox_4(nb: NetBox) -> None:
    assert nb.api.version == "4.2"
    status = nb.api.status()
    assert status["netbox-version"].startswith("4.2")
    assert status["python-version"].count(".") == 2
    assert "infra-monitor-version" in status and status["plugins"] == {}


def test_all_follows_next_links_past_the_page_size(nb: NetBox) -> None:
    sites = list(nb.api.dcim.sites.all(limit=4))            # 4 pages: ?limit=4, then the `next` links
    assert len(sites) == SITES
    assert len({s.id for s in sites}) == SITES
    assert {s.slug for s in sites} == _site_names(nb.engine)
    devices = list(nb.api.dcim.devices.filter(limit=5))
    assert len(devices) == DEVICES
    assert len(nb.api.dcim.devices.all()) == DEVICES          # len() asks for the count (limit=1, brief=1)
    assert nb.api.dcim.devices.count() == DEVICES


def test_filter_by_relation_slug_and_by_id_with_paging(nb: NetBox) -> None:
    communes = list(nb.api.dcim.sites.filter(category="commune", limit=3))
    assert len(communes) == 10 and all(s.category == "commune" for s in communes)
    routers = list(nb.api.dcim.devices.filter(role="router", limit=4))
    assert len(routers) == 13 and {str(d.role) for d in routers} == {"Router"}
    on_site = nb.api.dcim.devices.filter(site="xa-000")
    assert sorted(d.name for d in on_site) == ["xa-000-rt", "xa-000-vc"]
    site_id = nb.api.dcim.sites.get(slug="xa-001").id
    assert sorted(d.name for d in nb.api.dcim.devices.filter(site_id=site_id)) == ["xa-001-rt", "xa-001-vc"]
    assert list(nb.api.dcim.sites.filter(slug="no-such-site")) == []


def test_get_by_id_and_by_name(nb: NetBox) -> None:
    core = nb.api.dcim.devices.get(name="dc-core-01")
    assert core.name == "dc-core-01" and core.site.slug == "dc"
    again = nb.api.dcim.devices.get(core.id)
    assert again.id == core.id and again.primary_ip.address.endswith("/32")
    assert nb.api.dcim.devices.get(999_999) is None
    assert nb.api.dcim.sites.get(slug="nowhere") is None
    with pytest.raises(ValueError, match="more than one"):
        nb.api.dcim.devices.get(role="router")


def test_create_update_save_and_delete_a_site_and_a_device(nb: NetBox) -> None:
    region = nb.api.dcim.regions.get(code="213")
    site = nb.api.dcim.sites.create(slug="so-noi-vu", name="Sở Nội vụ", category="department",
                                    region=region.id)
    assert site.id and site.region.id == region.id
    device = nb.api.dcim.devices.create({"site": site.id, "name": "so-noi-vu-rt", "role": "router",
                                         "monitoring_enabled": False})
    assert device.site.id == site.id and str(device.role) == "Router"

    site.name = "Sở Nội vụ tỉnh Bắc Giang"                     # Record.save(): PATCH of the changed field only
    assert site.save() is True
    assert site.update({"address": "Thành phố Bắc Giang"}) is True
    fetched = nb.api.dcim.sites.get(site.id)
    assert (fetched.name, fetched.address) == ("Sở Nội vụ tỉnh Bắc Giang", "Thành phố Bắc Giang")
    device.serial = "SN-42"
    device.save()
    assert nb.api.dcim.devices.get(device.id).serial == "SN-42"

    import pynetbox

    with pytest.raises(pynetbox.RequestError) as refused:   # NetBox answers 409 while a device refers to it
        site.delete()
    assert refused.value.req.status_code == 409
    assert device.delete() is True and site.delete() is True
    assert nb.api.dcim.sites.get(site.id) is None
    with Session(nb.engine) as s:
        assert s.scalar(select(Device).where(Device.name == "so-noi-vu-rt")) is None


def test_invalid_writes_answer_netbox_field_errors(nb: NetBox) -> None:
    import pynetbox

    with pytest.raises(pynetbox.RequestError) as bad:
        nb.api.dcim.sites.create(slug="Not A Slug", name="x", category="commune")
    assert bad.value.req.status_code == 400 and "slug" in bad.value.error


def test_bulk_create_with_a_list_body_all_or_nothing(nb: NetBox) -> None:
    created = nb.api.tenancy.tenants.create([{"slug": f"ubnd-{i}", "name": f"UBND {i}"} for i in range(3)])
    assert [t.slug for t in created] == ["ubnd-0", "ubnd-1", "ubnd-2"]
    import pynetbox

    before = {t.slug for t in nb.api.tenancy.tenants.all()}
    with pytest.raises(pynetbox.RequestError) as bad:       # one bad object: none of them is created
        nb.api.tenancy.tenants.create([{"slug": "ok-one", "name": "OK"}, {"slug": "ubnd-0", "name": "dup"}])
    assert bad.value.req.status_code == 400
    errors = bad.value.req.json()
    assert errors[0] == {} and "slug" in errors[1]
    assert {t.slug for t in nb.api.tenancy.tenants.all()} == before

    assert sorted(t.slug for t in nb.api.tenancy.tenants.filter(slug=["ubnd-0", "ubnd-2"])) == ["ubnd-0", "ubnd-2"]
    with pytest.raises(pynetbox.RequestError) as not_offered:   # bulk update and delete: one object at a time
        nb.api.tenancy.tenants.delete([t.id for t in created])
    assert not_offered.value.req.status_code == 405
    assert all(t.delete() for t in created)
    assert list(nb.api.tenancy.tenants.filter(slug__ic="ubnd-")) == []


def test_object_changes_of_the_writes_at_netbox_4_and_3_paths(nb: NetBox) -> None:
    site = nb.api.dcim.sites.create(slug="so-tu-phap", name="Sở Tư pháp", category="department")
    site.description = "changed"
    site.save()
    tenants = nb.api.tenancy.tenants.create([{"slug": "t-a", "name": "A"}, {"slug": "t-b", "name": "B"}])
    site.delete()

    changes = list(nb.api.core.object_changes.filter(changed_object_type="dcim.site",
                                                     changed_object_id=site.id))
    assert [c.action.value for c in changes] == ["create", "update", "delete"]
    assert {c.user_name for c in changes} == {"netops"}
    assert changes[1].prechange_data["description"] == "" and changes[1].postchange_data["description"] == "changed"
    bulk = list(nb.api.core.object_changes.filter(changed_object_type="tenancy.tenant"))
    assert sorted(c.changed_object_id for c in bulk) == sorted(t.id for t in tenants)
    assert len({c.request_id for c in bulk}) == 1            # one bulk request, one request id
    old_path = list(nb.api.extras.object_changes.filter(object_type="site", object_id=site.id))
    assert [c.action for c in old_path] == ["create", "update", "delete"]
    assert list(nb.api.core.object_changes.filter(user_name="nobody")) == []
