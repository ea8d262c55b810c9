"""Meetings as operators manage them (CLI, API, pages share this): validate, create, update, delete, list.

The rules live here once (NetBox's ``clean()``): a title; the start timezone-aware and, when the meeting is
created or moved, in the future; a duration of 1 to 1440 minutes; an MCU that is an existing device; at least
one participant, each an existing endpoint, an existing site, or a level (``commune``, ``district`` or
``department``) optionally within an existing district region. Errors are ``{field: [message]}``.

A participant spec is a dict: ``{"endpoint": <endpoint id or codec device name>}``, ``{"site": <id or slug>}``
or ``{"level": "commune", "district": <region id, code or slug>}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from infra_monitor.meetings.models import (
    ENDPOINT,
    LEVEL,
    LEVEL_VALUES,
    SITE,
    Meeting,
    MeetingParticipant,
)
from inventory.models import Device, Region, Site, VideoconferenceEndpoint

FieldErrors = dict[str, list[str]]
MAX_DURATION_MIN = 24 * 60


class MeetingInputError(ValueError):
    def __init__(self, errors: FieldErrors) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class MeetingIn:
    title: str
    start: datetime | None
    duration_min: int | None
    mcu: int | str | None
    participants: Sequence[Mapping[str, Any]]
    notes: str = ""


MAX_ID = 2**31 - 1


def _id(value: Any) -> int | None:
    """``value`` as a row id when it is one (an int, or digits), within what every backend's INTEGER holds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.isascii() and value.isdigit()):
        number = int(value)
        return number if 1 <= number <= MAX_ID else None
    return None


def _by_id_or(session: Session, model: Any, value: Any, *names: str) -> Any:
    found_id = _id(value)
    if found_id is not None:
        found = session.get(model, found_id)
        if found is not None:
            return found
    if isinstance(value, str) and names and len(value) <= 200:
        conds = [getattr(model, n) == value for n in names]
        return session.execute(select(model).where(or_(*conds)).limit(2)).scalars().first()
    return None


def _endpoint(session: Session, value: Any) -> VideoconferenceEndpoint | None:
    found_id = _id(value)
    if found_id is not None:
        return session.get(VideoconferenceEndpoint, found_id)
    if isinstance(value, str) and len(value) <= 100:
        stmt = (select(VideoconferenceEndpoint).join(Device, col(Device.id) == col(VideoconferenceEndpoint.device_id))
                .where(col(Device.name) == value).limit(1))
        return session.execute(stmt).scalars().first()
    return None


def _participants(session: Session, specs: Sequence[Mapping[str, Any]],
                  errors: FieldErrors) -> list[MeetingParticipant]:
    out: list[MeetingParticipant] = []
    if not specs:
        errors.setdefault("participants", []).append("At least one participant (endpoint, site or level) is required.")
    for i, spec in enumerate(specs):
        where = f"participants[{i}]"
        if not isinstance(spec, Mapping):
            errors.setdefault(where, []).append("Expected an object with endpoint, site or level.")
            continue
        keys = [k for k in (ENDPOINT, SITE, LEVEL) if spec.get(k) not in (None, "")]
        if len(keys) != 1 or set(spec) - {ENDPOINT, SITE, LEVEL, "district"}:
            errors.setdefault(where, []).append("Give exactly one of endpoint, site or level (level may add district).")
            continue
        key, value = keys[0], spec[keys[0]]
        if key == ENDPOINT:
            ep = _endpoint(session, value)
            if ep is None:
                errors.setdefault(where, []).append(f"No videoconference endpoint {value!r} (id or codec device name).")
            else:
                out.append(MeetingParticipant(meeting_id=0, kind=ENDPOINT, endpoint_id=ep.id))
        elif key == SITE:
            site = _by_id_or(session, Site, value, "slug")
            if site is None:
                errors.setdefault(where, []).append(f"No site {value!r} (id or slug).")
            else:
                out.append(MeetingParticipant(meeting_id=0, kind=SITE, site_id=site.id))
        else:
            if value not in LEVEL_VALUES:
                errors.setdefault(where, []).append(f"Unknown level {value!r}; known: {', '.join(LEVEL_VALUES)}.")
                continue
            region_id = None
            if spec.get("district") not in (None, ""):
                region = _by_id_or(session, Region, spec["district"], "code", "slug")
                if region is None:
                    errors.setdefault(where, []).append(f"No district {spec['district']!r} (region id, code or slug).")
                    continue
                region_id = region.id
            out.append(MeetingParticipant(meeting_id=0, kind=LEVEL, level=str(value),
                                          region_id=region_id))
    return out


Validated = tuple[FieldErrors, Device | None, list[MeetingParticipant]]


