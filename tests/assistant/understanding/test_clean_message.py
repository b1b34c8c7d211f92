"""Cleaning a shopper message: the 2,000-character limit counts what the shopper wrote and
still holds after NFKC, which can lengthen a message (regression: "ﷺ" * 112 was refused as a
2,016-character message)."""

from __future__ import annotations

import pytest

from assistant.errors import ValidationError
from assistant.understanding import MAX_MESSAGE_CHARS, clean_message


@pytest.mark.parametrize(
    ("message", "cleaned"),
    [
        ("running shoes under ５０", "running shoes under 50"),
        ("ﷺ", "صلى الله عليه وسلم"),  # short enough: normalized in full
        ("㍻ 　 ｒｕｎｎｉｎｇ\x00 shoes", "平成 running shoes"),
        ("it\u2019s \u201cfine\u201d", 'it\'s "fine"'),
    ],
)
def test_messages_are_normalized(message: str, cleaned: str) -> None:
    assert clean_message(message) == cleaned


@pytest.mark.parametrize(
    "message",
    [
        "ﷺ" * 112,  # 2,016 characters once normalized
        "ﷺ" * 2000,
        "㍻" * 1990 + " under ５０",  # each 2 characters once normalized
        "x" * 1990 + " ﬀ ﬀ ﬀ ５",
    ],
    ids=["112-ligatures", "2000-ligatures", "era-names", "at-the-limit"],
)
def test_a_message_that_grows_past_the_limit_keeps_what_it_says(message: str) -> None:
    cleaned = clean_message(message)
    assert len(cleaned) <= MAX_MESSAGE_CHARS
    # Characters that normalize to one are still normalized; longer forms stay as written.
    assert "５" not in cleaned and "０" not in cleaned
    assert len(cleaned) == len(message)


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("x" * 2001, "message too long: 2001 characters, at most 2000"),
        ("ﷺ" * 2001, "message too long: 2001 characters, at most 2000"),
        (" \u200b\x00 ", "message is empty"),
    ],
    ids=["2001-letters", "2001-ligatures", "blank"],
)
def test_over_long_and_empty_messages_are_refused(message: str, error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        clean_message(message)
