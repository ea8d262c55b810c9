"""The reconciliation rules (infra_monitor.reconcile.diff), pure: an observation as the discovery kind writes
it × an inventory snapshot → exactly the differences each rule names, and none where the two agree."""

from __future__ import annotations

from typing import Any

from infra_monitor.reconcile.diff import (
    AddressSnapshot,
    DeviceSnapshot,
    InterfaceSnapshot,
    diff_device,
    same_name,
    short_name,
)
from probes.discovery_oids import enterprise_of, manufacturer_of


def _obs(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "schema": 1, "sys_name": "d213-rt", "sys_object_id": "1.3.6.1.4.1.2636.1.1.1.2.57", "notes": [],
        "interfaces": [
            {"index": 1, "name": "ge-0/0/0", "descr": "ge-0/0/0", "type": 6, "speed_kbps": 1_000_000,
             "oper": "up", "admin": "up"},
            {"index": 2, "name": "ge-0/0/1", "descr": "ge-0/0/1", "type": 6, "speed_kbps": 100_000,
             "oper": "up", "admin": "up"},
            {"index": 9, "name": "lo0", "descr": "lo0", "type": 24, "speed_kbps": None, "oper": "up", "admin": "up"},
        ],
        "addresses": [{"address": "10.1.0.2/30", "if_index": 1, "source": "ipAddrTable"},
                      {"address": "127.0.0.1/8", "if_index": 9, "source": "ipAddrTable"}],
        "neighbours": [{"local_port_num": 1, "local_port": "ge-0/0/0", "sys_name": "core-01.example.vn",
                        "port_id": "Gi0/1", "port_desc": "Gi0/1"}],
    }
    base.update(over)
    return base


def _device(**over: Any) -> DeviceSnapshot:
    fields: dict[str, Any] = {
        "id": 7, "name": "D213-RT", "site": "huyen-213", "manufacturer": "Juniper Networks", "platform": None,
        "interfaces": (InterfaceSnapshot(1, "ge-0/0/0", 1_000_000, True, 100_000, "VNPT-213", "core-01"),
                       InterfaceSnapshot(2, "ge-0/0/1", None, True)),
        "addresses": (AddressSnapshot(1, "10.1.0.2/30", "10.1.0.2", 7, "D213-RT", "ge-0/0/0"),),
    }
    fields.update(over)
    return DeviceSnapshot(**fields)


OWNERS = {"10.1.0.2": AddressSnapshot(1, "10.1.0.2/30", "10.1.0.2", 7, "D213-RT", "ge-0/0/0"),
          "10.9.9.9": AddressSnapshot(5, "10.9.9.9/24", "10.9.9.9", 8, "d215-rt", "ge-0/0/3")}


def _kinds(diffs: list[Any]) -> list[tuple[str, str]]:
    return [(d.kind, d.obj) for d in diffs]


def test_a_device_that_matches_its_inventory_has_no_difference() -> None:
    assert diff_device(_device(), _obs(), OWNERS) == []


def test_names_compare_without_case_and_domain_suffix() -> None:
    assert same_name("CORE-01.bacgiang.gov.vn", "core-01") and same_name("core-01", "Core-01.example")
    assert not same_name("core-02.bacgiang.gov.vn", "core-01") and not same_name("", "core-01")
    assert short_name("core-02.bacgiang.gov.vn") == "core-02" and short_name("10.0.0.1") == "10.0.0.1"
    [d] = diff_device(_device(), _obs(sys_name="d214-rt.bacgiang.gov.vn"), OWNERS)
    assert (d.kind, d.obj, d.inventory, d.observed, d.acceptable) == (
        "name", "device", "D213-RT", "d214-rt.bacgiang.gov.vn", True)


def test_the_manufacturer_implied_by_sysobjectid_is_compared_only_when_the_inventory_names_one() -> None:
    assert enterprise_of("1.3.6.1.4.1.9.1.1208") == 9 and manufacturer_of(".1.3.6.1.4.1.14988.1") == "MikroTik"
    assert manufacturer_of("1.3.6.1.2.1.1") is None and manufacturer_of("1.3.6.1.4.1.999999.1") is None
    [d] = diff_device(_device(), _obs(sys_object_id="1.3.6.1.4.1.9.1.1208"), OWNERS)
    assert (d.kind, d.inventory, d.observed, d.acceptable) == ("manufacturer", "Juniper Networks", "Cisco", False)
    assert diff_device(_device(manufacturer=None), _obs(sys_object_id="1.3.6.1.4.1.9.1.1"), OWNERS) == []
    assert diff_device(_device(manufacturer=None, platform="Cisco IOS-XE"),
                       _obs(sys_object_id="1.3.6.1.4.1.9.1.1"), OWNERS) == []


