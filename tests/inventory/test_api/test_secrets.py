"""SNMP communities and v3 keys are write-only: no response of the API ever carries them."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.inventory.test_api.builders import AUTH_KEY, COMMUNITY, PRIV_KEY, province
from web.api.inventory.resources import REGISTRY

NEW_COMMUNITY = "rotated-community-7731"
API_AUTH_KEY = "api-auth-key-5519"
API_PRIV_KEY = "api-priv-key-8842"
SECRETS = (COMMUNITY, AUTH_KEY, PRIV_KEY, NEW_COMMUNITY, API_AUTH_KEY, API_PRIV_KEY)


@pytest.fixture
def data(session: Session) -> dict[str, Any]:
    return province(session)


def assert_no_secret(text: str) -> None:
    leaked = [s for s in SECRETS if s in text]
    assert not leaked, f"secret values in a response: {leaked}"


def test_secrets_never_appear_in_any_response(client: TestClient, auth: dict, data: dict) -> None:
    created = client.post("/api/extras/snmp-profiles/", headers=auth, json={
        "name": "v3-api", "version": "3", "user": "mon", "auth_protocol": "sha256", "auth_key": API_AUTH_KEY,
        "priv_protocol": "aes", "priv_key": API_PRIV_KEY,
    })
    assert created.status_code == 201, created.text
    assert created.json()["auth_key_set"] is True
    assert created.json()["community_set"] is False
    rotated = client.patch(f"/api/extras/snmp-profiles/{data['snmp'].id}/", headers=auth,
                           json={"community": NEW_COMMUNITY})
    assert rotated.status_code == 200
    assert rotated.json()["community_set"] is True
    responses = [created.text, rotated.text]
    for res in REGISTRY.by_model.values():
        page = client.get(f"/api/{res.path}/", params={"limit": 1000})
        assert page.status_code == 200
        responses.append(page.text)
        if res.secret_fields:
            responses += [client.get(r["url"]).text for r in page.json()["results"]]
    responses.append(client.get("/api/openapi.json").text)
    for text in responses:
        assert_no_secret(text)


def test_profile_shows_which_secrets_are_set(client: TestClient, data: dict) -> None:
    v3 = client.get(f"/api/extras/snmp-profiles/{data['snmp3'].id}/").json()
    assert {k: v3[k] for k in ("community_set", "auth_key_set", "priv_key_set")} == {
        "community_set": False, "auth_key_set": True, "priv_key_set": True,
    }
    assert not {"community", "auth_key", "priv_key"} & set(v3)


def test_validation_errors_do_not_echo_secrets(client: TestClient, auth: dict, data: dict) -> None:
    resp = client.post("/api/extras/snmp-profiles/", headers=auth, json={
        "name": "weak", "version": "3", "user": "mon", "auth_protocol": "sha", "auth_key": "k3y-7",
        "community": "x" * 129,
    })
    assert resp.status_code == 400
    assert "k3y-7" not in resp.text
    assert "x" * 129 not in resp.text
