"""Specification of notification delivery: signed webhooks, SMTP with STARTTLS and AUTH, and the outbox
worker with exponential backoff, all against real local receivers."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.config import load_settings
from infra_monitor.status.engine.config import ChannelSpec, StatusConfig
from infra_monitor.status.notify.base import DeliveryError
from infra_monitor.status.notify.email import EmailSender
from infra_monitor.status.notify.webhook import WebhookSender, encode, sign, verify
from infra_monitor.status.notify.worker import NotifierThread, OutboxWorker, senders_from_settings
from infra_monitor.status.store.models import NotificationRow
from infra_monitor.status.store.sweeps import apply_sweep
from tests.status.inventory import Province
from tests.status.receivers import SmtpServer, WebhookReceiver, self_signed_cert

SECRET = "s3cret-for-tests"
START = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
T0 = START + timedelta(minutes=1)  # the sweep that sees the district fail, when its notification is due
CONFIG = StatusConfig(retries=1, channels=(ChannelSpec("ops", min_severity="warning"),))


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver(secret=SECRET).start()
    yield r
    r.stop()


def _observe(p: Province, *failing: int) -> dict[int, bool | None]:
    obs: dict[int, bool | None] = {d: True for d in [p.core, p.district, p.district_codec, *p.communes]}
    obs.update(dict.fromkeys(failing, False))
    return obs


def _district_failure(engine: Engine, p: Province) -> None:
    for n, obs in enumerate([_observe(p), _observe(p, p.district, *p.behind_district)]):
        with Session(engine) as session, session.begin():
            apply_sweep(session, obs, START + timedelta(minutes=n), CONFIG)


def _outbox(engine: Engine) -> list[NotificationRow]:
    with Session(engine) as session:
        return list(session.execute(select(NotificationRow)).scalars())


def test_webhook_body_is_signed_with_the_channel_secret(receiver: WebhookReceiver) -> None:
    payload = {"title": "DOWN: UBND xã Đồng Tâm", "affected_count": 0}
    WebhookSender("ops", receiver.url, secret=SECRET).send(payload)
    [arrival] = receiver.arrivals
    assert arrival.signature_ok
    assert arrival.signature == sign(encode(payload), SECRET)
    assert arrival.payload == payload
    assert not verify(arrival.body, "another secret", arrival.signature)


def test_sweep_only_enqueues_and_the_worker_delivers_one_webhook_for_a_district_failure(
    sqlite_db: Engine, sqlite_province: Province, receiver: WebhookReceiver
) -> None:
    _district_failure(sqlite_db, sqlite_province)
    assert receiver.attempts == 0
    assert len(_outbox(sqlite_db)) == 1

    stats = OutboxWorker(sqlite_db, {"ops": WebhookSender("ops", receiver.url, secret=SECRET)}).drain_once(T0)
    assert stats.sent == 1
    [arrival] = receiver.arrivals
    assert arrival.signature_ok
    assert arrival.payload["affected_count"] == 21
    assert arrival.payload["device"]["name"] == "yt-router"
    assert [(n.status, n.attempts) for n in _outbox(sqlite_db)] == [("sent", 1)]


def test_receiver_failing_twice_then_succeeding_gets_it_with_exponential_backoff(
    sqlite_db: Engine, sqlite_province: Province
) -> None:
    flaky = WebhookReceiver(secret=SECRET, fail_first=2).start()
    try:
        _district_failure(sqlite_db, sqlite_province)
        worker = OutboxWorker(sqlite_db, {"ops": WebhookSender("ops", flaky.url, secret=SECRET)},
                              backoff_initial_s=5, backoff_max_s=600)
        assert worker.drain_once(T0).retried == 1
        [row] = _outbox(sqlite_db)
        assert (row.status, row.attempts, row.next_attempt_at, row.last_error) == (
            "pending", 1, T0 + timedelta(seconds=5), "HTTP 500")
        assert worker.drain_once(T0 + timedelta(seconds=4)).handled == 0
        assert worker.drain_once(T0 + timedelta(seconds=5)).retried == 1
        [row] = _outbox(sqlite_db)
        assert row.next_attempt_at == T0 + timedelta(seconds=15)
        assert worker.drain_once(T0 + timedelta(seconds=15)).sent == 1
        assert flaky.attempts == 3 and len(flaky.arrivals) == 1 and flaky.arrivals[0].signature_ok
        [row] = _outbox(sqlite_db)
        assert (row.status, row.attempts) == ("sent", 3)
    finally:
        flaky.stop()


def test_notification_is_marked_failed_after_the_last_attempt(sqlite_db: Engine, sqlite_province: Province) -> None:
    dead = WebhookReceiver(secret=SECRET, fail_first=1000).start()
    try:
        _district_failure(sqlite_db, sqlite_province)
        worker = OutboxWorker(sqlite_db, {"ops": WebhookSender("ops", dead.url)}, max_attempts=2,
                              backoff_initial_s=1)
        worker.drain_once(T0)
        assert worker.drain_once(T0 + timedelta(seconds=1)).failed == 1
        [row] = _outbox(sqlite_db)
        assert (row.status, row.attempts, row.last_error) == ("failed", 2, "HTTP 500")
        assert worker.drain_once(T0 + timedelta(days=1)).handled == 0
    finally:
        dead.stop()


def test_closed_port_is_a_delivery_error_without_the_url() -> None:
    with pytest.raises(DeliveryError) as err:
        WebhookSender("ops", "http://127.0.0.1:9/hook?token=abc", timeout_s=2).send({"title": "x"})
    assert "token" not in str(err.value)


def test_notifier_thread_drains_the_outbox_in_the_background(
    sqlite_db: Engine, sqlite_province: Province, receiver: WebhookReceiver
) -> None:
    _district_failure(sqlite_db, sqlite_province)
    notifier = NotifierThread(load_settings(None, environ={}), sqlite_db, poll_s=0.05,
                              senders={"ops": WebhookSender("ops", receiver.url, secret=SECRET)})
    notifier.start()
    try:
        assert receiver.delivered.wait(timeout=20), "the notifier thread never delivered"
    finally:
        notifier.stop()
    assert not notifier.is_alive()
    assert len(receiver.arrivals) == 1
    assert [n.status for n in _outbox(sqlite_db)] == ["sent"]


def test_channels_and_senders_come_from_the_settings(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text(
        '[[notifications.webhooks]]\nname = "noc"\nurl = "http://127.0.0.1:8080/hook"\nsecret = "hook-secret-xyz"\n'
        'min_severity = "critical"\nregions = ["yen-the"]\n'
        '[[notifications.email]]\nname = "mail"\nhost = "127.0.0.1"\nsender = "m@tinh.gov.vn"\n'
        'recipients = ["noc@tinh.gov.vn"]\nlevels = ["district"]\n'
        '[probes.icmp]\nretries = 4\n', encoding="utf-8")
    settings = load_settings(path, environ={})
    config = StatusConfig.from_settings(settings)
    assert config.channels == (
        ChannelSpec("noc", "critical", regions=frozenset({"yen-the"})),
        ChannelSpec("mail", "warning", levels=frozenset({"district"})),
    )
    assert config.retries_for(["icmp"]) == 4
    senders = senders_from_settings(settings)
    assert isinstance(senders["noc"], WebhookSender) and isinstance(senders["mail"], EmailSender)
    assert "hook-secret-xyz" not in repr(senders["noc"])


@pytest.fixture(scope="module")
def smtp_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SmtpServer, ssl.SSLContext]]:
    cert, key = self_signed_cert(tmp_path_factory.mktemp("smtp"))
    with SmtpServer(cert, key, user="monitor", password="mail-pass") as server:
        yield server, ssl.create_default_context(cafile=str(cert))


def _mailer(server: SmtpServer, ctx: ssl.SSLContext, **kw: object) -> EmailSender:
    args: dict[str, object] = {
        "name": "mail", "host": "127.0.0.1", "port": server.port, "sender": "monitor@tinh.gov.vn",
        "recipients": ("noc@tinh.gov.vn",), "username": "monitor", "password": "mail-pass", "ssl_context": ctx, **kw,
    }
    return EmailSender(**args)  # type: ignore[arg-type]


def test_email_is_delivered_over_starttls_with_authentication(smtp_tls: tuple[SmtpServer, ssl.SSLContext]) -> None:
    server, ctx = smtp_tls
    before = len(server.inbox.messages)
    _mailer(server, ctx).send({"title": "DOWN: yt-router (UBND huyện Yên Thế)", "text": "21 thiết bị mất kết nối"})
    envelope = server.inbox.messages[before]
    assert server.inbox.tls_sessions[before] is True
    assert envelope.rcpt_tos == ["noc@tinh.gov.vn"]
    text = envelope.content.decode("utf-8") if isinstance(envelope.content, bytes) else str(envelope.content)
    assert "Subject: =?utf-8?" in text or "Subject: [infra-monitor] DOWN: yt-router" in text


def test_wrong_smtp_password_is_a_delivery_error(smtp_tls: tuple[SmtpServer, ssl.SSLContext]) -> None:
    server, ctx = smtp_tls
    with pytest.raises(DeliveryError, match="authentication failed"):
        _mailer(server, ctx, password="wrong").send({"title": "x"})


def test_untrusted_certificate_is_refused(smtp_tls: tuple[SmtpServer, ssl.SSLContext]) -> None:
    server, _ = smtp_tls
    with pytest.raises(DeliveryError, match="SSL"):
        _mailer(server, ssl.create_default_context()).send({"title": "x"})


def test_credentials_are_never_sent_without_starttls(smtp_tls: tuple[SmtpServer, ssl.SSLContext]) -> None:
    server, ctx = smtp_tls
    with pytest.raises(DeliveryError, match="without STARTTLS"):
        _mailer(server, ctx, starttls=False).send({"title": "x"})


def test_email_notification_is_drained_from_the_outbox(
    sqlite_db: Engine, sqlite_province: Province, smtp_tls: tuple[SmtpServer, ssl.SSLContext]
) -> None:
    server, ctx = smtp_tls
    before = len(server.inbox.messages)
    _district_failure(sqlite_db, sqlite_province)
    stats = OutboxWorker(sqlite_db, {"ops": _mailer(server, ctx)}).drain_once(T0)
    assert stats.sent == 1
    assert len(server.inbox.messages) == before + 1
