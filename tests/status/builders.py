"""Hand-built province topologies for the status-engine tests (plain data, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from infra_monitor.status.engine.config import StatusConfig
from infra_monitor.status.engine.rules import evaluate
from infra_monitor.status.engine.states import DeviceStatus, State, Transition
from infra_monitor.status.engine.topology import CircuitLink, DeviceNode, Topology, build_topology

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
STEP = timedelta(minutes=1)

CORE = 1          # province data-center core router, site 100
DISTRICT = 10     # district router, site 110, behind CORE
DISTRICT_SWITCH = 11  # LAN switch at the district site, behind the district router
COMMUNES = list(range(100, 120))  # 20 commune routers, each at its own site, behind DISTRICT


def at(n: int) -> datetime:
    """Time of sweep number ``n``."""
    return T0 + n * STEP


def province(communes: int = 20) -> Topology:
    """CORE -> DISTRICT -> ``communes`` commune routers, plus a switch at the district site."""
    devices = [DeviceNode(CORE, site_id=100, name="core"), DeviceNode(DISTRICT, site_id=110, name="district"),
               DeviceNode(DISTRICT_SWITCH, site_id=110, name="district-sw")]
    circuits = [CircuitLink(1, "active", a_device_id=CORE, z_device_id=DISTRICT)]
    for i, d in enumerate(COMMUNES[:communes]):
        devices.append(DeviceNode(d, site_id=1000 + i, name=f"commune-{i}"))
        circuits.append(CircuitLink(100 + i, "active", a_device_id=DISTRICT, z_device_id=d))
    return build_topology(devices, circuits)


def all_up(topology: Topology) -> dict[int, bool | None]:
    return dict.fromkeys(topology.device_ids, True)


class Sim:
    """Drives :func:`evaluate` sweep after sweep, one minute apart, keeping the statuses between sweeps."""

    def __init__(self, topology: Topology, config: StatusConfig | None = None) -> None:
        self.topology = topology
        self.config = config or StatusConfig(retries=1)
        self.statuses: dict[int, DeviceStatus] = {}
        self.n = 0

    @property
    def now(self) -> datetime:
        return at(self.n)

    def sweep(
        self,
        observations: dict[int, bool | None],
        *,
        maintenance: frozenset[int] = frozenset(),
        stale: frozenset[int] = frozenset(),
    ) -> list[Transition]:
        self.n += 1
        self.statuses, transitions = evaluate(
            self.statuses, observations, self.now, self.topology, self.config, maintenance, stale
        )
        return transitions

    def failing(self, *down: int) -> dict[int, bool | None]:
        """Observations where ``down`` fail and every other device answers."""
        obs = all_up(self.topology)
        obs.update(dict.fromkeys(down, False))
        return obs

    def state(self, device_id: int) -> State:
        return self.statuses[device_id].state
