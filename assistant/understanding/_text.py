"""Text helpers of the rules extractor: cleaning, language detection, Chinese numerals."""

from __future__ import annotations

import re
import unicodedata

from assistant.errors import ValidationError

__all__ = [
    "MAX_MESSAGE_CHARS",
    "arabic_numerals",
    "clean_message",
    "detect_language",
    "is_cjk",
]

MAX_MESSAGE_CHARS = 2000
"""The longest message the extractor accepts (DESIGN.md: longer is 422 ``message_too_long``)."""

# Controls, zero-width characters, bidi embeddings / overrides / isolates (U+2066-2069 too: an
# isolate hides text as well as an override does), the Arabic letter mark and the BOM.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e"
    r"\u2060-\u206f\ufeff\ufff9-\ufffb]"
)
_SPACES = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[a-zA-Z]+")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_DIGITS.update({"六": 6, "七": 7, "八": 8, "九": 9})
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
# A run of Chinese numerals; converted only when it has a digit and a unit (两百, 一百五, 三十),
# or starts with 十 (十五), so words like 一点, 一口, 三只松鼠, 千万 stay words.
_ZH_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百千万]+")
_ZH_RANGE = re.compile(r"([一二两三四五六七八九])([二两三四五六七八九])([十百千万])")
_SCALED = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(k|千|w|万)(?![a-z])", re.IGNORECASE)


def clean_message(message: str) -> str:
    """The message without control characters, NFKC-normalized, whitespace collapsed.

    NFKC maps full-width digits, letters and punctuation (``５０``, ``，``) to their ASCII forms.
    The 2,000-character limit counts the message as written (DESIGN.md: only a longer one is
    422 ``message_too_long``), and the cleaned text stays within it too: when NFKC would lengthen
    a message past the limit (one ``ﷺ`` becomes 18 characters, ``㍻`` 2), only the characters
    that normalize to a single character are normalized and the rest are kept as written, so
    nothing the shopper wrote is dropped.

    Raises:
        ValidationError: not a string, empty or blank, or longer than 2,000 characters.
    """
    if not isinstance(message, str):
        raise ValidationError(f"message must be a string, got {type(message).__name__}")
    text = _SPACES.sub(" ", _CONTROL.sub(" ", message)).strip()
    if not text:
        raise ValidationError("message is empty; say what you are looking for")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ValidationError(
            f"message too long: {len(text)} characters, at most {MAX_MESSAGE_CHARS}"
        )
    folded = unicodedata.normalize("NFKC", text)
    if len(folded) > MAX_MESSAGE_CHARS:
        folded = "".join(_fold(char) for char in text)  # no longer than text
    return _SPACES.sub(" ", folded.translate(_QUOTES)).strip()


def _fold(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char)
    return folded if len(folded) == 1 else char


def is_cjk(char: str) -> bool:
    """Whether ``char`` is a CJK ideograph."""
    return bool(_CJK.match(char))


def detect_language(text: str) -> str:
    """``"zh"`` when the message has more Chinese characters than Latin words, else ``"en"``.

    Counting ideographs against whole Latin words makes mixed messages follow their grammar:
    ``"有没有Nike跑鞋"`` is Chinese, ``"any 跑鞋 under 100?"`` is English.
    """
    cjk = len(_CJK.findall(text))
    if cjk == 0:
        return "en"
    return "zh" if cjk > len(_LATIN_WORD.findall(text)) else "en"


def _zh_value(run: str) -> int | None:
    """The value of a Chinese numeral run (``两百`` 200, ``一百五`` 150, ``十五`` 15)."""
    total = 0
    section = 0  # the part below 万
    digit: int | None = None
    last_unit = 0
    for char in run:
        if char in _DIGITS:
            if digit is not None:
                return None  # two digits in a row: not a plain number
            digit = _DIGITS[char]
        elif char == "万":
            section += digit or 0
            total += (section or 1) * 10000
            section, digit, last_unit = 0, None, 10000
        else:
            unit = _UNITS[char]
            if last_unit and unit >= last_unit and last_unit != 10000:
                return None
            section += (1 if digit is None else digit) * unit
            digit, last_unit = None, unit
    if digit is not None:
        # 一百五 is 150 and 两千五 2500: a trailing digit counts in the next unit down.
        section += digit * (last_unit // 10 if last_unit >= 100 else 1)
    return total + section


def arabic_numerals(text: str) -> str:
    """``text`` with Chinese numerals and scaled amounts written in Arabic digits.

    ``两百`` -> ``200``, ``一百五`` -> ``150``, ``三千`` -> ``3000``, ``二三十`` -> ``20-30``,
    ``1.5k`` -> ``1500``, ``2万`` -> ``20000``. Runs without a unit (``一点``, ``三只``) stay.
    """

    def zh(match: re.Match[str]) -> str:
        run = match.group(0)
        has_unit = any(c in _UNITS for c in run)
        has_digit = any(c in _DIGITS for c in run)
        if not has_unit or not (has_digit or run[0] == "十"):
            return run
        pair = _ZH_RANGE.fullmatch(run)
        if pair is not None:
            unit = _UNITS[pair.group(3)]
            low, high = _DIGITS[pair.group(1)], _DIGITS[pair.group(2)]
            if high == low + 1:
                return f"{low * unit}-{high * unit}"
        value = _zh_value(run)
        return run if value is None else str(value)

    def scaled(match: re.Match[str]) -> str:
        number, unit = match.group(1), match.group(2).lower()
        factor = 1000 if unit in ("k", "千") else 10000
        whole, _, frac = number.partition(".")
        value = int(whole) * factor + (int(frac) * factor // 10 ** len(frac) if frac else 0)
        return str(value)

    return _SCALED.sub(scaled, _ZH_NUMBER.sub(zh, text))
