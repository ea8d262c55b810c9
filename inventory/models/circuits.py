"""WAN and TSLCD circuits (NetBox's circuits app). Side A is upstream, side Z the served site."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from inventory.choices import CircuitStatusChoices
from inventory.models.base import InventoryModel, PrimaryModel, SearchText


class Provider(InventoryModel, table=True):
    __tablename__ = "provider"
    natural_key: ClassVar[tuple[str, ...]] = ("slug",)
    api_path: ClassVar[str] = "circuits/providers"

    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=100)


class CircuitType(InventoryModel, table=True):
    __tablename__ = "circuit_type"
    natural_key: ClassVar[tuple[str, ...]] = ("slug",)
    api_path: ClassVar[str] = "circuits/circuit-types"

    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=100)


class Circuit(PrimaryModel, table=True):
    __tablename__ = "circuit"
    __table_args__ = (UniqueConstraint("provider_id", "cid", name="uq_circuit_provider_cid"),)
    natural_key: ClassVar[tuple[str, ...]] = ("provider", "cid")
    api_path: ClassVar[str] = "circuits/circuits"

    provider_id: int = Field(foreign_key="provider.id", ondelete="RESTRICT")
    cid: str = Field(max_length=100)
    type_id: int = Field(foreign_key="circuit_type.id", ondelete="RESTRICT")
    status: str = Field(default=CircuitStatusChoices.ACTIVE, max_length=20, index=True)
    commit_rate_kbps: int | None = Field(default=None, ge=0)
    install_date: date | None = None
    search_text: str = SearchText()

    def display(self) -> str:
        return self.cid


class CircuitTermination(InventoryModel, table=True):
    __tablename__ = "circuit_termination"
    __table_args__ = (
        UniqueConstraint("circuit_id", "term_side", name="uq_circuit_termination_side"),
        Index("ix_circuit_termination_device", "device_id"),
        Index("ix_circuit_termination_interface", "interface_id"),
    )

    circuit_id: int = Field(foreign_key="circuit.id", ondelete="CASCADE")
    term_side: str = Field(max_length=1)
    site_id: int = Field(foreign_key="site.id", ondelete="RESTRICT", index=True)
    device_id: int | None = Field(default=None, foreign_key="device.id", ondelete="RESTRICT")
    interface_id: int | None = Field(default=None, foreign_key="interface.id", ondelete="RESTRICT")

    def display(self) -> str:
        return f"circuit #{self.circuit_id} side {self.term_side}"
