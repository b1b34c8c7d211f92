"""Fuzzing the JSON API with schemathesis against the OpenAPI spec the app serves.

Every operation of ``/openapi.json`` is called in-process (schemathesis' ASGI transport) with
generated requests, valid and invalid (schemathesis' coverage, example and fuzzing phases), in
dev mode (the body's ``user_id`` trusted) and with a signed token. Required: no response >= 500,
and the responses conform to the spec (schemathesis' checks; the exceptions are in
:func:`_exercise`).

The fuzz runs on its own copy of the served demo world: it claims coupons and records feedback,
which would spend the budgets the other API tests count on. Rate limits are raised: a 429 is
fine (< 500) but would stop the fuzz before the handlers.

Generated ids almost never name a real session, impression, activity or product, so nearly
every answer would be a 404 before the handler does anything. A positive case's id fields are
therefore steered, deterministically from the generated value, to a real id (ours or another
user's) or left as generated: the fuzzer reaches the turn pipeline, the claim transaction and
the feedback writer with the rest of its data.

Schemathesis' pytest integration parametrizes at collection, so the spec is loaded at import
from ``create_app`` (it depends on no shop or mode); the requests go to the fixtures' apps and
``test_the_fuzzed_spec_is_the_served_one`` checks the two are the same document.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import AuthContext, Case, GenerationMode, Response
from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES as REJECTED
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
)
from sqlalchemy import select

from assistant.app import Shop
from assistant.config import Settings
from assistant.conversation import Assistant
from assistant.errors import StoreError
from assistant.store import ActivityRecord, ProductRecord, make_engine, upgrade
from tests.assistant.conversation.conftest import served_shop
from ui.api import mint_token
from ui.api._schemas import ID_PATTERN, USER_ID_PATTERN
from ui.server import RateLimits, create_app

from .conftest import Clock, build_app, wait_ready
from .test_api import RUNNING, error_of

FUZZ_USER = "fuzz-user"
OTHER_USER = "fuzz-other"
USERS = (FUZZ_USER, OTHER_USER)
USER_ID_REQUIRED_IN_DEV = ("/v1/chat", "/v1/chat/stream", "/v1/claims")
RAISED = RateLimits(user="1000000/minute", ip="1000000/minute", namespace="fuzz")
FAST_EXAMPLES = 15
SLOW_EXAMPLES = 400

FuzzCase = Case[Any]
JSON = {"Content-Type": "application/json"}

SEMANTIC_422 = (
    ("bad_cart", "the cart names unknown or unpriced products"),
    ("invalid", "message is empty"),
)
"""The 422s (code, start of the message) a schema-valid request may get: what the schema cannot
say. A cart may name a product the shop does not sell; a message may be nothing but control
characters and spaces (or, in ``/v1/chat/completions``, a user message without text)."""


@dataclass(frozen=True)
class World:
    """The fuzz's own copy of the served world and the real ids it steers to."""

    shop: Shop
    assistant: Assistant
    sessions: tuple[str, ...]
    impressions: tuple[str, ...]
    activities: tuple[str, ...]
    products: tuple[str, ...]


@pytest.fixture(scope="module")
def world(served_var: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    var = tmp_path_factory.mktemp("fuzz") / "var"
    shutil.copytree(served_var, var)
    shop = served_shop(var)
    assistant = Assistant.from_shop(shop, seed=3)
    sessions, impressions = [], []
    with TestClient(build_app(shop, assistant, Clock(), dev=True)) as client:
        wait_ready(client)
        for user in USERS:
            body = client.post(
                "/v1/chat", json={"user_id": user, "message": "running shoes with a coupon"}
            ).json()
            sessions.append(body["session_id"])
            impressions += [r["impression_id"] for r in body["recommendations"]]
    with shop.sessions() as session:
        activities = session.scalars(select(ActivityRecord.id).order_by(ActivityRecord.id))
        products = session.scalars(select(ProductRecord.id).order_by(ProductRecord.id))
        found = World(
            shop,
            assistant,
            tuple(sessions),
            tuple(impressions),
            tuple(activities)[:8],
            tuple(products)[:8],
        )
    assert shop.settings.jwt_secret == SETTINGS.jwt_secret  # the token below is good there
    yield found
    shop.engine.dispose()


SETTINGS = Settings(_env_file=None)


def _spec() -> dict[str, Any]:
    """The OpenAPI document ``create_app`` serves."""
    return create_app(SETTINGS).openapi()


# An invalid body over 64 KiB is refused with the contract's 413 before it is read.
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": [*REJECTED, "413"]}}}
)
dev_api = schemathesis.openapi.from_dict(_spec(), config=CONFIG)
token_api = schemathesis.openapi.from_dict(_spec(), config=CONFIG)


@token_api.auth()
class FuzzUserToken:
    """Every token-mode case is sent with the fuzz user's valid token (schemathesis' auth
    checks still send probes without it, or with a broken one)."""

    def get(self, case: FuzzCase, ctx: AuthContext) -> str:
        return mint_token(SETTINGS.jwt_secret.get_secret_value(), FUZZ_USER)

    def set(self, case: FuzzCase, data: str, ctx: AuthContext) -> None:
        case.headers["Authorization"] = f"Bearer {data}"


