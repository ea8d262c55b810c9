"""Videoconference endpoints (hội nghị truyền hình): a codec device registered to an MCU."""

from __future__ import annotations

from typing import ClassVar

from sqlmodel import Field

from inventory.models.base import PrimaryModel


class VideoconferenceEndpoint(PrimaryModel, table=True):
    __tablename__ = "vc_endpoint"
    natural_key: ClassVar[tuple[str, ...]] = ("device",)
    api_path: ClassVar[str] = "vc/endpoints"

    device_id: int = Field(foreign_key="device.id", ondelete="CASCADE", unique=True)
    protocol: str = Field(max_length=10)
    uri: str = Field(default="", max_length=255, description="SIP URI or H.323 alias")
    e164: str = Field(default="", max_length=20, description="E.164 number")
    mcu_id: int | None = Field(default=None, foreign_key="device.id", ondelete="RESTRICT", index=True)
    room: str = Field(default="", max_length=200)

    def display(self) -> str:
        return self.uri or self.e164 or (f"#{self.id}" if self.id is not None else "(new)")
