"""``clean(session, obj)``: the one place the API, the importer and the CLI ask whether an object is valid."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.models import Device, DeviceRole, Interface, IPAddress, Site, SnmpProfile
from inventory.search import fold, q_filter
from inventory.validation import InventoryValidationError


@pytest.fixture
def two_devices(session: Session) -> tuple[Device, Device]:
    site = Site(slug="dc", name="Trung tâm tích hợp dữ liệu", category="datacenter")
    role = DeviceRole(slug="router", name="Router")
    session.add_all([site, role])
    session.flush()
    a, b = (Device(site_id=site.id, name=n, role_id=role.id) for n in ("core-a", "core-b"))
    session.add_all([a, b])
    session.flush()
    iface = Interface(device_id=a.id, name="Lo0", type="virtual")
    session.add(iface)
    session.flush()
    session.add(IPAddress(address="127.10.0.1/32", interface_id=iface.id))
    session.commit()
    return a, b


def test_primary_ip_must_be_on_one_of_the_devices_interfaces(session: Session,
                                                              two_devices: tuple[Device, Device]) -> None:
    a, b = two_devices
    ip = session.scalars(select(IPAddress)).one()

    b.primary_ip_id = ip.id
    errors = b.clean(session)
    a.primary_ip_id = ip.id

    assert list(errors) == ["primary_ip_id"]
    assert "127.10.0.1/32 is on interface 'Lo0' of device 'core-a'" in errors["primary_ip_id"][0]
    assert a.clean(session) == {}


def test_ip_address_is_normalised_and_unique_across_the_inventory(session: Session,
                                                                   two_devices: tuple[Device, Device]) -> None:
    fresh = IPAddress(address=" 127.10.0.1 ")
    wrong = IPAddress(address="127.10.0.300/24")

    duplicate = fresh.clean(session)

    assert (fresh.address, fresh.host) == ("127.10.0.1/32", "127.10.0.1")
    assert "another ip address already has host '127.10.0.1'" in duplicate["host"][0]
    assert "'127.10.0.300/24' is not an IP address" in wrong.clean(session)["address"][0]


def test_parent_cycle_names_the_devices(session: Session, two_devices: tuple[Device, Device]) -> None:
    a, b = two_devices
    a.parent_id, b.parent_id = b.id, a.id

    with pytest.raises(InventoryValidationError) as caught:
        a.full_clean(session)

    assert caught.value.errors == {
        "parent_id": ["device 'core-a': the parent chain is a cycle: core-a → core-b → core-a; "
                      "a device cannot be its own ancestor"]}


@pytest.mark.parametrize(("fields", "expected"), [
    ({"version": "2c"}, {"community": "SNMPv2c needs a community"}),
    ({"version": "3", "auth_protocol": "sha", "auth_key": "short"},
     {"user": "SNMPv3 needs a user name", "auth_key": "the authentication key must be at least 8 characters"}),
    ({"version": "3", "user": "u", "auth_protocol": "sha1", "auth_key": "longenough"},
     {"auth_protocol": "'sha1' is not a valid choice; allowed: md5, sha, sha224, sha256, sha384, sha512"}),
    ({"version": "3", "user": "u", "priv_protocol": "aes", "priv_key": "longenough"},
     {"auth_protocol": "privacy (authPriv) needs an authentication protocol too"}),
    ({"version": "4", "community": "x"}, {"version": "'4' is not a valid choice; allowed: 1, 2c, 3"}),
])
def test_snmp_profile_rules(session: Session, fields: dict[str, str], expected: dict[str, str]) -> None:
    errors = SnmpProfile(name="p", **fields).clean(session)

    assert {k: [m.removeprefix("snmp profile 'p': ") for m in v] for k, v in errors.items()} == {
        k: [v] for k, v in expected.items()}


def test_secrets_never_appear_in_validation_messages(session: Session) -> None:
    errors = SnmpProfile(name="p", version="3", user="u", auth_protocol="md5", auth_key="s3cr").clean(session)

    assert errors and not any("s3cr" in m for msgs in errors.values() for m in msgs)


def test_search_ignores_case_diacritics_and_punctuation(session: Session) -> None:
    session.add_all([Site(slug="h-lang-giang", name="UBND huyện Lạng Giang", category="unit"),
                     Site(slug="x-dong-tien", name="UBND xã Đồng Tiến", category="unit")])
    session.commit()

    def found(q: str) -> list[str]:
        return list(session.scalars(select(Site.slug).where(q_filter(Site, q)).order_by(Site.slug)))

    assert fold("Lạng-Giang, ĐỒNG Tiến") == "lang giang dong tien"
    assert found("lang giang") == found("Lang-Giang") == found("LẠNG giang") == ["h-lang-giang"]
    assert found("dong tien") == ["x-dong-tien"]
    assert found("ubnd") == ["h-lang-giang", "x-dong-tien"]
    assert found("50%_") == []
