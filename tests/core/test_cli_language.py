"""The command line speaks Vietnamese (the default) and English, through the real program on a real SQLite file.

Tables read by a person (a rich table on a terminal: a pty here) show translated headers and values (states,
causes, severities, event kinds, roles, yes/no); ``--lang en``, ``general.language`` and its environment
variable choose the language. Machine output (TSV when piped, JSON) is the same in every language: English
column names and raw codes. A pseudo-localisation run (``INFRA_MONITOR_PSEUDO_I18N=1`` wraps every translated
text in markers) proves that the main commands print no word of their own outside a translation.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from infra_monitor.db import make_engine
from infra_monitor.i18n import PSEUDO_CLOSE, PSEUDO_OPEN
from tests.web.builders import Province
from tests.web.problems_setup import outage

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# The main commands a person reads as tables.
COMMANDS = [("status",), ("events",), ("problems", "list"), ("maintenance", "list"), ("user", "list"),
            ("token", "list"), ("problems", "show", "1"), ("reconcile",)]


def _env(db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFRA_MONITOR_")}
    env.update({"INFRA_MONITOR_DATABASE__URL": f"sqlite:///{db}", "COLUMNS": "400", "TERM": "xterm"})
    env.update(extra)
    return env


def run(db: Path, *args: str, stdin: str | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
    """The program with its output piped (TSV unless asked otherwise)."""
    return subprocess.run([sys.executable, "-m", "infra_monitor", *args], env=_env(db, **extra), cwd=ROOT,
                          input=stdin, capture_output=True, text=True, timeout=120)


def on_terminal(db: Path, *args: str, **extra: str) -> str:
    """What a person sees: the program's stdout on a pseudo-terminal (a rich table), colours stripped."""
    import pty

    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "infra_monitor", *args], env=_env(db, **extra), cwd=ROOT,
                                stdout=follower, stderr=subprocess.PIPE, text=True)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the other side closed: the program ended
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        os.close(leader)
    return ANSI.sub("", b"".join(chunks).decode()).replace("\r\n", "\n")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """District 213 cut off (a problem open), two events, a maintenance window, an operator with a token."""
    path = tmp_path_factory.mktemp("lang") / "l.db"
    engine: Engine = make_engine(f"sqlite:///{path}")
    province = Province.build(engine, communes=4)
    outage(province)  # a real sweep: d213-rt DOWN, its communes UNREACHABLE, problem 1 open
    province.event(province.district_routers[0], "up", "down", message="d213-rt: up → down", minutes_ago=3)
    province.event(province.commune_routers[1], "down", "unreachable", cause="parent_unreachable",
                   message="xa-001-rt: down → unreachable", minutes_ago=2)
    engine.dispose()
    added = run(path, "user", "add", "lan.nguyen", "--role", "operator", "--name", "Nguyễn Thị Lan",
                "--password-stdin", stdin="mat-khau-dai-123\n")
    assert added.returncode == 0, added.stderr
    assert run(path, "token", "create", "--user", "lan.nguyen", "--description", "grafana").returncode == 0
    window = run(path, "maintenance", "add", "--name", "Thay switch", "--site", "xa-002", "--weekly", "sat",
                 "--at", "22:00", "--duration", "90")
    assert window.returncode == 0, window.stderr
    assert run(path, "problems", "ack", "1", "--comment", "gọi VNPT", "--user", "lan.nguyen").returncode == 0
    return path


def test_status_on_a_terminal_is_vietnamese_by_default_and_english_with_lang_en(db: Path) -> None:
    vi = on_terminal(db, "status")
    assert "Tổng quan" in vi and "Điểm kết nối" in vi and "Độ phủ theo cấp" in vi
    assert "Mất kết nối" in vi and "Bị cô lập" in vi and "Hoạt động" in vi        # states
    assert "Lỗi tại thiết bị" in vi and "Do tuyến phía trên" in vi               # causes
    assert "Cấp xã" in vi and "Nguyên nhân gốc" in vi and "Được giám sát" in vi  # level, headers
    assert "sự cố đang mở: 1" in vi and "số liệu của lượt quét lúc" in vi        # summary lines
    assert "điểm đang hoạt động không được liệt kê" in vi
    for english in ("UNREACHABLE", "unreachable", "own_failure", "parent_unreachable", "Summary", "devices up",
                    "open problems", "data from the sweep"):
        assert english not in vi, english
    en = on_terminal(db, "--lang", "en", "status")
    assert "Summary" in en and "Unreachable" in en and "Own failure" in en and "Upstream failure" in en
    assert "open problems: 1" in en and "Mất kết nối" not in en and "Tổng quan" not in en


