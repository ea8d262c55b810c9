"""Participants are resolved against the inventory at check time: a level ("all communes of district X")
includes an endpoint added after the meeting was created; sites and explicit endpoints add theirs, each once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import col

from infra_monitor.meetings.manage import MeetingIn, MeetingInputError, create, validate
from infra_monitor.meetings.participants import resolve
from inventory.models import Device, DeviceRole, Region, RegionParentLink, Site, VideoconferenceEndpoint
from tests.web.builders import Province


@pytest.fixture
def province(migrated_engine: Engine) -> Province:
    return Province.build(migrated_engine, communes=4)


def meeting(s: Session, *participants: dict[str, object]) -> int:
    now = datetime.now(UTC)
    m = create(s, MeetingIn(title="Họp", start=now + timedelta(hours=1), duration_min=60, mcu="dc-core-01",
                            participants=list(participants)), "t", now)
    s.commit()
    return int(m.id or 0)


def devices(s: Session, meeting_id: int) -> list[str]:
    return [r.device_name for r in resolve(s, meeting_id, date.today())]


def test_a_level_includes_an_endpoint_added_after_the_meeting_was_created(province: Province) -> None:
    with Session(province.engine) as s:
        mid = meeting(s, {"level": "commune", "district": "213"})
        assert devices(s, mid) == ["xa-000-vc", "xa-002-vc"]
        district = s.execute(select(Region).where(col(Region.code) == "213")).scalar_one()
        region = Region(code="07999", name="Xã Mới", slug="x-999", level="commune")
        s.add(region)
        s.flush()
        s.add(RegionParentLink(region_id=region.id, parent_id=district.id))  # type: ignore[arg-type]
        site = Site(slug="xa-moi", name="UBND xã Mới", category="commune", region_id=region.id)
        s.add(site)
        s.flush()
        role = s.execute(select(DeviceRole).where(col(DeviceRole.slug) == "vc")).scalar_one()
        codec = Device(site_id=site.id, name="xa-moi-vc", role_id=role.id)  # type: ignore[arg-type]
        s.add(codec)
        s.flush()
        s.add(VideoconferenceEndpoint(device_id=codec.id, protocol="sip", room="Hội trường"))  # type: ignore[arg-type]
        s.commit()
        assert devices(s, mid) == ["xa-moi-vc", "xa-000-vc", "xa-002-vc"]   # by site name


def test_sites_endpoints_and_levels_together_list_each_endpoint_once(province: Province) -> None:
    with Session(province.engine) as s:
        mid = meeting(s, {"site": "xa-001"}, {"endpoint": "xa-001-vc"}, {"endpoint": "xa-003-vc"})
        assert devices(s, mid) == ["xa-001-vc", "xa-003-vc"]
        every = meeting(s, {"level": "commune"}, {"site": "xa-000"})
        assert devices(s, every) == ["xa-000-vc", "xa-001-vc", "xa-002-vc", "xa-003-vc"]


def test_the_rules_of_a_meeting(province: Province) -> None:
    now = datetime.now(UTC)
    with Session(province.engine) as s:
        errors, _mcu, _parts = validate(s, MeetingIn(title=" ", start=now.replace(tzinfo=None), duration_min=-5,
                                                     mcu=99999, participants=[{"endpoint": "nope"}]), now)
        assert set(errors) == {"title", "start", "duration_min", "mcu", "participants[0]"}
        assert "timezone" in errors["start"][0] and "99999" in errors["mcu"][0]
        errors, _mcu, _parts = validate(s, MeetingIn(title="x", start=now - timedelta(minutes=1), duration_min=1441,
                                                     mcu="dc-core-01", participants=[]), now)
        assert set(errors) == {"start", "duration_min", "participants"} and "future" in errors["start"][0]
        with pytest.raises(MeetingInputError) as bad:
            create(s, MeetingIn(title="x", start=now + timedelta(minutes=5), duration_min=30, mcu="dc-core-01",
                                participants=[{"site": "xa-000", "level": "commune"}]), "t", now)
        assert "exactly one" in bad.value.errors["participants[0]"][0]
