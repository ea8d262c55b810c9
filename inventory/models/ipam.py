"""IP addresses (NetBox's ipam app): an address with prefix length, assigned to an interface.

``host`` (the address without prefix, unique) is derived from ``address`` whenever a row is written, so a
writer that sets only ``address`` stores a consistent pair; validation reports unparseable addresses.
"""

from __future__ import annotations

import ipaddress
from typing import Any, ClassVar

from sqlalchemy import event
from sqlmodel import Field

from inventory.choices import IPAddressStatusChoices
from inventory.models.base import InventoryModel


class IPAddress(InventoryModel, table=True):
    __tablename__ = "ip_address"
    natural_key: ClassVar[tuple[str, ...]] = ("address",)
    api_path: ClassVar[str] = "ipam/ip-addresses"

    address: str = Field(max_length=64, description="address with prefix length, e.g. 10.1.2.3/24")
    host: str = Field(max_length=48, unique=True, description="the address without prefix; unique")
    interface_id: int | None = Field(default=None, foreign_key="interface.id", ondelete="CASCADE", index=True)
    status: str = Field(default=IPAddressStatusChoices.ACTIVE, max_length=20)
    dns_name: str = Field(default="", max_length=255)
    description: str = Field(default="", max_length=200)

    def display(self) -> str:
        return self.address


@event.listens_for(IPAddress, "before_insert")
@event.listens_for(IPAddress, "before_update")
def _derive_host(_mapper: Any, _connection: Any, target: IPAddress) -> None:
    try:
        parsed = ipaddress.ip_interface((target.address or "").strip())
    except ValueError:
        return
    target.address, target.host = parsed.with_prefixlen, str(parsed.ip)