def test_events_problems_maintenance_and_users_on_a_terminal_follow_the_language(db: Path) -> None:
    events = on_terminal(db, "events")
    assert "Mức độ" in events and "Loại sự kiện" in events and "Nội dung" in events
    assert "Nghiêm trọng" in events and "Đổi trạng thái" in events
    assert "Hoạt động → Mất kết nối" in events and "Mất kết nối → Bị cô lập (Do tuyến phía trên)" in events
    assert "critical" not in events and "state_change" not in events and "SEVERITY" not in events
    assert "SEVERITY" in on_terminal(db, "--lang", "en", "events")

    problems = on_terminal(db, "problems", "list")
    assert "Nguyên nhân gốc" in problems and "Đang mở" in problems and "có (lan.nguyen)" in problems
    assert "open" not in problems and "ROOT CAUSE" not in problems
    assert "ROOT CAUSE" in on_terminal(db, "--lang", "en", "problems", "list")

    windows = on_terminal(db, "maintenance", "list")
    assert "Phạm vi" in windows and "điểm xa-002" in windows and "hằng tuần vào T7 lúc 22:00" in windows
    assert "weekly" not in windows and "site xa-002" not in windows
    assert "site xa-002" in on_terminal(db, "--lang", "en", "maintenance", "list")

    users = on_terminal(db, "user", "list")
    assert "Tên đăng nhập" in users and "vận hành" in users and "đang hoạt động" in users
    assert "operator" not in users
    assert "operator" in on_terminal(db, "--lang", "en", "user", "list")


def test_the_configured_language_is_the_default_and_lang_overrides_it(db: Path, tmp_path: Path) -> None:
    by_env = on_terminal(db, "events", INFRA_MONITOR_GENERAL__LANGUAGE="en")
    assert "SEVERITY" in by_env and "Critical" in by_env
    assert "Mức độ" in on_terminal(db, "--lang", "vi", "events", INFRA_MONITOR_GENERAL__LANGUAGE="en")
    config = tmp_path / "en.toml"
    config.write_text('[general]\nlanguage = "en"\n', encoding="utf-8")
    assert "SEVERITY" in on_terminal(db, "events", "--config", str(config))


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_tsv_and_json_are_the_same_in_every_language(db: Path, command: tuple[str, ...]) -> None:
    def same(text: str) -> str:  # durations and availability move on between two runs: numbers aside
        return re.sub(r"\d+", "0", text)

    outputs = {}
    for lang in ("vi", "en"):
        tsv = run(db, "--lang", lang, *command)
        as_json = run(db, "--lang", lang, *command, "--format", "json")
        assert tsv.returncode == 0 and as_json.returncode == 0, (tsv.stderr, as_json.stderr)
        outputs[lang] = (same(tsv.stdout), same(as_json.stdout))
    assert outputs["vi"] == outputs["en"]
    assert same(run(db, *command).stdout) == outputs["en"][0]  # the default language (vi) too


def test_machine_output_keeps_english_column_names_and_raw_codes(db: Path) -> None:
    status = run(db, "status").stdout
    assert "== Summary ==" in status and "\tunreachable\t" in status and "UNREACHABLE" in status
    assert "data from the sweep at" in status and "open problems: 1" in status
    header, *rows = run(db, "events").stdout.splitlines()
    assert header.split("\t")[1:] == ["SEVERITY", "KIND", "DEVICE", "MESSAGE"]
    assert {"critical", "warning"} <= {r.split("\t")[1] for r in rows} and "d213-rt: up → down" in rows[1]
    assert run(db, "user", "list").stdout.splitlines()[1].split("\t")[2:4] == ["operator", "active"]