@pytest.fixture(scope="module")
def dev_app(world: World) -> FastAPI:
    return build_app(world.shop, world.assistant, Clock(), dev=True, rate_limits=RAISED)


@pytest.fixture(scope="module")
def token_app(world: World) -> FastAPI:
    return build_app(world.shop, world.assistant, Clock(), dev=False, rate_limits=RAISED)


def _pick(value: Any, real: tuple[str, ...]) -> Any:
    """A real id for most generated strings, chosen by the string's length (deterministic)."""
    if not isinstance(value, str) or not real:
        return value
    slot = len(value) % (len(real) + 1)
    return value if slot == len(real) else real[slot]


def _positive(case: FuzzCase) -> bool:
    return case.meta is not None and case.meta.generation.mode is GenerationMode.POSITIVE


def _steer(case: FuzzCase, world: World, *, dev: bool) -> None:
    """Point a positive case's ids at real rows."""
    if not _positive(case):
        return
    if "session_id" in case.path_parameters:
        case.path_parameters["session_id"] = _pick(
            case.path_parameters["session_id"], world.sessions
        )
    if "user_id" in case.query:
        case.query["user_id"] = _pick(case.query["user_id"], USERS)
    body = case.body
    if not isinstance(body, dict):
        return
    for key, real in (
        ("session_id", world.sessions),
        ("impression_id", world.impressions),
        ("activity_id", world.activities),
        ("user_id", USERS),
        ("user", USERS),
    ):
        if key in body:
            body[key] = _pick(body[key], real)
    cart = body.get("cart")
    for line in cart if isinstance(cart, list) else []:
        if isinstance(line, dict) and "product_id" in line:
            line["product_id"] = _pick(line["product_id"], world.products)
    if dev and case.path in USER_ID_REQUIRED_IN_DEV and body.get("user_id") is None:
        # Without a token, dev mode needs the body's user_id (422 otherwise); the schema cannot
        # say so, as it depends on the Authorization header.
        body["user_id"] = FUZZ_USER


def _negative_locations(case: FuzzCase) -> set[ParameterLocation]:
    if case.meta is None:
        return set()
    return {where for where, part in case.meta.components.items() if part.mode.is_negative}


def _error(response: Response) -> tuple[str, str] | None:
    """The error's code and the start of its message that :data:`SEMANTIC_422` names."""
    try:
        error = response.json()["error"]
        code, message = error["code"], error["message"]
    except (ValueError, KeyError, TypeError):
        return None
    for known, start in SEMANTIC_422:
        if code == known and message.startswith(start):
            return known, start
    return code, message


def _exercise(case: FuzzCase, app: FastAPI, world: World, *, dev: bool) -> None:
    """Send one case to ``app``: never a 5xx, and the response conforms to the spec."""
    # The spec was loaded without an app: send the case, and schemathesis' own probes (the
    # auth checks resend it), to this test's app in-process.
    case.operation.app = app
    case.operation.schema.app = app
    _steer(case, world, dev=dev)
    response = case.call()
    assert response.status_code < 500, (response.status_code, response.text[:500])
    # positive_data_acceptance runs below, allowing the 422s of SEMANTIC_422.
    excluded: list[Any] = [positive_data_acceptance]
    if dev:
        # Dev mode accepts a missing token by design (DESIGN.md "HTTP"), so a case whose only
        # invalid part is its Authorization header is a valid one there.
        excluded += [ignored_auth, missing_required_header]
        if _negative_locations(case) == {ParameterLocation.HEADER}:
            excluded.append(negative_data_rejection)
    case.validate_response(response, excluded_checks=excluded)
    if _positive(case) and response.status_code == 422:
        assert _error(response) in SEMANTIC_422, (
            f"a schema-valid request was refused: {response.text[:500]}"
        )


