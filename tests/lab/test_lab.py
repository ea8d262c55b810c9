"""Self-tests of the network lab: the lab must behave like the network the probes will meet."""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.lab.hostnet import allocation_lock
from tests.lab.late_responder import checksum
from tests.lab.netlab import Lab, cleanup_stale_labs

pytestmark = pytest.mark.lab

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8"
IF_HC_IN, IF_HC_OUT = "1.3.6.1.2.1.31.1.1.1.6", "1.3.6.1.2.1.31.1.1.1.10"
IF_IN_OCTETS_32, IF_IN_ERRORS = "1.3.6.1.2.1.2.2.1.10", "1.3.6.1.2.1.2.2.1.14"
REPO = Path(__file__).resolve().parents[2]


# -- helpers ---------------------------------------------------------------------------------------
def alive(addresses: list[str], *, retries: int = 1) -> set[str]:
    """Addresses that answer ICMP echo, according to fping."""
    done = subprocess.run(["fping", "-a", f"-r{retries}", "-t400", "-i1", *addresses],
                          capture_output=True, text=True)
    return set(done.stdout.split())


def snmpget(addr: str, *oids: str, community: str = "public", extra: tuple[str, ...] = ()) -> list[str]:
    """Values of ``oids`` read with net-snmp's snmpget (raises if the agent does not answer)."""
    done = subprocess.run(["snmpget", "-v2c", "-c", community, "-r1", "-t1", "-Oqv", "-On", *extra,
                           addr, *oids], capture_output=True, text=True, check=True)
    return done.stdout.split("\n")[: len(oids)]


def snmpget_v3(addr: str, oid: str, *, user: str, auth: str, priv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["snmpget", "-v3", "-l", "authPriv", "-u", user, "-a", "SHA", "-A", auth, "-x",
                           "AES", "-X", priv, "-r0", "-t1", "-Oqv", addr, oid], capture_output=True, text=True)


def icmp_socket() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)


def send_echo(sock: socket.socket, dst: str, ident: int, seq: int) -> None:
    body = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"imlab-selftest"
    body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
    sock.sendto(body, (dst, 0))


def receive_icmp(sock: socket.socket, seconds: float) -> list[tuple[float, str, bytes]]:
    """(arrival monotonic time, source, ICMP message) of every ICMP packet seen for ``seconds``."""
    packets = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data, (src, _) = sock.recvfrom(65535)
        except TimeoutError:
            break
        packets.append((time.monotonic(), src, data[(data[0] & 0x0F) * 4:]))
    return packets


def unreachable_about(packets: list[tuple[float, str, bytes]], dst: str) -> list[bytes]:
    """ICMP destination-unreachable messages whose quoted datagram was sent to ``dst``."""
    quoted = socket.inet_aton(dst)
    return [icmp for _, _, icmp in packets if icmp[0] == 3 and icmp[8 + 16:8 + 20] == quoted]


def namespace_exists(name: str) -> bool:
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return any(line.split()[0] == name for line in listing.splitlines() if line.strip())


def link_exists(ifname: str) -> bool:
    return subprocess.run(["ip", "link", "show", ifname], capture_output=True).returncode == 0


def routes() -> str:
    return subprocess.run(["ip", "route", "show", "table", "all"], capture_output=True, text=True).stdout


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


# -- addresses and reachability --------------------------------------------------------------------
def test_configured_hosts_answer_ping_and_silent_addresses_do_not(lab: Lab) -> None:
    hosts, silent = lab.add_hosts(700), lab.silent_addresses(300)
    assert len(set(hosts) | set(silent)) == 1000
    assert all(ipaddress.IPv4Address(a) in lab.prefix for a in hosts + silent)
    assert alive(hosts + silent) == set(hosts)


def test_silent_address_draws_no_icmp_error_while_a_closed_port_does(lab: Lab) -> None:
    host, silent = lab.add_hosts(1)[0], lab.silent_addresses(1)[0]
    with icmp_socket() as sock, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        send_echo(sock, silent, 0x1A2B, 1)
        udp.sendto(b"x", (silent, 9))
        udp.sendto(b"x", (host, 9))  # control: a real host reports its closed port
        packets = receive_icmp(sock, 1.0)
    assert unreachable_about(packets, host), "control failed: no port-unreachable seen at all"
    assert unreachable_about(packets, silent) == []
    assert [p for p in packets if p[1] == silent] == []


def test_host_down_silences_a_host_and_host_up_brings_it_back(lab: Lab) -> None:
    first, second = lab.add_hosts(2)
    lab.host_down(first)
    assert alive([first, second]) == {second}
    assert not lab.is_configured(first)
    lab.host_up(first)
    assert alive([first, second]) == {first, second}


