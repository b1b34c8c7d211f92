"""The demo world: a seeded bilingual catalog, its promotional activities, and the build.

* :func:`generate_catalog` writes products (English and Chinese titles and descriptions, real
  brands, log-normal prices per leaf category) as catalog rows.
* :func:`generate_activities` writes activities of every type over those products, with
  recurring schedules in shop time anchored at the build.
* :func:`build_demo` generates both into ``var/demo``, imports them through
  :func:`assistant.catalog.import_file` and materializes occurrences, idempotently.
* :data:`CATEGORY_NAMES` names every category path in English and Chinese.

Example:
    >>> from assistant.world import CATEGORY_NAMES
    >>> CATEGORY_NAMES["shoes/running"]
    ('Running shoes', '跑鞋')
"""

from __future__ import annotations

from assistant.world.activities import generate_activities
from assistant.world.catalog import CATEGORY_NAMES, LEAF_CATEGORIES, generate_catalog
from assistant.world.demo import STEPS, DemoContext, DemoReport, DemoStep, build_demo

__all__ = [
    "CATEGORY_NAMES",
    "LEAF_CATEGORIES",
    "STEPS",
    "DemoContext",
    "DemoReport",
    "DemoStep",
    "build_demo",
    "generate_activities",
    "generate_catalog",
]
