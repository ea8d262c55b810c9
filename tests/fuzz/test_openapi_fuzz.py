"""Schemathesis against the app's own OpenAPI spec (``/api/openapi.json``), in process over ASGI.

Every ``/api`` operation is fuzzed three ways on a migrated SQLite file holding a small province: with the
configured admin token (schemathesis' examples, coverage and fuzzing phases, valid and invalid data), with a
viewer's token and without any token (fuzzing phase). All of schemathesis' default checks apply: no 5xx,
documented status codes, content types, headers and bodies (``Allow`` of a 405 included), invalid data
rejected. Three properties are ours:

* a request the spec calls valid is accepted; it may only be refused (400/422) by a rule a schema cannot
  state: a reference that names nothing, a choice or cross-field rule of ``inventory.validation.clean``, a
  period that ends before it starts. A write body refused that way must still pass the handler's own
  request model, so the spec and the model agree on types, lengths and bounds;
* a viewer's token is refused (403) on every write;
* without a token every operation answers 401 with ``WWW-Authenticate: Token`` (the public summary, which
  is on here, answers 200).

Deterministic (``derandomize``, no example database) and bounded: the cases run are counted and the last
test asserts there were at least 1,000.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from pydantic import BaseModel, ValidationError
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    positive_data_acceptance,
    unsupported_method,
)
from sqlalchemy.engine import Engine

from tests.fuzz.conftest import ADMIN
from tests.users import token_for

# COUNTS lives in one process: under xdist every test of this module must run in the same worker, so that the
# last test sees the cases of the three runs (make test: --dist loadscope; the mark is for --dist loadgroup).
pytestmark = pytest.mark.xdist_group("openapi-fuzz")
MIN_CASES = 1000
COUNTS: Counter[str] = Counter()
PUBLIC = {"/api/public/summary"}
# Query parameters naming things that must exist (a slug, a device), or periods: a valid-looking value may
# still be refused with a 400/422 naming the parameter.
DOMAIN_PARAMETERS: dict[tuple[str, str], set[str]] = {
    ("GET", "/api/status/events/"): {"site", "device"},
    ("GET", "/api/reports/{kind}"): {"from", "to", "as_of"},
    ("GET", "/api/status/problems"): {"district", "site", "since", "until"},  # must name existing data
}
# Our positive-data rule replaces schemathesis' own (which refuses every 400).
OURS = [positive_data_acceptance]
# Nothing pending: web/errors.py answers 405 with every method of the path in Allow.
PENDING: list[Any] = []


def _config(*phases: str, max_examples: int) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict({
        # the tests send the Authorization header themselves: no generated (or removed) credentials
        "generation": {"deterministic": True, "database": "none", "max-examples": max_examples,
                       "with-security-parameters": False},
        "phases": {name: {"enabled": name in phases} for name in ("examples", "coverage", "fuzzing")},
    })


def _schema(app: FastAPI, config: SchemathesisConfig) -> Any:
    return schemathesis.openapi.from_asgi("/api/openapi.json", app, config=config, headers=ADMIN)


@pytest.fixture(scope="module")
def full_schema(fuzz_app: FastAPI) -> Any:
    return _schema(fuzz_app, _config("examples", "coverage", "fuzzing", max_examples=4))


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_app: FastAPI) -> Any:
    return _schema(fuzz_app, _config("fuzzing", max_examples=3))


@pytest.fixture(scope="module")
def viewer(fuzz_engine: Engine) -> dict[str, str]:
    return {"Authorization": f"Token {token_for(fuzz_engine, 'xem', 'viewer')}"}


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32 renames the node of each operation through ``_nodeid``, gone in pytest 9.2."""
    request.node._nodeid = request.node.nodeid


FUZZ = settings(derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck),
                print_blob=False)
full = schemathesis.pytest.from_fixture("full_schema")
fuzz = schemathesis.pytest.from_fixture("fuzz_schema")


# --- the spec's own promises ----------------------------------------------------------------------------------

def _inventory_model(path: str, partial: bool) -> type[BaseModel]:
    from web.api.inventory import schemas
    from web.api.inventory.resources import REGISTRY

    api_path = "/".join(path.split("/")[2:4])
    res = next(r for r in REGISTRY.by_model.values() if r.path == api_path)
    return schemas.request_model(res, partial=partial)


