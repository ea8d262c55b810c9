"""The readiness rule, pure: each reason a room can be not ready, and what changed since the previous check."""

from __future__ import annotations

from infra_monitor.meetings.readiness import (
    NEW,
    NEWLY_NOT_READY,
    RECOVERED,
    STILL_NOT_READY,
    STILL_READY,
    LinkLoad,
    Mcu,
    RoomFacts,
    Uplink,
    changes,
    evaluate,
)

MCU_UP = Mcu("mcu-1", "up", True)


def room(endpoint_id: int = 1, **kw: object) -> RoomFacts:
    base: dict[str, object] = {"endpoint_id": endpoint_id, "device_name": f"codec-{endpoint_id}",
                               "room": f"Phòng {endpoint_id}", "site_name": f"Xã {endpoint_id}", "protocol": "sip",
                               "codec_answered": True, "sip_code": 200, "call_answered": True,
                               "uplink": Uplink("r1", "up"), "loads": (LinkLoad("C1", 40.0, 10_000),)}
    base.update(kw)
    return RoomFacts(**base)  # type: ignore[arg-type]


def codes(facts: RoomFacts, mcu: Mcu = MCU_UP, threshold: float = 90.0) -> list[str]:
    return list(evaluate([facts], mcu, threshold).verdicts[0].codes)


def test_a_room_with_everything_answering_is_ready() -> None:
    board = evaluate([room()], MCU_UP, 90.0)
    assert board.ready == 1 and board.not_ready == 0 and board.verdicts[0].reasons == ()


def test_a_silent_codec_is_the_reason_and_its_call_is_not_judged_again() -> None:
    assert codes(room(codec_answered=False, sip_code=None, call_answered=False)) == ["codec_silent"]


def test_sip_486_is_busy_and_503_is_unavailable() -> None:
    assert codes(room(sip_code=486)) == ["sip_busy"]
    assert codes(room(sip_code=503)) == ["sip_unavailable"]


def test_sip_without_answer_is_a_failure() -> None:
    verdict = evaluate([room(sip_code=None, call_answered=False, call_error="no answer")], MCU_UP, 90).verdicts[0]
    assert verdict.codes == ("sip_failed",) and verdict.reasons[0]["error"] == "no answer"


def test_h323_without_connect_is_a_failure_and_sip_codes_do_not_apply() -> None:
    assert codes(room(protocol="h323", sip_code=None, call_answered=False)) == ["h323_failed"]
    assert codes(room(protocol="h323", sip_code=None, call_answered=True)) == []


def test_a_site_behind_a_down_district_router_names_it() -> None:
    verdict = evaluate([room(uplink=Uplink("xa-r1", "unreachable", "huyen-r1"))], MCU_UP, 90).verdicts[0]
    assert verdict.reasons == ({"code": "site_unreachable", "router": "xa-r1", "district_router": "huyen-r1"},)


def test_the_sites_own_router_down_is_its_own_reason() -> None:
    assert codes(room(uplink=Uplink("xa-r1", "down"))) == ["site_down"]


def test_a_link_above_the_threshold_is_saturated_with_percentage_and_rate() -> None:
    verdict = evaluate([room(loads=(LinkLoad("C9", 95.26, 4_000),))], MCU_UP, 90).verdicts[0]
    assert verdict.reasons == ({"code": "link_saturated", "cid": "C9", "pct": 95.3, "rate_mbps": 4.0},)
    assert codes(room(loads=(LinkLoad("C9", 95.0, 4_000),)), threshold=96.0) == []


def test_mcu_down_makes_every_room_not_ready() -> None:
    board = evaluate([room(1), room(2)], Mcu("mcu-1", "up", False), 90)
    assert board.not_ready == 2 and all(v.codes == ("mcu_down",) for v in board.verdicts)
    assert Mcu("mcu-1", "down").down and not Mcu("mcu-1", "up").down and not Mcu("m", None).down


def test_several_reasons_are_all_listed_and_not_ready_rooms_come_first() -> None:
    board = evaluate([room(1), room(2, sip_code=486, uplink=Uplink("r2", "unreachable", "d1"))], MCU_UP, 90)
    assert [v.endpoint_id for v in board.verdicts] == [2, 1]
    assert board.verdicts[0].codes == ("sip_busy", "site_unreachable")


def test_changes_since_the_previous_check() -> None:
    rooms = [room(1), room(2, codec_answered=False), room(3), room(4, sip_code=503), room(5)]
    board = evaluate(rooms, MCU_UP, 90, previous={1: True, 2: True, 3: False, 4: False})
    change = {v.endpoint_id: v.change for v in board.verdicts}
    assert change == {1: STILL_READY, 2: NEWLY_NOT_READY, 3: RECOVERED, 4: STILL_NOT_READY, 5: NEW}
    diff = changes(board)
    assert [v.endpoint_id for v in diff[NEWLY_NOT_READY]] == [2]
    assert [v.endpoint_id for v in diff[RECOVERED]] == [3]


def test_the_first_check_has_every_room_new() -> None:
    board = evaluate([room(1), room(2, sip_code=486)], MCU_UP, 90)
    assert {v.change for v in board.verdicts} == {NEW}
