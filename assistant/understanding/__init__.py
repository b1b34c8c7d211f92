"""Understanding a shopper message: the intent schema and the rules extractor."""

from __future__ import annotations

from assistant.understanding._text import MAX_MESSAGE_CHARS, clean_message
from assistant.understanding._vocabulary import (
    DEFAULT_CATEGORY_THRESHOLD,
    TextEmbedder,
    Vocabulary,
    demo_vocabulary,
)
from assistant.understanding.intent import (
    SLOTS,
    Extraction,
    IntentType,
    Language,
    ShopperIntent,
    Sort,
)
from assistant.understanding.rules import FIND_TYPES, extract

__all__ = [
    "DEFAULT_CATEGORY_THRESHOLD",
    "FIND_TYPES",
    "MAX_MESSAGE_CHARS",
    "SLOTS",
    "Extraction",
    "IntentType",
    "Language",
    "ShopperIntent",
    "Sort",
    "TextEmbedder",
    "Vocabulary",
    "clean_message",
    "demo_vocabulary",
    "extract",
]