def _handler_accepts(case: Any) -> Callable[[Any], object]:
    """How the handler of ``case`` validates a body before any rule of the domain."""
    method, path = case.method.upper(), case.path
    if path.startswith("/api/status/maintenance/"):
        from web.api.events import WindowIn, WindowPatch, window_body

        window = WindowPatch if method == "PATCH" else WindowIn
        return lambda body: window_body(window, body)
    if path.startswith("/api/status/problems/"):
        from web.api import problems as api_problems

        action = path.rsplit("/", 1)[-1]
        return {"acknowledge": api_problems.AckIn, "unacknowledge": api_problems.AckIn,
                "assign": api_problems.AssignIn, "comment": api_problems.CommentIn}[action].model_validate
    if path.startswith("/api/vc/meetings/"):
        from web.api.meetings import MeetingBody, MeetingPatch

        return (MeetingPatch if method == "PATCH" else MeetingBody).model_validate
    if path == "/api/reconcile/accept":
        from web.api.reconcile import AcceptIn

        return AcceptIn.model_validate
    model = _inventory_model(path, partial=method == "PATCH")
    return model.model_validate


def _valid_request_accepted(case: Any, response: Any) -> None:
    """A request of valid data is accepted or refused by a rule of the domain only (see the module doc)."""
    meta = case.meta
    code = response.status_code
    if meta is None or not meta.generation.mode.is_positive or code in (401, 403, 404, 409) or code < 400:
        return
    method, path = case.method.upper(), case.path
    assert code in (400, 422), f"{method} {path}: valid data answered {code}: {response.text[:300]}"
    if method in ("POST", "PUT", "PATCH"):
        try:
            _handler_accepts(case)(case.body)
        except ValidationError as exc:
            raise AssertionError(f"{method} {path}: the spec accepts this body, the handler's model does not: "
                                 f"{exc.errors()[:3]}") from None
        return
    named = set(response.json())
    allowed = DOMAIN_PARAMETERS.get((method, path), set())
    assert named <= allowed, f"{method} {path}: valid parameters refused: {response.text[:300]}"


def _viewer_cannot_write(case: Any, response: Any) -> None:
    """Every write of the spec needs the operator or admin role: a viewer's token gets 403, whatever it sends."""
    if case.method.upper() in ("POST", "PUT", "PATCH", "DELETE"):
        assert response.status_code == 403, f"{case.method} {case.path} as a viewer: {response.status_code}"


def _anonymous_refused(case: Any, response: Any) -> None:
    if case.path in PUBLIC:  # its GET (other methods: schemathesis' probes, 405)
        assert response.status_code == (200 if case.method.upper() == "GET" else 405), response.text[:300]
        return
    assert response.status_code == 401, f"{case.method} {case.path} without a token: {response.status_code}"
    assert response.headers.get("www-authenticate") == ["Token"]
    assert set(response.json()) == {"detail"}


# --- the three runs -------------------------------------------------------------------------------------------

@full.parametrize()
@FUZZ
def test_every_operation_with_the_admin_token(case: Any) -> None:
    COUNTS["admin"] += 1
    response = case.call_and_validate(headers=ADMIN, excluded_checks=OURS + PENDING)
    _valid_request_accepted(case, response)


@fuzz.parametrize()
@FUZZ
def test_every_operation_with_a_viewer_token(case: Any, viewer: dict[str, str]) -> None:
    COUNTS["viewer"] += 1
    response = case.call_and_validate(headers=viewer, excluded_checks=OURS + PENDING)
    _valid_request_accepted(case, response)
    _viewer_cannot_write(case, response)


@fuzz.parametrize()
@FUZZ
def test_every_operation_without_a_token(case: Any) -> None:
    COUNTS["anonymous"] += 1
    # unsupported_method: authentication comes before routing, so an unknown method is 401 too (no 405
    # telling an anonymous caller which methods exist).
    response = case.call_and_validate(excluded_checks=[*OURS, *PENDING, unsupported_method])
    _anonymous_refused(case, response)


def test_at_least_a_thousand_cases_ran() -> None:
    if len(COUNTS) < 3:
        if os.environ.get("CI"):     # the whole suite runs under CI: a fuzz mode that ran nothing is a failure
            pytest.fail(f"a fuzz mode ran no case: {dict(COUNTS)}")
        pytest.skip("the fuzz tests were not all selected")
    print(f"schemathesis cases: {dict(COUNTS)}, total {sum(COUNTS.values())}")
    assert sum(COUNTS.values()) >= MIN_CASES, dict(COUNTS)
    assert min(COUNTS.values()) >= 300, dict(COUNTS)