def test_messages_and_errors_the_cli_writes_follow_the_language(db: Path, tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    vi = run(missing, "status")
    assert vi.returncode == 1
    assert vi.stderr.strip() == f"lỗi: cơ sở dữ liệu sqlite:///{missing} không tồn tại hoặc chưa được khởi tạo; " \
                                "hãy chạy `infra-monitor init`"
    en = run(missing, "--lang", "en", "status")
    assert en.stderr.strip() == f"error: database sqlite:///{missing} does not exist or is not initialised; " \
                                "run `infra-monitor init`"
    assert not missing.exists()
    unknown = run(db, "problems", "show", "999")
    assert unknown.returncode == 2 and "không có sự cố #999" in unknown.stderr
    no_events = run(db, "events", "--kind", "flap_start", "--format", "table")
    assert no_events.stdout.strip() == "không có sự kiện nào khớp bộ lọc"
    assert run(db, "events", "--kind", "flap_start").stdout.strip() == "no events matching the filters"  # TSV
    comment = run(db, "problems", "comment", "1", "đã cử người")
    assert comment.stdout.strip() == "sự cố #1: đã thêm ghi chú"
    assert run(db, "--lang", "en", "problems", "comment", "1", "on site").stdout.strip() == \
        "problem #1: comment added"
    bad = run(db, "maintenance", "add", "--name", "x", "--site", "xa-002")
    assert bad.returncode == 2 and "lịch bảo trì một lần cần --start và --end" in bad.stderr


# --- pseudo-localisation ---------------------------------------------------------------------------------

FREE_TEXT = {"name", "slug", "cid", "address", "host", "description", "code", "username", "full_name", "comment",
             "ack_comment", "ack_by", "assignee", "actor", "key", "label"}
SYMBOLS = {"GMT", "ID"}
DURATION_WORDS = {"ngày", "giờ", "phút", "giây", "d", "h", "min", "s"}


def _data_words(db: Path) -> set[str]:
    """Every word of the free-text columns (what people typed: names, slugs, comments), none of the codes."""
    words: set[str] = set()
    with sqlite3.connect(db) as conn:
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            columns = [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]
            for column in set(columns) & FREE_TEXT:
                for (value,) in conn.execute(f'SELECT "{column}" FROM "{table}"'):
                    if isinstance(value, str):
                        words.update(_words(value))
    return words


def _words(text: str) -> list[str]:
    text = re.sub(r"\S*[/@:]\S*", " ", text)  # paths, URLs, SITE/DEVICE, cli:login
    return re.findall(r"[^\W\d_]+", text)


def _unmarked(shown: str) -> set[str]:
    innermost = re.compile(f"{PSEUDO_OPEN}[^{PSEUDO_OPEN}{PSEUDO_CLOSE}]*{PSEUDO_CLOSE}")
    while (stripped := innermost.sub(" ", shown)) != shown:  # a translation may hold another one
        shown = stripped
    return set(_words(shown))


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_tables_show_no_word_of_the_cli_that_did_not_go_through_a_translation(db: Path, lang: str) -> None:
    allowed = _data_words(db) | SYMBOLS | DURATION_WORDS
    found = {}
    for command in COMMANDS:
        shown = on_terminal(db, "--lang", lang, *command, INFRA_MONITOR_PSEUDO_I18N="1")
        assert PSEUDO_OPEN in shown, command  # the switch works: the table went through t()
        words = _unmarked(shown) - allowed
        if words:
            found[" ".join(command)] = words
    assert found == {}, f"printed without a translation ({lang}): {found}"


def test_the_pseudo_switch_is_a_known_variable_and_marks_nothing_when_unset(db: Path) -> None:
    assert PSEUDO_OPEN not in on_terminal(db, "events")
    marked = run(db, "--lang", "en", "events", "--kind", "flap_start", "--format", "table",
                 INFRA_MONITOR_PSEUDO_I18N="1")
    assert marked.returncode == 0, marked.stderr  # config loading does not refuse it as an unknown key
    assert marked.stdout.strip() == f"{PSEUDO_OPEN}no events matching the filters{PSEUDO_CLOSE}"
