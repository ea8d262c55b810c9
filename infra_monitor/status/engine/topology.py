"""Parent/child graph of devices, built from plain inventory data (no ORM imports).

Rules (in order of precedence):
1. An explicit ``parent_id`` on a device overrides everything else: that device is its only parent.
2. An *active* circuit makes its A-side device(s) upstream of its Z-side device. A device that is the Z-side
   of several active circuits has several parents (two uplinks).
3. Devices at a site that are the Z-side of no active circuit hang behind that site's gateways (the devices
   at the site that are Z-side of an active circuit). When a circuit's Z termination names only a site, the
   devices of that site that are not gateways hang behind the circuit's A-side device.
A circuit end given only as a site on the A side resolves to that site's gateways. Circuits that are not
active, or whose ends cannot be resolved to devices, add no edge.
"""

from __future__ import annotations

import heapq
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

ACTIVE_CIRCUIT_STATUS = "active"


@dataclass(frozen=True)
class DeviceNode:
    """One device as the topology needs it."""

    id: int
    site_id: int | None = None
    parent_id: int | None = None
    name: str = ""


@dataclass(frozen=True)
class CircuitLink:
    """One circuit with its two terminations resolved to device and/or site (None when absent)."""

    id: int
    status: str
    a_device_id: int | None = None
    a_site_id: int | None = None
    z_device_id: int | None = None
    z_site_id: int | None = None


class TopologyCycleError(ValueError):
    """Raised by ``topological_order`` when the parent graph has cycles; ``cycles`` lists them."""

    def __init__(self, cycles: list[list[int]], names: Mapping[int, str] | None = None) -> None:
        self.cycles = cycles
        names = names or {}
        named = "; ".join(" -> ".join(f"{names[d]} (#{d})" if names.get(d) else f"#{d}" for d in c)
                          for c in cycles)
        super().__init__(f"device parent graph has {len(cycles)} cycle(s): {named}")


@dataclass
class Topology:
    """Parents of every device (empty set for roots) plus the device→site map used for grouping/scoping."""

    parents: dict[int, frozenset[int]]
    device_site: dict[int, int | None] = field(default_factory=dict)
    device_name: dict[int, str] = field(default_factory=dict)
    site_region: dict[int, int | None] = field(default_factory=dict)
    site_name: dict[int, str] = field(default_factory=dict)

    @property
    def device_ids(self) -> set[int]:
        return set(self.parents)

    def parents_of(self, device_id: int) -> frozenset[int]:
        return self.parents.get(device_id, frozenset())

    def children(self) -> dict[int, set[int]]:
        """Reverse map: device → devices that list it as a parent."""
        out: dict[int, set[int]] = defaultdict(set)
        for child, ps in self.parents.items():
            for p in ps:
                out[p].add(child)
        return dict(out)

    def ancestors(self, device_id: int) -> set[int]:
        """Every device upstream of ``device_id`` (cycle-safe)."""
        seen: set[int] = set()
        stack = list(self.parents_of(device_id))
        while stack:
            d = stack.pop()
            if d in seen:
                continue
            seen.add(d)
            stack.extend(self.parents_of(d))
        seen.discard(device_id)
        return seen

    def restricted_to(self, keep: Iterable[int]) -> Topology:
        """The graph over ``keep`` only: a parent outside ``keep`` (an unmonitored switch…) is replaced by
        its own nearest ancestors in ``keep``, so dependencies through it are preserved."""
        kept = set(keep) & set(self.parents)
        memo: dict[int, frozenset[int]] = {}

        def nearest(d: int, path: frozenset[int]) -> frozenset[int]:
            if d in memo:
                return memo[d]
            out: set[int] = set()
            for p in self.parents_of(d):
                if p in kept:
                    out.add(p)
                elif p not in path:
                    out |= nearest(p, path | {p})
            memo[d] = frozenset(out)
            return memo[d]

        parents = {d: nearest(d, frozenset({d})) for d in sorted(kept)}
        return Topology(
            parents=parents,
            device_site={d: s for d, s in self.device_site.items() if d in kept},
            device_name={d: n for d, n in self.device_name.items() if d in kept},
            site_region=dict(self.site_region),
            site_name=dict(self.site_name),
        )

    def find_cycles(self) -> list[list[int]]:
        """Devices in each cycle of the parent graph (strongly connected components with more than one
        device, or a device that is its own parent), each sorted, the list sorted by first device."""
        return _strongly_connected_cycles(self.parents)

    def topological_order(self, *, allow_cycles: bool = False) -> list[int]:
        """Devices ordered parents-first (ties broken by id, so the order is deterministic).

        With cycles, raises ``TopologyCycleError`` unless ``allow_cycles``: then devices on or behind a
        cycle are appended in id order (the engine must keep sweeping even with bad data).
        """
        indegree = {d: 0 for d in self.parents}
        children = self.children()
        for d, ps in self.parents.items():
            indegree[d] = sum(1 for p in ps if p in self.parents)
        ready = [d for d, n in indegree.items() if n == 0]
        heapq.heapify(ready)
        order: list[int] = []
        while ready:
            d = heapq.heappop(ready)
            order.append(d)
            for c in children.get(d, ()):
                indegree[c] -= 1
                if indegree[c] == 0:
                    heapq.heappush(ready, c)
        if len(order) < len(self.parents):
            cycles = self.find_cycles()
            if not allow_cycles:
                raise TopologyCycleError(cycles, self.device_name)
            placed = set(order)
            rest = sorted(d for d in self.parents if d not in placed)
            log.warning("topology_cycles count=%d devices=%s", len(cycles), cycles)
            order.extend(rest)
        return order


