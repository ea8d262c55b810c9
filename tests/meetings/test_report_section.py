"""After a meeting: the rooms ready at the last readiness check before its start feed the videoconference
report ("Họp đã tổ chức: phòng sẵn sàng"), in every format the report is written in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.config import load_settings
from infra_monitor.meetings.models import Meeting, MeetingCheck
from infra_monitor.reports.engine import build_report
from infra_monitor.reports.params import params_for
from infra_monitor.reports.render import render
from tests.meetings.setup import check_now, meeting_with_check
from tests.web.builders import Province

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def shift(engine: Engine, meeting_id: int, back: timedelta) -> None:
    """Move a meeting and its checks ``back`` in time, as if it had been held then."""
    with Session(engine) as s:
        m = s.get(Meeting, meeting_id)
        assert m is not None
        m.start -= back
        for c in s.execute(select(MeetingCheck).where(MeetingCheck.meeting_id == meeting_id)).scalars():  # type: ignore[arg-type]
            c.at -= back
        s.commit()


def test_the_videoconference_report_lists_the_rooms_ready_at_the_last_check_before_each_meeting(
        migrated_engine: Engine, db_url: str) -> None:
    p = Province.build(migrated_engine, communes=4)
    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": db_url})
    p.cut_district(0)                                   # xa-000, xa-002 cut off at the first check
    held = meeting_with_check(p, settings, minutes=20, title="Giao ban tháng")
    p.set_state(p.district_routers[0], "up", cause="none")
    for rt, vc in zip(p.commune_routers[0::2], p.vc_devices[0::2], strict=True):
        p.set_state(rt, "up", cause="none")
        p.set_state(vc, "up", cause="none")
    check_now(p, settings, held)                        # the last check before the start: all four ready
    # time passes: the meeting took place two days ago; a check after its start does not count
    shift(migrated_engine, held, timedelta(days=2))
    p.cut_district(1)
    check_now(p, settings, held)                        # after the start: xa-001, xa-003 not ready; ignored
    unchecked = meeting_with_check(p, settings, minutes=30, title="Chưa kiểm tra")
    with migrated_engine.begin() as conn:
        conn.execute(MeetingCheck.__table__.delete().where(MeetingCheck.meeting_id == unchecked))  # type: ignore[attr-defined]
        conn.execute(update(Meeting).where(Meeting.id == unchecked)  # type: ignore[arg-type]
                     .values(start=datetime.now(UTC) - timedelta(days=1)))
    today = datetime.now(TZ).date()
    doc = build_report(migrated_engine, params_for("videoconference", today - timedelta(days=7), today))
    rows = {r["title"]: r for r in doc.table("vc_meetings").rows}
    assert set(rows) == {"Giao ban tháng", "Chưa kiểm tra"}
    assert (rows["Giao ban tháng"]["checked"], rows["Giao ban tháng"]["ready"]) == (4, 4)
    assert rows["Giao ban tháng"]["not_ready_rooms"] == ""
    assert rows["Chưa kiểm tra"]["checked"] is None and rows["Chưa kiểm tra"]["ready"] is None
    assert any(s.tables == ["vc_meetings"] for s in doc.sections)
    for fmt in ("json", "csv", "xlsx", "pdf"):
        assert render(doc, fmt, "vi")
    assert "Họp đã tổ chức: phòng sẵn sàng" in render(doc, "json", "vi").decode("utf-8")
