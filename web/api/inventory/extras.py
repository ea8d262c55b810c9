"""extras endpoints: tags, SNMP profiles (secrets write-only), coverage targets, journal, change log.

The change log (``object-changes``) is read-only: it is written by the session hooks of
:mod:`inventory.changelog` on every write, with secrets masked.
"""

from __future__ import annotations

from inventory.models import CoverageTarget, JournalEntry, ObjectChange, SnmpProfile, Tag
from web.api.inventory.resources import REGISTRY, Resource

DOMAIN = "extras"

RESOURCES = REGISTRY.add(
    Resource(Tag),
    Resource(SnmpProfile, description="SNMP credentials; community and v3 keys are write-only."),
    Resource(CoverageTarget, brief_fields=("plan", "category", "target"),
             display=lambda o: f"{o.plan}: {o.target} {o.category}"),
    Resource(JournalEntry, brief_fields=("kind",),
             display=lambda o: f"{o.kind} on {o.object_type} #{o.object_id}"),
    Resource(ObjectChange, path="extras/object-changes", read_only=True,
             brief_fields=("time", "action", "object_type", "object_id", "request_id"),
             display=lambda o: f"{o.action} {o.object_type} {o.object_repr}"),
)