def test_two_labs_at_once_get_separate_prefixes_and_both_work(lab: Lab) -> None:
    with Lab() as other:
        assert not lab.prefix.overlaps(other.prefix)
        mine, theirs = lab.add_hosts(1)[0], other.add_hosts(1)[0]
        assert alive([mine, theirs]) == {mine, theirs}


# -- loss ------------------------------------------------------------------------------------------
def loss_percent(hosts: list[str], count: int) -> float:
    done = subprocess.run(["fping", "-q", f"-c{count}", "-p20", "-i1", "-t300", *hosts],
                          capture_output=True, text=True)
    sent = received = 0
    for line in done.stderr.splitlines():
        if "xmt/rcv" in line:
            xmt, rcv = line.split("=")[1].split(",")[0].strip().split("/")[:2]
            sent, received = sent + int(xmt), received + int(rcv)
    assert sent == count * len(hosts)
    return 100.0 * (sent - received) / sent


def test_loss_drops_about_the_configured_share_of_pings(lab: Lab) -> None:
    hosts = lab.add_hosts(20)
    lab.set_loss(50)
    assert 30 <= loss_percent(hosts, 10) <= 70
    lab.set_loss(100)
    assert loss_percent(hosts[:2], 3) == 100
    lab.clear_loss()
    assert loss_percent(hosts, 3) == 0


def test_udp_loss_makes_snmp_requests_time_out(lab: Lab) -> None:
    host = lab.add_hosts(1)[0]
    lab.start_snmpd(host)
    lab.set_loss(100, udp=True)
    with pytest.raises(subprocess.CalledProcessError):
        snmpget(host, SYS_UPTIME, extra=("-r0",))
    lab.clear_loss()
    assert snmpget(host, SYS_NAME) == [f'"snmpd-{host}"']


# -- net-snmp snmpd --------------------------------------------------------------------------------
def test_snmpd_answers_v2c_and_v3_authpriv_and_rejects_a_wrong_key(lab: Lab) -> None:
    host = lab.add_hosts(1)[0]
    lab.start_snmpd(host, community="c0mmunity", v3_user="monitor", auth_key="auth-secret-1",
                    priv_key="priv-secret-1", sys_name="district-router")
    assert snmpget(host, SYS_NAME, community="c0mmunity") == ['"district-router"']
    good = snmpget_v3(host, SYS_NAME, user="monitor", auth="auth-secret-1", priv="priv-secret-1")
    assert good.returncode == 0 and good.stdout.strip() == '"district-router"'
    bad = snmpget_v3(host, SYS_NAME, user="monitor", auth="wrong-secret", priv="priv-secret-1")
    assert bad.returncode != 0
    with pytest.raises(subprocess.CalledProcessError):
        snmpget(host, SYS_NAME, community="wrong", extra=("-r0",))


def test_snmpd_restart_is_a_reboot_and_stop_makes_it_silent(lab: Lab) -> None:
    host = lab.add_hosts(1)[0]
    agent = lab.start_snmpd(host)
    time.sleep(2)
    before = int(snmpget(host, SYS_UPTIME, extra=("-Ot",))[0])
    agent.restart()
    after = int(snmpget(host, SYS_UPTIME, extra=("-Ot",))[0])
    assert before >= 200 and after < before
    agent.stop()
    assert not agent.running
    with pytest.raises(subprocess.CalledProcessError):
        snmpget(host, SYS_UPTIME, extra=("-r0",))


# -- snmpsim ---------------------------------------------------------------------------------------
def test_snmpsim_counters_grow_at_the_configured_rates(lab: Lab) -> None:
    agents = lab.add_hosts(2)
    sim = lab.start_snmpsim(agents, interfaces=3, rate_bps={1: 8_000_000, 2: (2_000_000, 500_000)},
                            error_rate=100)
    oids = [f"{IF_HC_IN}.1", f"{IF_HC_OUT}.1", f"{IF_HC_IN}.2", f"{IF_HC_OUT}.2", f"{IF_HC_IN}.3",
            f"{IF_IN_OCTETS_32}.1", f"{IF_IN_ERRORS}.1"]
    first = {a: (time.monotonic(), [int(v) for v in snmpget(a, *oids)]) for a in agents}
    time.sleep(3)
    for addr in agents:
        t1, v1 = first[addr]
        t2, v2 = time.monotonic(), [int(v) for v in snmpget(addr, *oids)]
        per_second = [(b - a) / (t2 - t1) for a, b in zip(v1, v2, strict=True)]
        expected_bps = [*sim.rate_bps(addr, 1), *sim.rate_bps(addr, 2), sim.rate_bps(addr, 3)[0],
                        sim.rate_bps(addr, 1)[0]]
        assert expected_bps == [8_000_000, 8_000_000, 2_000_000, 500_000, 1_000_000, 8_000_000]
        for got, want in zip(per_second[:6], expected_bps, strict=True):
            assert got * 8 == pytest.approx(want, rel=0.05)
        assert per_second[6] == pytest.approx(100, rel=0.05)


