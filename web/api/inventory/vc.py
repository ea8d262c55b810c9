"""vc endpoints: videoconference endpoints (hội nghị truyền hình), each a codec device registered to an MCU."""

from __future__ import annotations

from inventory.models import VideoconferenceEndpoint
from web.api.inventory.resources import REGISTRY, Resource

DOMAIN = "vc"

RESOURCES = REGISTRY.add(
    Resource(VideoconferenceEndpoint, brief_fields=("protocol", "uri"),
             display=lambda o: o.uri or o.e164 or o.room or f"#{o.id}"),
)
