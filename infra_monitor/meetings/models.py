"""Tables of meetings: the meeting, its participants, each readiness check and its per-room results, and the
operators' "check now" requests the poller picks up.

All times are UTC (``UTCDateTime``). A participant is one of three kinds (:data:`PARTICIPANT_KINDS`): an
explicit endpoint, a site (every endpoint there), or a level ("all communes", optionally of one district,
``region_id``) — resolved against the inventory at check time, so an endpoint added later takes part.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from inventory.models.base import UTCDateTime, utcnow

ENDPOINT = "endpoint"
SITE = "site"
LEVEL = "level"
PARTICIPANT_KINDS = (ENDPOINT, SITE, LEVEL)
LEVEL_VALUES = ("commune", "district", "department")


class Meeting(SQLModel, table=True):
    __tablename__ = "meeting"
    __table_args__ = (Index("ix_meeting_start", "start"),)

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    start: datetime = UTCDateTime()
    duration_min: int = Field(gt=0, le=24 * 60)
    mcu_device_id: int = Field(foreign_key="device.id", ondelete="RESTRICT", index=True)
    notes: str = Field(default="", max_length=2000)
    created_by: str = Field(default="", max_length=100)
    created_at: datetime = UTCDateTime(default_factory=utcnow)
    updated_at: datetime = UTCDateTime(default_factory=utcnow)


class MeetingParticipant(SQLModel, table=True):
    __tablename__ = "meeting_participant"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", ondelete="CASCADE", index=True)
    kind: str = Field(max_length=10)
    endpoint_id: int | None = Field(default=None, foreign_key="vc_endpoint.id", ondelete="CASCADE")
    site_id: int | None = Field(default=None, foreign_key="site.id", ondelete="CASCADE")
    level: str | None = Field(default=None, max_length=20)
    region_id: int | None = Field(default=None, foreign_key="region.id", ondelete="CASCADE")


class MeetingCheck(SQLModel, table=True):
    """One readiness check of a meeting: ``lead_min`` for a scheduled sweep (one per lead time), NULL for a
    check an operator asked for (web/API request or ``meeting check``)."""

    __tablename__ = "meeting_check"
    __table_args__ = (Index("uq_meeting_check_lead", "meeting_id", "lead_min", unique=True),
                      Index("ix_meeting_check_meeting_at", "meeting_id", "at"))

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", ondelete="CASCADE")
    at: datetime = UTCDateTime()
    lead_min: int | None = None
    trigger: str = Field(max_length=20, description="lead, request or cli")
    requested_by: str = Field(default="", max_length=100)
    ready: int = 0
    not_ready: int = 0
    mcu_ok: bool = True


class MeetingRoomResult(SQLModel, table=True):
    """A room's verdict at one check: ``reasons`` is a list of ``{"code", ...params}``; ``change`` compares it
    with the same endpoint at the previous check (see :mod:`infra_monitor.meetings.readiness`)."""

    __tablename__ = "meeting_room_result"

    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(foreign_key="meeting_check.id", ondelete="CASCADE", index=True)
    endpoint_id: int | None = Field(default=None, foreign_key="vc_endpoint.id", ondelete="SET NULL")
    device_name: str = Field(default="", max_length=100)
    room: str = Field(default="", max_length=200)
    site_name: str = Field(default="", max_length=200)
    ready: bool
    reasons: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    change: str = Field(default="", max_length=20)


class MeetingCheckRequest(SQLModel, table=True):
    """An operator's "check now" from the web or the API; the poller process that takes it sets ``done_at``
    (taken: pending requests are those without one), runs it and sets ``check_id``."""

    __tablename__ = "meeting_check_request"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", ondelete="CASCADE", index=True)
    requested_at: datetime = UTCDateTime(default_factory=utcnow)
    requested_by: str = Field(default="", max_length=100)
    done_at: datetime | None = UTCDateTime(default=None)
    check_id: int | None = Field(default=None, foreign_key="meeting_check.id", ondelete="SET NULL")