def test_snmpsim_serves_system_and_interface_identity_per_agent(lab: Lab) -> None:
    agents = lab.add_hosts(2)
    sim = lab.start_snmpsim(agents, interfaces=2, down_interfaces={2})
    for addr in agents:
        assert snmpget(addr, SYS_NAME) == [f'"{sim.sys_name(addr)}"']
        assert snmpget(addr, "1.3.6.1.2.1.31.1.1.1.1.2", "1.3.6.1.2.1.2.2.1.2.2") == ['"Gi0/2"',
                                                                                    '"GigabitEthernet0/2"']
        assert snmpget(addr, f"{IF_OPER_STATUS}.1", f"{IF_OPER_STATUS}.2",
                       "1.3.6.1.2.1.2.2.1.7.2") == ["1", "2", "1"]


def test_snmpsim_restart_resets_uptime_and_counters(lab: Lab) -> None:
    addr = lab.add_hosts(1)[0]
    sim = lab.start_snmpsim([addr], interfaces=1, rate_bps=80_000_000)
    time.sleep(3)
    uptime, octets = (int(v) for v in snmpget(addr, SYS_UPTIME, f"{IF_HC_IN}.1", extra=("-Ot",)))
    sim.restart()
    uptime2, octets2 = (int(v) for v in snmpget(addr, SYS_UPTIME, f"{IF_HC_IN}.1", extra=("-Ot",)))
    assert uptime2 < uptime and octets2 < octets


def test_snmpsim_agent_of_a_down_host_is_silent_until_the_host_is_back(lab: Lab) -> None:
    first, second = lab.add_hosts(2)
    lab.start_snmpsim([first, second], interfaces=1)
    lab.host_down(first)
    with pytest.raises(subprocess.CalledProcessError):
        snmpget(first, SYS_NAME, extra=("-r0",))
    assert snmpget(second, SYS_NAME) == [f'"sim-{second}"']
    lab.host_up(first)
    assert snmpget(first, SYS_NAME) == [f'"sim-{first}"']


# -- late responder --------------------------------------------------------------------------------
def test_late_responder_answers_only_after_its_delay(lab: Lab) -> None:
    addr = lab.silent_addresses(1)[0]
    lab.start_late_responder(addr, 1.0)
    assert alive([addr], retries=0) == set()  # fping gives up after 400 ms: nothing in time
    ident = os.getpid() & 0xFFFF
    with icmp_socket() as sock:
        sent_at = time.monotonic()
        send_echo(sock, addr, ident, 7)
        replies = [(t, icmp) for t, src, icmp in receive_icmp(sock, 2.0)
                   if src == addr and icmp[0] == 0 and struct.unpack("!HH", icmp[4:8]) == (ident, 7)]
    assert len(replies) == 1
    assert replies[0][0] - sent_at >= 1.0


# -- teardown --------------------------------------------------------------------------------------
def test_close_leaves_no_namespace_veth_route_process_or_files(lab_available: None) -> None:
    lab = Lab()
    host, silent = lab.add_hosts(1)[0], lab.silent_addresses(1)[0]
    pids = lab.start_snmpd(host).pids + lab.start_late_responder(silent, 0.5).pids
    pids.append(lab.popen("sleep", "300").pid)
    lab.close()
    lab.close()
    assert not namespace_exists(lab.name)
    assert not link_exists(lab.root_if)
    # Another test process (xdist worker) may already have been given the freed prefix and link: look for
    # routes through this lab's own veth, whose name (pid, sequence) no other lab uses.
    assert [r for r in routes().splitlines() if lab.root_if in r.split()] == []
    assert [p for p in pids if pid_alive(p)] == []
    assert not lab.tmpdir.exists()


def test_lab_of_a_killed_test_process_is_removed_by_the_next_lab(lab_available: None) -> None:
    script = ("import time; from tests.lab.netlab import Lab; lab = Lab(); lab.add_hosts(1); "
              "p = lab.popen('sleep', '300'); print(lab.name, lab.root_if, p.pid, lab.tmpdir, flush=True); "
              "time.sleep(300)")
    child = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    assert child.stdout is not None
    name, root_if, sleeper, tmpdir = child.stdout.readline().split()
    # under the allocation lock, so that a Lab() in another test process does not clean it up first
    with allocation_lock():
        child.kill()
        child.wait()
        assert namespace_exists(name)
        cleanup_stale_labs()
    assert not namespace_exists(name) and not link_exists(root_if)
    assert not pid_alive(int(sleeper))
    assert not Path(tmpdir).exists()
