"""Configuration: defaults, file, environment overrides, and exit code 2 with the key named on errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra_monitor.cli import app
from infra_monitor.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_apply_without_any_file() -> None:
    s = load_settings(None, environ={})
    assert s.database.url == "sqlite:///./infra-monitor.db"
    assert s.general.timezone == "Asia/Ho_Chi_Minh"
    assert s.general.language == "vi"


def test_example_config_is_valid_and_documents_every_section() -> None:
    s = load_settings(ROOT / "config.example.toml", environ={})
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    for section in ("[database]", "[general]", "[web]", "[logging]", "[poller]", "[probes.icmp]",
                    "[probes.snmp]", "[retention]", "[status]", "[notifications]", "[reports]"):
        assert section in text
    assert s.probes.icmp.packets == 3
    assert s.reports.tier_reference == "tcvn9250-2012" and s.reports.threshold_pct == 99.0


def test_environment_overrides_nested_keys(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[web]\nport = 9000\n[probes.icmp]\ninterval_s = 30\ntimeout_s = 2\n')
    s = load_settings(cfg, environ={"INFRA_MONITOR_WEB__PORT": "9100", "INFRA_MONITOR_PROBES__ICMP__PACKETS": "5"})
    assert s.web.port == 9100
    assert s.probes.icmp.interval_s == 30
    assert s.probes.icmp.packets == 5


@pytest.mark.parametrize(
    ("body", "key", "hint"),
    [
        ("[web]\nprot = 8000\n", "web.prot", "unknown key"),
        ("[web]\nport = 'eighty'\n", "web.port", "integer"),
        ("[probes.icmp]\ninterval_s = 10\ntimeout_s = 30\n", "probes.icmp", "must not be longer than interval_s"),
        ("[general]\ntimezone = 'Mars/Olympus'\n", "general.timezone", "unknown IANA time zone"),
        ("[database]\nurl = 'mysql://x'\n", "database.url", "sqlite:///"),
    ],
)
def test_bad_config_exits_2_naming_file_and_key(tmp_path: Path, body: str, key: str, hint: str) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(body)
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, environ={})
    assert str(cfg) in str(err.value) and key in str(err.value) and hint in str(err.value)
    result = CliRunner().invoke(app, ["init", "--config", str(cfg)])
    assert result.exit_code == 2
    assert key in result.output and str(cfg) in result.output


def test_missing_and_malformed_files_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["db", "upgrade", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2 and "not found" in result.output
    broken = tmp_path / "broken.toml"
    broken.write_text("[web\nport=1")
    result = CliRunner().invoke(app, ["serve", "--config", str(broken)])
    assert result.exit_code == 2 and "not valid TOML" in result.output


def test_config_file_from_environment_variable(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[web]\nport = 8123\n")
    assert load_settings(None, environ={"INFRA_MONITOR_CONFIG": str(cfg)}).web.port == 8123


def test_example_config_has_a_section_for_every_registered_kind_with_every_setting() -> None:
    from probes.registry import KINDS

    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    for name, kind in KINDS.items():
        section = text.split(f"[probes.{name}]", 1)[1].split("\n[", 1)[0]
        keys = {line.split("=")[0].strip() for line in section.splitlines() if "=" in line}
        assert keys == set(kind.settings.model_fields), (name, set(kind.settings.model_fields) ^ keys)


def test_kind_settings_that_could_not_be_set_before_are_settable(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[probes.http]\nverify_tls = false\nfollow_redirects = false\nca_file = "/etc/ssl/ca.pem"\n'
                   "[probes.snmp]\nmax_repetitions = 10\n[probes.dns]\nport = 5353\n")
    s = load_settings(cfg, environ={})
    assert (s.probes.http.verify_tls, s.probes.http.follow_redirects, s.probes.http.ca_file) == (
        False, False, "/etc/ssl/ca.pem")
    assert s.probes.snmp.max_repetitions == 10 and s.probes.dns.port == 5353
    assert s.probes.tcp.timeout_s == 3.0  # no section: the kind's own defaults


@pytest.mark.parametrize(("body", "key", "hint"), [
    ("[probes.smtp]\nenabled = true\n", "probes", "[probes.smtp] is not a probe kind; known kinds: icmp, snmp"),
    ("[probes.dns]\nport = 0\n", "probes.dns.port", "greater than or equal to 1"),
    ("[probes.tcp]\npackets = 3\n", "probes.tcp.packets", "unknown key"),
])
def test_probe_sections_are_validated_by_their_kind(tmp_path: Path, body: str, key: str, hint: str) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(body)
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, environ={})
    assert key in str(err.value) and hint in str(err.value)
