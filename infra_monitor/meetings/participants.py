"""Who takes part in a meeting, resolved against the inventory at check time (an endpoint added to a commune
later is included): explicit endpoints, every endpoint of a site, or every endpoint at sites of a level
(optionally below one district, as the region tree stands today). A constant number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from infra_monitor.meetings.models import ENDPOINT, LEVEL, SITE, MeetingParticipant
from inventory.models import Device, IPAddress, Site, VideoconferenceEndpoint
from inventory.queries import descendants, site_regions_as_of


@dataclass(frozen=True)
class Room:
    endpoint_id: int
    device_id: int
    device_name: str
    address: str
    protocol: str
    room: str
    site_id: int
    site_name: str
    parent_device_id: int | None


def _all_endpoints(session: Session) -> list[Room]:
    ep = VideoconferenceEndpoint
    stmt: Any = (select(col(ep.id), col(ep.device_id), col(ep.protocol),
                   col(VideoconferenceEndpoint.room), col(Device.name), col(Device.site_id), col(Device.parent_id),
                   col(Site.name).label("site_name"), col(IPAddress.host))
            .join(Device, col(Device.id) == col(VideoconferenceEndpoint.device_id))
            .join(Site, col(Site.id) == col(Device.site_id))
            .outerjoin(IPAddress, col(IPAddress.id) == col(Device.primary_ip_id)))
    return [Room(r.id, r.device_id, r.name, r.host or "", (r.protocol or "").lower(), r.room or "", r.site_id,
                 r.site_name, r.parent_id) for r in session.execute(stmt)]


def resolve(session: Session, meeting_id: int, today: date) -> list[Room]:
    """The rooms of ``meeting_id`` (each endpoint once), by site then room name."""
    parts = list(session.execute(select(MeetingParticipant).where(
        col(MeetingParticipant.meeting_id) == meeting_id)).scalars())
    if not parts:
        return []
    rooms = _all_endpoints(session)
    wanted_eps = {p.endpoint_id for p in parts if p.kind == ENDPOINT}
    wanted_sites = {p.site_id for p in parts if p.kind == SITE}
    levels = [p for p in parts if p.kind == LEVEL]
    site_ok: set[int] = set()
    if levels:
        categories = {r[0]: r[1] for r in session.execute(select(col(Site.id), col(Site.category)))}
        regions = site_regions_as_of(session, today) if any(p.region_id for p in levels) else {}
        below: dict[int, set[int]] = {}
        for p in levels:
            if p.region_id and p.region_id not in below:
                below[p.region_id] = {p.region_id} | {n.id for n in descendants(session, p.region_id, today)}
        for sid, category in categories.items():
            for p in levels:
                if category != p.level:
                    continue
                if p.region_id is None or regions.get(int(sid or 0)) in below[p.region_id]:
                    site_ok.add(int(sid or 0))
    chosen = [r for r in rooms if r.endpoint_id in wanted_eps or r.site_id in wanted_sites or r.site_id in site_ok]
    return sorted(chosen, key=lambda r: (r.site_name, r.room, r.device_name, r.endpoint_id))
