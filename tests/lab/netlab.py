"""Network lab of real agents in a Linux network namespace (work in progress: API below is the contract).

The test process stays in the ROOT namespace. Each ``Lab`` creates one far namespace
``imlab-<pid>-<n>``, a veth pair root<->far with a /30 from 198.18.255.0/24, and routes a
/20 of the RFC 2544 range 198.18.0.0/15 (``lab.prefix``) through it. Target addresses live on
the far namespace's ``lo``; an address of ``lab.prefix`` that is not configured is silently
dropped (blackhole route + nft rule: no ICMP unreachable ever comes back).

API (plain Python, usable from pytest and from bench/)::

    from tests.lab.netlab import Lab, LabUnavailable, check_lab_requirements

    check_lab_requirements() -> str | None      # None if usable, else the reason (not root, no netns...)
    lab = Lab()                                 # or: with Lab() as lab: ...
    lab.name: str                               # "imlab-<pid>-<n>" (the far namespace)
    lab.prefix: ipaddress.IPv4Network           # e.g. 198.18.16.0/20, routed root -> far
    lab.add_hosts(n) -> list[str]               # n new addresses on far lo: they answer ping
    lab.silent_addresses(n) -> list[str]        # n routed, never configured addresses: time out silently
    lab.host_down(addr) / lab.host_up(addr)     # remove/re-add the address (ICMP and SNMP go silent)
    lab.set_loss(percent, udp=False)            # random drop of ICMP (and UDP if udp=True) in far input
    lab.clear_loss()
    lab.run(*cmd, **kw) -> CompletedProcess     # command inside the far namespace (check=True default)
    lab.popen(*cmd, **kw) -> Popen              # process inside the far namespace, killed by close()
    lab.start_snmpd(addr, *, community="public", v3_user=None, auth_key=None, priv_key=None,
                    auth_proto="SHA", priv_proto="AES", sys_name=None) -> SnmpdAgent
    lab.start_snmpsim(addresses, *, interfaces=8, rate_bps=..., community="public") -> SnmpSim
    lab.start_late_responder(addr, delay_s) -> Responder
    lab.close()                                 # idempotent; also registered with atexit

Agents (SnmpdAgent, SnmpSim, Responder) have ``stop()``, ``start()``, ``restart()`` (restart = agent
reboot: sysUpTime and counters start again from zero) and ``running``.
"""