def test_interfaces_match_by_ifname_then_ifdescr_and_loopbacks_are_never_missing() -> None:
    obs = _obs(interfaces=[
        {"index": 1, "name": "", "descr": "GE-0/0/0", "type": 6, "speed_kbps": 1_000_000, "oper": "up"},
        {"index": 3, "name": "ge-0/0/7", "descr": "ge-0/0/7", "type": 6, "speed_kbps": 10_000, "oper": "up"},
        {"index": 9, "name": "lo0", "descr": "lo0", "type": 24, "speed_kbps": None, "oper": "up"},
    ], neighbours=[])
    diffs = diff_device(_device(), obs, OWNERS)
    assert _kinds(diffs) == [("interface_missing_in_inventory", "interface:ge-0/0/7"),
                             ("interface_missing_on_device", "interface:ge-0/0/1")]
    assert [d.acceptable for d in diffs] == [True, False]
    assert diffs[0].observed == "ge-0/0/7 (10000 kbps)"


def test_speed_commit_rate_and_oper_status_of_matched_interfaces() -> None:
    obs = _obs()
    obs["interfaces"][0] = {**obs["interfaces"][0], "speed_kbps": 10_000, "oper": "lowerLayerDown"}
    diffs = diff_device(_device(), obs, OWNERS)
    assert [(d.kind, d.obj, d.inventory, d.observed) for d in diffs] == [
        ("speed", "interface:ge-0/0/0", "1000000", "10000"),
        ("commit_rate", "interface:ge-0/0/0", "100000 (VNPT-213)", "10000"),
        ("oper_down", "interface:ge-0/0/0", "enabled", "lowerLayerDown"),
    ]
    disabled = _device(interfaces=(InterfaceSnapshot(1, "ge-0/0/0", None, False), InterfaceSnapshot(2, "ge-0/0/1",
                                                                                                    None, True)))
    # disabled in the inventory, no speed recorded, no circuit: only its LLDP neighbour is worth saying
    assert _kinds(diff_device(disabled, obs, OWNERS)) == [("lldp_no_circuit", "neighbour:ge-0/0/0")]


def test_addresses_of_another_device_unknown_ones_and_inventory_ones_the_agent_lacks() -> None:
    obs = _obs(addresses=[{"address": "10.9.9.9/24", "if_index": 2}, {"address": "10.7.7.7/24", "if_index": 2},
                          {"address": "fe80::1/64", "if_index": 2}])
    diffs = diff_device(_device(), obs, OWNERS)
    assert [(d.kind, d.obj, d.inventory, d.observed) for d in diffs] == [
        ("address_other_device", "address:10.9.9.9", "10.9.9.9/24 (d215-rt ge-0/0/3)", "10.9.9.9/24 (ge-0/0/1)"),
        ("address_missing_in_inventory", "address:10.7.7.7", None, "10.7.7.7/24 (ge-0/0/1)"),
        ("address_missing_on_device", "address:10.1.0.2", "10.1.0.2/30 (ge-0/0/0)", None),
    ]
    no_ip_mib = _obs(addresses=[], notes=["no IP-MIB ipAddrTable nor ipAddressTable"])
    assert diff_device(_device(), no_ip_mib, OWNERS) == []  # an agent without the table says nothing of them


def test_lldp_neighbours_are_checked_against_the_far_end_of_the_circuit() -> None:
    wrong = _obs(neighbours=[{"local_port_num": 1, "local_port": "ge-0/0/0", "sys_name": "core-02",
                              "port_id": "Gi0/2", "port_desc": ""},
                             {"local_port_num": 2, "local_port": "", "sys_name": "xa-000-rt",
                              "port_id": "eth0", "port_desc": "uplink"}])
    diffs = diff_device(_device(), wrong, OWNERS)
    assert [(d.kind, d.obj, d.inventory, d.observed) for d in diffs] == [
        ("lldp_neighbour", "neighbour:ge-0/0/0", "core-01 (VNPT-213)", "core-02 (Gi0/2)"),
        ("lldp_no_circuit", "neighbour:ge-0/0/1", None, "xa-000-rt (uplink)"),  # found by its ifIndex
    ]
    assert not any(d.acceptable for d in diffs)
