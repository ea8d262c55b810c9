"""vc endpoints: videoconference endpoints (hội nghị truyền hình), each a codec device registered to an MCU."""

from __future__ import annotations

from inventory.api.resources import REGISTRY, Resource
from inventory.models import VideoconferenceEndpoint

DOMAIN = "vc"

RESOURCES = REGISTRY.add(
    Resource(VideoconferenceEndpoint, brief_fields=("protocol", "uri"),
             display=lambda o: o.uri or o.e164 or o.room or f"#{o.id}"),
)
