"""Build videoconference endpoints in a real database for the SIP/H.323 tests: one codec device per endpoint,
each at its own primary address, all in one commune site."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from inventory.models import Device, DeviceRole, Interface, IPAddress, Site, VideoconferenceEndpoint


@dataclass(frozen=True)
class Codec:
    """One endpoint to create: its device name, address, protocol (sip/h323) and URI."""

    name: str
    host: str
    protocol: str = "sip"
    uri: str = ""


def add_codecs(session: Session, codecs: list[Codec], *, site_slug: str = "xa-lab") -> dict[str, tuple[int, int]]:
    """Create the codecs; returns name → (device id, endpoint id)."""
    role = session.query(DeviceRole).filter_by(slug="vc-codec").one_or_none()
    if role is None:
        role = DeviceRole(slug="vc-codec", name="Thiết bị đầu cuối HNTH")
        session.add(role)
    site = session.query(Site).filter_by(slug=site_slug).one_or_none()
    if site is None:
        site = Site(slug=site_slug, name="Xã thử nghiệm", category="commune")
        session.add(site)
    session.flush()
    assert site.id is not None and role.id is not None
    out: dict[str, tuple[int, int]] = {}
    for codec in codecs:
        device = Device(site_id=site.id, name=codec.name, role_id=role.id)
        session.add(device)
        session.flush()
        assert device.id is not None
        iface = Interface(device_id=device.id, name="eth0")
        session.add(iface)
        session.flush()
        addr = IPAddress(address=f"{codec.host}/32", host=codec.host, interface_id=iface.id)
        session.add(addr)
        session.flush()
        device.primary_ip_id = addr.id
        assert device.id is not None
        endpoint = VideoconferenceEndpoint(device_id=device.id, protocol=codec.protocol, uri=codec.uri,
                                           room=f"Phòng họp {codec.name}", e164="0204100")
        session.add(endpoint)
        session.flush()
        assert endpoint.id is not None
        out[codec.name] = (device.id, endpoint.id)
    session.commit()
    return out
