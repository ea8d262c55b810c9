"""Who may use the inventory API: reads need a user or token, writes the admin role; the configured
web.admin_token works with the Token and Bearer schemes; a wrong token gets 401 and changes nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.inventory.test_api.conftest import TOKEN

SITE = {"slug": "so-tt-tt", "name": "Sở Thông tin và Truyền thông", "category": "department"}


def test_reads_need_a_token(make_client: Callable[..., TestClient]) -> None:
    anonymous = make_client("")
    assert anonymous.get("/api/dcim/sites/").status_code == 401
    assert anonymous.get("/api/extras/object-changes/").status_code == 401
    signed = make_client(TOKEN)
    assert signed.get("/api/dcim/sites/").status_code == 200


def test_without_a_configured_token_nobody_writes_anonymously(make_client: Callable[..., TestClient]) -> None:
    client = make_client("")
    writes = [
        client.post("/api/dcim/sites/", json=SITE, headers={"Authorization": f"Token {TOKEN}"}),
        client.patch("/api/dcim/sites/1/", json={"name": "x"}),
        client.delete("/api/dcim/sites/1/"),
    ]
    for resp in writes:
        assert resp.status_code == 401
    assert make_client(TOKEN).get("/api/dcim/sites/").json()["count"] == 0


@pytest.mark.parametrize("header", ["Token wrong-token", "Basic dDBrZW4=", f"Token{TOKEN}", "Token "])
def test_missing_or_wrong_token_is_401_and_writes_nothing(client: TestClient, header: str) -> None:
    resp = client.post("/api/dcim/sites/", json=SITE, headers={"Authorization": header})
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == "Token"
    assert client.get("/api/dcim/sites/").json()["count"] == 0
    assert client.get("/api/extras/object-changes/").json()["count"] == 0


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "bearer"])
def test_token_and_bearer_schemes_both_write(client: TestClient, scheme: str) -> None:
    resp = client.post("/api/dcim/sites/", json=SITE, headers={"Authorization": f"{scheme} {TOKEN}"})
    assert resp.status_code == 201, resp.text
