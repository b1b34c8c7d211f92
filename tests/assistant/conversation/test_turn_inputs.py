"""Whole turns (and ``shopassist chat``) on inputs that used to slip past validation or crash.

Regressions: NFKC lengthened a message of at most 2,000 characters past the limit and the turn
was refused as too long; an amount beyond the decimal context raised ``InvalidOperation`` out of
the turn (a traceback from ``chat``); ``"alice\\n"`` passed the user-id check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from assistant.conversation import Assistant
from assistant.errors import ValidationError
from assistant.store.models import MessageRecord, SessionRecord, UserRecord

from .conftest import NOW, served_shop

GROWS = "ﷺ" * 150 + " yoga mats under ５０ dollars"  # 178 characters; NFKC: 2,728
HUGE = "yoga mats under 99999999999999999999999999999999 dollars"


@pytest.fixture(scope="module")
def assistant(served_var: Path) -> Iterator[Assistant]:
    shop = served_shop(served_var)
    yield Assistant.from_shop(shop, seed=3)
    shop.engine.dispose()


def test_a_message_that_grows_when_normalized_keeps_all_it_says(assistant: Assistant) -> None:
    result = assistant.turn("u-grows", GROWS, now=NOW)
    assert result.intent.max_price == 5000  # the full-width budget at the end was read
    assert result.intent.categories == ["sports/yoga-mats"]
    with assistant.shop.sessions() as session:
        texts = session.scalars(
            select(MessageRecord.text).where(MessageRecord.session_id == result.session_id)
        ).all()
    shopper = [t for t in texts if t.startswith("ﷺ")]
    assert shopper and all(len(t) <= 2000 for t in shopper)
    assert shopper[0].endswith("yoga mats under 50 dollars")


def test_a_budget_beyond_any_price_bounds_nothing(assistant: Assistant) -> None:
    result = assistant.turn("u-huge", HUGE, now=NOW)
    assert (result.intent.min_price, result.intent.max_price) == (None, None)
    assert result.intent.categories == ["sports/yoga-mats"]


@pytest.mark.parametrize("user_id", ["alice\n", "alice\r\n"])
def test_a_user_id_ending_in_a_newline_is_refused(assistant: Assistant, user_id: str) -> None:
    def counts() -> tuple[int, int]:
        with assistant.shop.sessions() as session:
            return (
                session.scalar(select(func.count()).select_from(UserRecord)) or 0,
                session.scalar(select(func.count()).select_from(SessionRecord)) or 0,
            )

    before = counts()
    with pytest.raises(ValidationError, match=r"must be 1-128 letters, digits or \._:@-"):
        assistant.turn(user_id, "yoga mats", now=NOW)
    assert counts() == before


def _chat(var: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SHOPASSIST_VAR_DIR": str(var),
        "SHOPASSIST_LLM_BACKEND": "rules",
        "SHOPASSIST_EMBEDDER": "use",
    }
    env.pop("SHOPASSIST_DATABASE_URL", None)
    cli = Path(sys.executable).parent / "shopassist"
    return subprocess.run(
        [str(cli), "chat", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_chat_answers_a_huge_budget_and_refuses_a_newline_user(served_var: Path) -> None:
    done = _chat(served_var, "--user", "cli-huge", "--json", HUGE)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["intent"]["max_price"] is None
    bad = _chat(served_var, "--user", "alice\n", "yoga mats")
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr.startswith("shopassist: error: user id 'alice\\n' must be 1-128 letters")
    assert len(bad.stderr.strip().splitlines()) == 1
