"""SNMP counters → bit rates: wraps, resets, reboots, 32-bit counters, time base, utilisation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from probes.base import InterfaceSample
from probes.rates import RateSample, counter_delta, interface_rate, utilisation_pct

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
MBIT = 1_000_000


def sample(at_s: float, in_octets: int | None, out_octets: int | None = None, *, uptime_s: float | None = None,
           bits: int = 64, in_errors: int | None = None) -> RateSample:
    return RateSample(at=T0 + timedelta(seconds=at_s), sys_uptime_s=uptime_s, in_octets=in_octets,
                      out_octets=in_octets if out_octets is None else out_octets, counter_bits=bits,
                      in_errors=in_errors, out_errors=in_errors)


def test_steady_traffic_gives_bits_per_second_and_utilisation_of_committed_rate() -> None:
    prev = sample(0, 1_000_000, 500_000, uptime_s=1000)
    cur = sample(60, 1_000_000 + 75_000_000, 500_000 + 15_000_000, uptime_s=1060)  # 10 and 2 Mbit/s
    rate = interface_rate(prev, cur, speed_kbps=100_000, commit_rate_kbps=20_000)
    assert rate.time_base == "sys_uptime"
    assert rate.in_bps == pytest.approx(10 * MBIT)
    assert rate.out_bps == pytest.approx(2 * MBIT)
    assert rate.in_util_pct == pytest.approx(50.0)
    assert rate.out_util_pct == pytest.approx(10.0)
    assert rate.note is None


def test_sys_uptime_is_the_time_base_when_polls_are_delayed() -> None:
    # the poller was late by 3 s on the wall clock; the agent's counters advanced over 60 s of its uptime
    prev = sample(0, 0, uptime_s=500)
    cur = sample(63, 75_000_000, uptime_s=560)
    assert interface_rate(prev, cur).in_bps == pytest.approx(10 * MBIT)


def test_wall_clock_is_the_time_base_without_sys_uptime() -> None:
    rate = interface_rate(sample(0, 0), sample(80, 100_000_000))
    assert rate.time_base == "wall_clock"
    assert rate.in_bps == pytest.approx(10 * MBIT)


def test_32_bit_counter_wrap_is_counted_through_the_wrap() -> None:
    prev = sample(0, 2**32 - 25_000_000, uptime_s=100, bits=32)
    cur = sample(60, 50_000_000, uptime_s=160, bits=32)
    assert interface_rate(prev, cur, speed_kbps=100_000).in_bps == pytest.approx(10 * MBIT)


def test_64_bit_counter_wrap_near_the_top_is_counted() -> None:
    prev = sample(0, 2**64 - 25_000_000, uptime_s=100)
    cur = sample(60, 50_000_000, uptime_s=160)
    assert interface_rate(prev, cur, speed_kbps=1_000_000).in_bps == pytest.approx(10 * MBIT)


def test_64_bit_counter_going_backwards_is_a_reset_not_a_wrap() -> None:
    prev = sample(0, 9_000_000_000_000, uptime_s=100)
    cur = sample(60, 1_000, uptime_s=160)
    rate = interface_rate(prev, cur)
    assert rate.in_bps is None
    assert rate.note is not None and "reset" in rate.note


def test_32_bit_reset_is_rejected_when_the_wrap_would_exceed_the_interface_speed() -> None:
    prev = sample(0, 3_000_000_000, uptime_s=100, bits=32)
    cur = sample(60, 1_000_000, uptime_s=160, bits=32)  # a wrap would mean 172 Mbit/s on a 100 Mbit/s port
    assert interface_rate(prev, cur, speed_kbps=100_000).in_bps is None


def test_agent_reboot_gives_no_rate_for_the_interval() -> None:
    prev = sample(0, 80_000_000_000, uptime_s=86_400)
    cur = sample(60, 5_000_000, uptime_s=40)
    rate = interface_rate(prev, cur)
    assert rate.in_bps is None and rate.out_bps is None
    assert rate.note is not None and "rebooted" in rate.note


def test_reboot_hidden_by_a_long_interval_is_still_detected() -> None:
    # uptime grew 100 s while 300 s passed: the agent restarted in between, counters restarted too
    prev = sample(0, 80_000_000, uptime_s=10)
    cur = sample(300, 90_000_000, uptime_s=110)
    assert interface_rate(prev, cur).in_bps is None


def test_sys_uptime_wrap_after_497_days_is_not_a_reboot() -> None:
    wrap = 2**32 / 100
    prev = sample(0, 0, uptime_s=wrap - 30)
    cur = sample(60, 75_000_000, uptime_s=30)
    rate = interface_rate(prev, cur)
    assert rate.elapsed_s == pytest.approx(60)
    assert rate.in_bps == pytest.approx(10 * MBIT)


def test_counter_jump_beyond_line_rate_is_not_reported_as_a_spike() -> None:
    prev = sample(0, 1_000, uptime_s=100)
    cur = sample(60, 1_000 + 10**12, uptime_s=160)  # 133 Gbit/s on a 1 Gbit/s port
    assert interface_rate(prev, cur, speed_kbps=1_000_000).in_bps is None


def test_rates_are_never_negative() -> None:
    for prev_v, cur_v in [(100, 50), (2**32 - 1, 0), (0, 0), (10, 11)]:
        for bits in (32, 64):
            rate = interface_rate(sample(0, prev_v, uptime_s=1, bits=bits), sample(30, cur_v, uptime_s=31, bits=bits))
            assert rate.in_bps is None or rate.in_bps >= 0


def test_too_short_interval_gives_no_rate() -> None:
    rate = interface_rate(sample(0, 0, uptime_s=100), sample(0.2, 1_000_000, uptime_s=100.2))
    assert rate.in_bps is None and rate.note == "interval too short"


def test_missing_counters_give_no_rate_without_error() -> None:
    rate = interface_rate(sample(0, None, uptime_s=1), sample(60, 100, uptime_s=61))
    assert rate.in_bps is None and rate.elapsed_s == pytest.approx(60)


def test_error_counters_become_errors_per_second() -> None:
    rate = interface_rate(sample(0, 0, uptime_s=1, in_errors=10), sample(60, 0, uptime_s=61, in_errors=70))
    assert rate.in_errors_per_s == pytest.approx(1.0)


def test_utilisation_needs_a_committed_rate_and_may_exceed_100_percent() -> None:
    assert utilisation_pct(10 * MBIT, None) is None
    assert utilisation_pct(None, 10_000) is None
    assert utilisation_pct(250 * MBIT, 200_000) == pytest.approx(125.0)


def test_counter_delta_handles_32_bit_wrap() -> None:
    assert counter_delta(2**32 - 10, 5, bits=32, elapsed_s=1, max_per_s=1e9) == 15


def test_rate_sample_from_interface_sample_keeps_counter_width() -> None:
    s = InterfaceSample(name="ge-0/0/1", if_index=3, hc_in_octets=7, hc_out_octets=9, counter_bits=32)
    rs = RateSample.from_interface(s, T0, 12.5)
    assert (rs.in_octets, rs.out_octets, rs.counter_bits, rs.sys_uptime_s) == (7, 9, 32, 12.5)
