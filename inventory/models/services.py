"""Hosted services (NetBox's ``ipam.Service``): an application on a device, checked by one probe kind.

A service belongs to a device (``ON DELETE RESTRICT``: delete its services first), is checked by the probe
``kind`` named in :class:`inventory.choices.ServiceKindChoices` (``tcp``: every port of ``ports``; ``http``:
``http_url`` with the expected status codes, content and TLS expiry warning; ``dns``: ``dns_name`` of
``dns_record_type`` against the device's address on ``ports`` (default 53), optionally expecting
``dns_expected``), is owned by an agency (``tenant``) and may count toward a plan's category
(``counts_toward``, e.g. ``hosted_systems``). Cross-field rules live in :mod:`inventory.rules` (``_service``),
so the API, the bulk import and the pages refuse the same invalid service.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field

from inventory.choices import (
    DNSRecordTypeChoices,
    ServiceCriticalityChoices,
    ServiceProtocolChoices,
    ServiceStatusChoices,
)
from inventory.models.base import PrimaryModel, SearchText


class Service(PrimaryModel, table=True):
    __tablename__ = "service"
    __table_args__ = (UniqueConstraint("device_id", "name", name="uq_service_device_name"),)
    natural_key: ClassVar[tuple[str, ...]] = ("device", "name")
    api_path: ClassVar[str] = "ipam/services"

    device_id: int = Field(foreign_key="device.id", ondelete="RESTRICT", index=True)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=20, index=True, description="the probe kind that checks it: tcp, http, dns")
    protocol: str = Field(default=ServiceProtocolChoices.TCP, max_length=10)
    # Every writer reaches the same rule for the items (inventory.rules._service) and its message: the API's
    # request models take any list for list fields and document the item type (web/api/inventory/schemas.py).
    ports: list[int] = Field(default_factory=list, sa_type=JSON, description="ports 1..65535")
    # ``http_url``, not ``url``: in the REST API ``url`` is the object's own address (NetBox convention)
    http_url: str = Field(default="", max_length=2000, description="http(s) URL, required for http")
    expected_status: list[int] = Field(default_factory=list, sa_type=JSON,
                                       description="accepted HTTP status codes; empty = 200-399")
    expected_content: str = Field(default="", max_length=1000, description="substring of the body; '' = none")
    dns_name: str = Field(default="", max_length=255)
    dns_record_type: str = Field(default=DNSRecordTypeChoices.A, max_length=10)
    dns_expected: list[Any] = Field(default_factory=list, sa_type=JSON, description="expected answers")
    tls_expiry_warning_days: int = Field(default=14, ge=0, le=3650)
    tenant_id: int | None = Field(default=None, foreign_key="tenant.id", ondelete="RESTRICT", index=True)
    criticality: str = Field(default=ServiceCriticalityChoices.MEDIUM, max_length=20)
    counts_toward: str | None = Field(default=None, max_length=50,
                                      description="the plan category it counts toward, e.g. hosted_systems")
    status: str = Field(default=ServiceStatusChoices.ACTIVE, max_length=20, index=True)
    monitoring_enabled: bool = True
    search_text: str = SearchText()

