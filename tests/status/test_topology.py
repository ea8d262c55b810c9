"""Specification of the parent graph built from devices, sites and circuits."""

from __future__ import annotations

import pytest

from infra_monitor.status.engine.topology import CircuitLink, DeviceNode, TopologyCycleError, build_topology
from tests.status.builders import CORE, DISTRICT, DISTRICT_SWITCH, province


def test_active_circuit_puts_a_side_upstream_of_z_side() -> None:
    topo = province(communes=2)
    assert topo.parents_of(DISTRICT) == {CORE}
    assert topo.parents_of(100) == {DISTRICT}
    assert topo.parents_of(CORE) == frozenset()


def test_device_terminating_no_circuit_hangs_behind_its_site_gateway() -> None:
    topo = province(communes=2)
    assert topo.parents_of(DISTRICT_SWITCH) == {DISTRICT}


def test_inactive_circuit_adds_no_edge() -> None:
    devices = [DeviceNode(1, site_id=1), DeviceNode(2, site_id=2)]
    topo = build_topology(devices, [CircuitLink(1, "planned", a_device_id=1, z_device_id=2)])
    assert topo.parents_of(2) == frozenset()


def test_device_with_two_uplinks_has_two_parents() -> None:
    devices = [DeviceNode(1, site_id=1), DeviceNode(2, site_id=2), DeviceNode(3, site_id=3)]
    circuits = [CircuitLink(1, "active", a_device_id=1, z_device_id=3),
                CircuitLink(2, "active", a_device_id=2, z_device_id=3)]
    assert build_topology(devices, circuits).parents_of(3) == {1, 2}


def test_site_with_two_gateways_puts_its_other_devices_behind_both() -> None:
    devices = [DeviceNode(1, site_id=1), DeviceNode(2, site_id=2), DeviceNode(3, site_id=2),
               DeviceNode(4, site_id=2)]
    circuits = [CircuitLink(1, "active", a_device_id=1, z_device_id=2),
                CircuitLink(2, "active", a_device_id=1, z_device_id=3)]
    assert build_topology(devices, circuits).parents_of(4) == {2, 3}


def test_explicit_parent_overrides_circuits_and_site_gateway() -> None:
    devices = [DeviceNode(1, site_id=1), DeviceNode(2, site_id=2), DeviceNode(3, site_id=2, parent_id=1),
               DeviceNode(4, site_id=2, parent_id=1)]
    circuits = [CircuitLink(1, "active", a_device_id=1, z_device_id=2),
                CircuitLink(2, "active", a_device_id=2, z_device_id=3)]
    topo = build_topology(devices, circuits)
    assert topo.parents_of(3) == {1}
    assert topo.parents_of(4) == {1}


def test_z_termination_on_a_site_puts_that_sites_devices_behind_the_a_side() -> None:
    devices = [DeviceNode(1, site_id=1), DeviceNode(5, site_id=9), DeviceNode(6, site_id=9)]
    topo = build_topology(devices, [CircuitLink(1, "active", a_device_id=1, z_site_id=9)])
    assert topo.parents_of(5) == {1}
    assert topo.parents_of(6) == {1}


def test_a_termination_on_a_site_resolves_to_that_sites_gateways() -> None:
    devices = [DeviceNode(1, site_id=1), DeviceNode(2, site_id=2), DeviceNode(3, site_id=3)]
    circuits = [CircuitLink(1, "active", a_device_id=1, z_device_id=2),
                CircuitLink(2, "active", a_site_id=2, z_device_id=3)]
    assert build_topology(devices, circuits).parents_of(3) == {2}


def test_topological_order_puts_parents_first() -> None:
    topo = province(communes=3)
    order = topo.topological_order()
    assert order.index(CORE) < order.index(DISTRICT) < order.index(100)
    assert sorted(order) == sorted(topo.device_ids)


def test_cycles_are_found_and_name_their_devices() -> None:
    devices = [DeviceNode(1, parent_id=3, name="core"), DeviceNode(2, parent_id=1), DeviceNode(3, parent_id=2),
               DeviceNode(4, parent_id=4), DeviceNode(5, parent_id=1), DeviceNode(6)]
    topo = build_topology(devices, [])
    assert topo.find_cycles() == [[1, 2, 3], [4]]
    with pytest.raises(TopologyCycleError) as err:
        topo.topological_order()
    assert err.value.cycles == [[1, 2, 3], [4]]
    assert "core (#1) -> #2 -> #3; #4" in str(err.value)


def test_circuits_in_both_directions_form_a_cycle() -> None:
    devices = [DeviceNode(1, site_id=1), DeviceNode(2, site_id=2)]
    circuits = [CircuitLink(1, "active", a_device_id=1, z_device_id=2),
                CircuitLink(2, "active", a_device_id=2, z_device_id=1)]
    assert build_topology(devices, circuits).find_cycles() == [[1, 2]]


def test_order_with_cycles_allowed_still_lists_every_device() -> None:
    devices = [DeviceNode(1, parent_id=2), DeviceNode(2, parent_id=1), DeviceNode(3)]
    order = build_topology(devices, []).topological_order(allow_cycles=True)
    assert order == [3, 1, 2]


def test_acyclic_graph_has_no_cycles() -> None:
    assert province().find_cycles() == []