def validate(session: Session, data: MeetingIn, now: datetime, *, moved: bool = True) -> Validated:
    """Every problem with ``data``; ``moved`` = the start is new (created, or changed), so it must be future."""
    errors: FieldErrors = {}
    if not data.title or not data.title.strip():
        errors["title"] = ["This field is required."]
    elif len(data.title) > 200:
        errors["title"] = ["At most 200 characters."]
    if data.start is None:
        errors["start"] = ["This field is required (ISO 8601 with offset, or local time)."]
    elif data.start.tzinfo is None:
        errors["start"] = ["The start must carry a timezone (times are stored in UTC)."]
    elif moved and data.start <= now:
        errors["start"] = [f"The start ({data.start.isoformat()}) must be in the future."]
    if data.duration_min is None or isinstance(data.duration_min, bool) or not isinstance(data.duration_min, int):
        errors["duration_min"] = ["A whole number of minutes is required."]
    elif not 0 < data.duration_min <= MAX_DURATION_MIN:
        errors["duration_min"] = [f"Must be between 1 and {MAX_DURATION_MIN} minutes."]
    mcu = None
    if data.mcu in (None, ""):
        errors["mcu"] = ["This field is required (device id or name)."]
    else:
        mcu = _by_id_or(session, Device, data.mcu, "name")
        if mcu is None:
            errors["mcu"] = [f"No device {data.mcu!r} (id or name)."]
    if len(data.notes or "") > 2000:
        errors["notes"] = ["At most 2000 characters."]
    parts = _participants(session, data.participants, errors)
    return errors, mcu, parts


def create(session: Session, data: MeetingIn, created_by: str, now: datetime) -> Meeting:
    """Validate and add a meeting (the caller commits); :class:`MeetingInputError` when anything is wrong."""
    errors, mcu, parts = validate(session, data, now)
    if errors:
        raise MeetingInputError(errors)
    assert mcu is not None and data.start is not None and data.duration_min is not None
    meeting = Meeting(title=data.title.strip(), start=data.start, duration_min=data.duration_min,
                      mcu_device_id=int(mcu.id or 0),
                      notes=data.notes or "", created_by=created_by, created_at=now, updated_at=now)
    session.add(meeting)
    session.flush()
    for p in parts:
        p.meeting_id = int(meeting.id or 0)
        session.add(p)
    session.flush()
    return meeting


def update(session: Session, meeting: Meeting, changes: Mapping[str, Any], now: datetime) -> Meeting:
    """Apply ``changes`` (any of title, start, duration_min, mcu, participants, notes), validated as a whole."""
    current = participant_specs(session, meeting.id or 0)
    data = MeetingIn(title=changes.get("title", meeting.title), start=changes.get("start", meeting.start),
                     duration_min=changes.get("duration_min", meeting.duration_min),
                     mcu=changes.get("mcu", meeting.mcu_device_id),
                     participants=changes.get("participants", current), notes=changes.get("notes", meeting.notes))
    moved = "start" in changes and changes["start"] != meeting.start
    errors, mcu, parts = validate(session, data, now, moved=moved)
    if errors:
        raise MeetingInputError(errors)
    assert mcu is not None and data.start is not None and data.duration_min is not None
    meeting.title, meeting.start, meeting.duration_min = data.title.strip(), data.start, data.duration_min
    meeting.mcu_device_id, meeting.notes, meeting.updated_at = int(mcu.id or 0), data.notes or "", now
    session.add(meeting)
    if "participants" in changes:
        session.execute(delete(MeetingParticipant).where(col(MeetingParticipant.meeting_id) == meeting.id))
        for p in parts:
            p.meeting_id = int(meeting.id or 0)
            session.add(p)
    session.flush()
    return meeting


def participant_specs(session: Session, meeting_id: int) -> list[dict[str, Any]]:
    """The participants as specs (the shape :class:`MeetingIn` takes), in the order they were given."""
    rows = session.execute(select(MeetingParticipant).where(col(MeetingParticipant.meeting_id) == meeting_id)
                           .order_by(col(MeetingParticipant.id))).scalars()
    out: list[dict[str, Any]] = []
    for p in rows:
        if p.kind == ENDPOINT:
            out.append({ENDPOINT: p.endpoint_id})
        elif p.kind == SITE:
            out.append({SITE: p.site_id})
        else:
            out.append({LEVEL: p.level, "district": p.region_id} if p.region_id else {LEVEL: p.level})
    return out


def list_meetings(session: Session, limit: int, offset: int, upcoming_after: datetime | None = None
                  ) -> tuple[int, list[Meeting]]:
    """Every meeting by start, newest first; or (``upcoming_after`` = now) only those not over yet
    (start + duration after now), soonest first. The latter are few: the candidates (started at most the
    longest duration ago) are read and the ones over are left out here, the same on both backends."""
    if upcoming_after is None:
        total = int(session.execute(select(func.count()).select_from(Meeting)).scalar_one())
        stmt = select(Meeting).order_by(col(Meeting.start).desc(), col(Meeting.id).desc()).limit(limit).offset(offset)
        return total, list(session.execute(stmt).scalars())
    since = upcoming_after - timedelta(minutes=MAX_DURATION_MIN)
    candidates = session.execute(select(Meeting).where(col(Meeting.start) > since)
                                 .order_by(col(Meeting.start), col(Meeting.id))).scalars()
    live = [m for m in candidates if m.start + timedelta(minutes=m.duration_min) > upcoming_after]
    return len(live), live[offset:offset + limit]
