"""snmpsim ``.snmprec`` data for one simulated router: system group and IF-MIB at known rates.

Lines are ``OID|TAG|VALUE``; a tag ``70:numeric`` with ``rate=R`` makes snmpsim's numeric variation
module return ``R * seconds since agent start`` (so a counter starts at 0 on every agent start and
grows at exactly R per second). Octet counters get ``rate = bps / 8``.
"""

from __future__ import annotations

from dataclasses import dataclass

SYS_OBJECT_ID = "1.3.6.1.4.1.8072.3.2.10"  # NET-SNMP-TC::linux, a common router/host identity
COUNTER32_MODULUS = 2**32

# SNMP BER tags as snmpsim writes them
INTEGER, OCTETS, OID, COUNTER32, GAUGE32, TIMETICKS, COUNTER64 = "2", "4", "6", "65", "66", "67", "70"


@dataclass(frozen=True)
class InterfaceSpec:
    """One simulated interface: index, rates in bit/s, oper state, error growth per second."""

    index: int
    in_bps: int
    out_bps: int
    oper_up: bool = True
    error_rate: int = 0
    speed_mbps: int = 1000

    @property
    def name(self) -> str:
        return f"Gi0/{self.index}"

    @property
    def descr(self) -> str:
        return f"GigabitEthernet0/{self.index}"


def _counter(tag: str, rate: float, *, wrap32: bool = False) -> tuple[str, str]:
    if rate <= 0:
        return tag, "0"
    options = f"rate={float(rate)!r}"
    if wrap32:
        options += f",max={COUNTER32_MODULUS},wrap=1"
    return f"{tag}:numeric", options


def agent_snmprec(sys_name: str, interfaces: list[InterfaceSpec]) -> str:
    """Text of a ``.snmprec`` file for an agent called ``sys_name`` with these interfaces."""
    rows: list[tuple[str, str, str]] = [
        ("1.3.6.1.2.1.1.1.0", OCTETS, f"imlab simulated router {sys_name}"),
        ("1.3.6.1.2.1.1.2.0", OID, SYS_OBJECT_ID),
        ("1.3.6.1.2.1.1.3.0", f"{TIMETICKS}:numeric", "rate=100"),
        ("1.3.6.1.2.1.1.4.0", OCTETS, "imlab@example.invalid"),
        ("1.3.6.1.2.1.1.5.0", OCTETS, sys_name),
        ("1.3.6.1.2.1.1.6.0", OCTETS, "imlab"),
        ("1.3.6.1.2.1.1.7.0", INTEGER, "6"),
        ("1.3.6.1.2.1.2.1.0", INTEGER, str(len(interfaces))),
    ]
    for spec in interfaces:
        i = spec.index
        entry, xentry = "1.3.6.1.2.1.2.2.1", "1.3.6.1.2.1.31.1.1.1"
        in_oct, out_oct = spec.in_bps / 8, spec.out_bps / 8
        rows += [
            (f"{entry}.1.{i}", INTEGER, str(i)),
            (f"{entry}.2.{i}", OCTETS, spec.descr),
            (f"{entry}.3.{i}", INTEGER, "6"),  # ethernetCsmacd
            (f"{entry}.4.{i}", INTEGER, "1500"),
            (f"{entry}.5.{i}", GAUGE32, str(min(spec.speed_mbps * 1_000_000, 2**32 - 1))),
            (f"{entry}.6.{i}", "4x", f"02000000{i:04x}"),
            (f"{entry}.7.{i}", INTEGER, "1"),
            (f"{entry}.8.{i}", INTEGER, "1" if spec.oper_up else "2"),
            (f"{entry}.9.{i}", TIMETICKS, "0"),
            (f"{entry}.10.{i}", *_counter(COUNTER32, in_oct, wrap32=True)),
            (f"{entry}.14.{i}", *_counter(COUNTER32, spec.error_rate)),
            (f"{entry}.16.{i}", *_counter(COUNTER32, out_oct, wrap32=True)),
            (f"{entry}.20.{i}", *_counter(COUNTER32, spec.error_rate)),
            (f"{xentry}.1.{i}", OCTETS, spec.name),
            (f"{xentry}.6.{i}", *_counter(COUNTER64, in_oct)),
            (f"{xentry}.10.{i}", *_counter(COUNTER64, out_oct)),
            (f"{xentry}.15.{i}", GAUGE32, str(spec.speed_mbps)),
            (f"{xentry}.18.{i}", OCTETS, f"imlab uplink {i}"),
        ]
    rows.sort(key=lambda row: tuple(int(part) for part in row[0].split(".")))
    return "".join(f"{oid}|{tag}|{value}\n" for oid, tag, value in rows)
