"""SNMP credential profiles: v1/v2c community or v3 user with auth/priv protocols and keys (secrets).

The three secrets are :class:`~inventory.secretbox.SecretString` columns: stored ``enc:v1:…`` when a
secret key is configured (see docs/secrets.md), read back as plaintext. Writers accept at most 128 characters
of plaintext; the columns are wider so that the ciphertext fits.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlmodel import Field

from inventory.models.base import InventoryModel
from inventory.secretbox import SecretString

SECRET_MAX_LENGTH = 128  # longest plaintext community or v3 key


def SecretField() -> Any:
    """A secret text column: empty by default, at most :data:`SECRET_MAX_LENGTH` characters of plaintext."""
    return Field(default="", max_length=SECRET_MAX_LENGTH,  # type: ignore[call-overload]
                 sa_type=SecretString(SECRET_MAX_LENGTH))


class SnmpProfile(InventoryModel, table=True):
    __tablename__ = "snmp_profile"
    natural_key: ClassVar[tuple[str, ...]] = ("name",)
    secret_fields: ClassVar[tuple[str, ...]] = ("community", "auth_key", "priv_key")
    api_path: ClassVar[str] = "extras/snmp-profiles"

    name: str = Field(max_length=100, unique=True)
    version: str = Field(default="2c", max_length=2)
    community: str = SecretField()
    user: str = Field(default="", max_length=64)
    auth_protocol: str | None = Field(default=None, max_length=10)
    auth_key: str = SecretField()
    priv_protocol: str | None = Field(default=None, max_length=10)
    priv_key: str = SecretField()
    port: int = Field(default=161, ge=1, le=65535)
    description: str = Field(default="", max_length=200)