def _strongly_connected_cycles(parents: Mapping[int, Iterable[int]]) -> list[list[int]]:
    """Iterative Tarjan over the parent edges; returns components that form cycles."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    cycles: list[list[int]] = []
    counter = 0
    adjacency = {d: sorted(p for p in ps if p in parents) for d, ps in parents.items()}
    for root in sorted(adjacency):
        if root in index:
            continue
        work: list[tuple[int, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            succ = adjacency[node]
            if i < len(succ):
                work.append((node, i + 1))
                nxt = succ[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp: list[int] = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1 or node in adjacency[node]:
                    cycles.append(sorted(comp))
    return sorted(cycles)


def build_topology(
    devices: Iterable[DeviceNode],
    circuits: Iterable[CircuitLink],
    site_region: Mapping[int, int | None] | None = None,
    site_name: Mapping[int, str] | None = None,
) -> Topology:
    """Build the parent graph from devices and circuits (see the module docstring for the rules)."""
    nodes = {d.id: d for d in devices}
    by_site: dict[int, set[int]] = defaultdict(set)
    for d in nodes.values():
        if d.site_id is not None:
            by_site[d.site_id].add(d.id)

    active = [c for c in circuits if c.status == ACTIVE_CIRCUIT_STATUS]
    gateways: dict[int, set[int]] = defaultdict(set)
    z_devices: set[int] = set()
    for c in active:
        if c.z_device_id in nodes:
            z_devices.add(c.z_device_id)
            site = nodes[c.z_device_id].site_id
            if site is not None:
                gateways[site].add(c.z_device_id)

    parents: dict[int, set[int]] = {d: set() for d in nodes}
    site_uplinks: dict[int, set[int]] = defaultdict(set)
    for c in active:
        upstream = _resolve_a_side(c, nodes, gateways)
        if not upstream:
            log.debug("circuit_skipped circuit_id=%d reason=a_side_unresolved", c.id)
            continue
        if c.z_device_id in nodes:
            parents[c.z_device_id].update(upstream - {c.z_device_id})
        elif c.z_site_id is not None:
            site_uplinks[c.z_site_id].update(upstream)
        else:
            log.debug("circuit_skipped circuit_id=%d reason=z_side_unresolved", c.id)

    for site, members in by_site.items():
        behind = gateways.get(site, set()) | site_uplinks.get(site, set())
        if not behind:
            continue
        for member in members:
            if member not in z_devices:
                parents[member].update(behind - {member})

    for node in nodes.values():
        if node.parent_id is not None:
            parents[node.id] = {node.parent_id}

    return Topology(
        parents={d: frozenset(ps) for d, ps in parents.items()},
        device_site={d.id: d.site_id for d in nodes.values()},
        device_name={d.id: d.name for d in nodes.values()},
        site_region=dict(site_region or {}),
        site_name=dict(site_name or {}),
    )


def _resolve_a_side(c: CircuitLink, nodes: Mapping[int, DeviceNode], gateways: Mapping[int, set[int]]) -> set[int]:
    if c.a_device_id is not None:
        return {c.a_device_id} if c.a_device_id in nodes else set()
    if c.a_site_id is not None:
        return set(gateways.get(c.a_site_id, set()))
    return set()
