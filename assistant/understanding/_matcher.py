"""Find dictionary phrases in text: longest match first, whole words for Latin, spelling slack.

One compiled alternation per dictionary: aliases sorted longest first, so at any position the
longest alias wins ("running shoes" before "shoes", "剃须刀" before "刀"). Latin aliases need
word boundaries on their Latin ends ("phone" does not match in "iphone"); Chinese ones match
anywhere. :class:`Speller` fixes one-letter typos ("runing") against the dictionaries' words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["Match", "PhraseMatcher", "Speller", "trie_regex", "variants"]

_WORD = re.compile(r"[a-z]+")
# Frequent English words the speller must leave alone (one edit away from a dictionary word).
_COMMON = frozenset(
    [
        "shows",
        "share",
        "shares",
        "should",
        "shower",
        "second",
        "seconds",
        "thanks",
        "thank",
        "things",
        "thing",
        "where",
        "there",
        "these",
        "those",
        "their",
        "other",
        "others",
        "about",
        "around",
        "should",
        "would",
        "could",
        "please",
        "pretty",
        "really",
        "better",
        "bigger",
        "looking",
        "wanted",
        "wants",
        "budget",
        "under",
        "below",
        "above",
        "prices",
        "priced",
        "little",
        "sheet",
        "sheer",
        "sooner",
        "stores",
        "string",
        "strong",
        "spring",
        "sprint",
        "runner",
        "runners",
        "running",
        "wedding",
        "weddings",
        "holiday",
        "holidays",
        "father",
        "mother",
        "sister",
        "brother",
        "friend",
        "friends",
        "daughter",
        "parents",
        "birthday",
        "present",
        "presents",
        "flashy",
        "flashes",
        "member",
        "members",
        "coupon",
        "coupons",
    ]
)


@dataclass(frozen=True, slots=True)
class Match:
    """One dictionary hit: the entry's key, where it is, and the alias that matched."""

    key: str
    start: int
    end: int
    alias: str


def _fold(text: str) -> str:
    """Lower case without accents ("Estée" -> "estee")."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def variants(alias: str, *, plurals: bool = True) -> set[str]:
    """Spellings of one alias: lower case, accent-free, hyphen/space/apostrophe forms, plurals."""
    base = {alias.lower().strip(), _fold(alias).strip()}
    out: set[str] = set()
    for a in base:
        forms = {a, a.replace("-", " "), a.replace("-", ""), a.replace("'", "")}
        forms |= {f.replace("  ", " ") for f in forms}
        out |= forms
    if plurals:
        for form in list(out):
            if form and form[-1].isascii() and form[-1].isalpha():
                if form.endswith(("s", "x", "ch", "sh")):
                    out.add(form + "es")
                elif form.endswith("y") and form[-2:-1] not in ("a", "e", "o", "u"):
                    out.add(form[:-1] + "ies")
                elif form.endswith("fe"):
                    out.add(form[:-2] + "ves")
                else:
                    out.add(form + "s")
    return {f for f in out if f}


def _atom(char: str) -> str:
    return r"[ \-]?" if char == " " else re.escape(char)


def _render(node: dict[str, dict], last: str) -> str:  # type: ignore[type-arg]
    """A regex for a trie node: children first, the end of a word last (so longest wins)."""
    branches = [_atom(char) + _render(child, char) for char, child in sorted(node.items()) if char]
    if "" in node:
        # A Latin alias must end at a word boundary ("phone" is not in "phoneme").
        branches.append(r"(?![a-z0-9])" if last.isascii() and last.isalnum() else "")
    if len(branches) == 1:
        return branches[0]
    return "(?:" + "|".join(branches) + ")"


def trie_regex(aliases: Iterable[str]) -> str:
    """One regex for many aliases, shaped as a trie so matching is linear in the text.

    Latin aliases need a word boundary before them ("phone" is not in "iphone"); a space in an
    alias also matches a hyphen or nothing ("t shirt", "t-shirt", "tshirt").
    """
    trie: dict[str, dict] = {}  # type: ignore[type-arg]
    for alias in aliases:
        node = trie
        for char in alias:
            node = node.setdefault(char, {})
        node[""] = {}
    latin = {c: n for c, n in trie.items() if c.isascii() and c.isalnum()}
    other = {c: n for c, n in trie.items() if c not in latin}
    parts = []
    if latin:
        parts.append(r"(?<![a-z0-9])" + _render(latin, ""))
    if other:
        parts.append(_render(other, ""))
    return "|".join(parts)


class PhraseMatcher:
    """Finds the aliases of many keys in lower-case text, longest first, no overlaps.

    Args:
        aliases: key -> its aliases (already expanded with :func:`variants`).
    """

    def __init__(self, aliases: Mapping[str, Iterable[str]]) -> None:
        self._key: dict[str, str] = {}
        for key, names in aliases.items():
            for name in names:
                self._key.setdefault(name, key)
        self._regex = re.compile(trie_regex(self._key)) if self._key else None
        self._loose = {re.sub(r"[ \-]", "", a): k for a, k in self._key.items()}

    @property
    def aliases(self) -> dict[str, str]:
        """Every alias and its key."""
        return dict(self._key)

    def find(self, text: str) -> list[Match]:
        """Every non-overlapping hit in ``text`` (lower case), in order."""
        if self._regex is None:
            return []
        out = []
        for m in self._regex.finditer(text):
            found = m.group(0)
            key = self._key.get(found) or self._loose.get(re.sub(r"[ \-]", "", found))
            if key is not None:
                out.append(Match(key, m.start(), m.end(), found))
        return out


class Speller:
    """Fixes one-edit typos of dictionary words (Latin words of 6+ letters only).

    A symmetric-delete index (SymSpell's idea, Garbe 2012): every word and each of its
    one-letter deletions point to the word, so a typo is found with a handful of lookups.
    """

    def __init__(self, words: Iterable[str], *, min_length: int = 6) -> None:
        self.min_length = min_length
        self._known = {w for w in words if w.isascii()}
        self._index: dict[str, str | None] = {}
        for word in sorted(self._known):
            if len(word) < min_length - 1:
                continue
            for key in {word, *self._deletes(word)}:
                previous = self._index.get(key, word)
                self._index[key] = word if previous == word else None  # None: ambiguous

    @staticmethod
    def _deletes(word: str) -> set[str]:
        return {word[:i] + word[i + 1 :] for i in range(len(word))}

    def correct_word(self, word: str) -> str:
        """The dictionary word one edit from ``word``, or ``word`` itself."""
        if len(word) < self.min_length or word in self._known or word in _COMMON:
            return word
        for key in (word, *sorted(self._deletes(word))):
            found = self._index.get(key)
            if found is not None and found != word:
                return found
        return word

    def correct(self, text: str) -> str:
        """``text`` with each unknown Latin word replaced by its correction."""
        return _WORD.sub(lambda m: self.correct_word(m.group(0)), text)