_FAST = settings(
    max_examples=FAST_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
_SLOW = settings(_FAST, max_examples=SLOW_EXAMPLES)


@dev_api.parametrize()
@_FAST
def test_dev_mode_fuzz_never_answers_5xx(case: FuzzCase, dev_app: FastAPI, world: World) -> None:
    _exercise(case, dev_app, world, dev=True)


@token_api.parametrize()
@_FAST
def test_token_mode_fuzz_never_answers_5xx(
    case: FuzzCase, token_app: FastAPI, world: World
) -> None:
    _exercise(case, token_app, world, dev=False)


@pytest.mark.slow
@dev_api.parametrize()
@_SLOW
def test_dev_mode_long_fuzz_never_answers_5xx(
    case: FuzzCase, dev_app: FastAPI, world: World
) -> None:
    _exercise(case, dev_app, world, dev=True)


@pytest.mark.slow
@token_api.parametrize()
@_SLOW
def test_token_mode_long_fuzz_never_answers_5xx(
    case: FuzzCase, token_app: FastAPI, world: World
) -> None:
    _exercise(case, token_app, world, dev=False)


def test_the_fuzzed_spec_is_the_served_one(dev_app: FastAPI) -> None:
    with TestClient(dev_app) as client:
        served = client.get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == _spec()


def test_the_spec_says_what_the_server_checks() -> None:
    spec = _spec()
    schemas = spec["components"]["schemas"]
    completions = spec["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"]
    assert set(completions) == {"application/json", "text/event-stream"}
    messages = schemas["CompletionRequest"]["properties"]["messages"]
    assert messages["contains"]["properties"]["role"] == {"const": "user"}
    assert "user" in schemas["CompletionMessage"]["properties"]["role"]["enum"]
    feedback = schemas["FeedbackRequest"]["properties"]
    assert {"type": "integer", "maximum": 10**12, "minimum": 0} in feedback["value"]["anyOf"]
    assert feedback["event_id"]["pattern"] == ID_PATTERN
    assert schemas["ChatRequest"]["properties"]["user_id"]["anyOf"][0]["pattern"] == (
        USER_ID_PATTERN
    )


# --- regressions: what the fuzz found ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/chat", "/v1/chat/completions", "/v1/feedback"])
def test_a_body_that_is_not_utf8_is_422_malformed_json(client: TestClient, path: str) -> None:
    # Was 400 "bad_request" (FastAPI's own), outside the contract's 422 for malformed JSON.
    response = client.post(path, content=b'{"message": "\xff"}', headers=JSON)
    assert error_of(response, 422, "malformed_json") == "the body is not valid UTF-8 JSON"


@pytest.mark.parametrize(
    "value", ["1e999999999", "1e400", 10**30, "-1", "1.234", "٥", 1.5], ids=repr
)
def test_feedback_amounts_out_of_range_or_form_are_422(client: TestClient, value: Any) -> None:
    # "1e999999999" was a 500 (decimal.Overflow in Currency.parse); 10**30 and "1e400" parsed
    # to minor units SQL cannot store (a 500 once the impression was real).
    body = client.post("/v1/chat", json={"user_id": "fuzz-amounts", "message": RUNNING}).json()
    impression = body["recommendations"][0]["impression_id"]
    event = {"event_id": uuid.uuid4().hex, "impression_id": impression, "type": "purchase"}
    message = error_of(client.post("/v1/feedback", json={**event, "value": value}), 422)
    assert message.startswith("value.")
    recorded = client.post("/v1/feedback", json={**event, "value": "59.90"})
    assert recorded.json() == {"event_id": event["event_id"], "recorded": True}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/feedback", {"event_id": "e\x00", "impression_id": "i", "type": "click"}, "event_id"),
        (
            "/v1/feedback",
            {"event_id": "e", "impression_id": "i\n", "type": "click"},
            "impression_id",
        ),
        (
            "/v1/claims",
            {"user_id": "u", "activity_id": "a\x00", "idempotency_key": "k"},
            "activity_id",
        ),
        ("/v1/chat", {"user_id": "u", "session_id": "s\x00", "message": "hi"}, "session_id"),
        (
            "/v1/claims",
            {"user_id": "u", "activity_id": "a", "idempotency_key": " \u3000"},
            "idempotency_key",
        ),
        ("/v1/chat", {"user_id": "u\x00", "message": "hi"}, "user_id"),
        (
            "/v1/chat",
            {"user_id": "u", "message": "hi", "cart": [{"product_id": "\x00", "quantity": 1}]},
            "cart.0.product_id",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and not v.startswith("/") else None,
)
def test_ids_with_control_characters_and_blank_keys_are_422(
    client: TestClient, path: str, body: dict[str, Any], field: str
) -> None:
    # PostgreSQL refuses NUL in text: these were 500s there. A blank idempotency key was a 422
    # from the claim engine for a request the spec called valid.
    message = error_of(client.post(path, json=body), 422, "invalid_request")
    assert message.startswith(f"{field}: String should match pattern")


@pytest.mark.postgres
def test_a_nul_reaching_postgresql_is_422_not_500(
    new_pg_schema: Callable[[], str], tmp_path: Path
) -> None:
    url = new_pg_schema()
    upgrade(url)
    settings = Settings(_env_file=None, var_dir=tmp_path, database_url=url, llm_backend="rules")
    shop = Shop(settings, make_engine(url))

    def no_assistant(_: Shop) -> Assistant:
        raise StoreError("no assistant in this test: the records routes need SQL only")

    app = create_app(shop=shop, assistant_factory=no_assistant, dev=True, rate_limits=RAISED)
    try:
        with TestClient(app) as client:
            # A path parameter has no pattern: psycopg's refusal is mapped to 422 (was 500).
            response = client.get("/v1/sessions/s%00x", params={"user_id": "u1"})
            assert error_of(response, 422, "invalid_request") == (
                "text may not hold NUL characters"
            )
            assert client.get("/v1/sessions/sx", params={"user_id": "u1"}).status_code == 404
            event = {"event_id": "e1", "impression_id": "i\x00", "type": "click"}
            error_of(client.post("/v1/feedback", json=event), 422, "invalid_request")
            claim = {"user_id": "u1", "activity_id": "a\x00", "idempotency_key": "k1"}
            error_of(client.post("/v1/claims", json=claim), 422, "invalid_request")
    finally:
        shop.engine.dispose()
