"""shopassist's composition root: settings, domain, SQL store, catalog, deal engine, pipeline.

The public API grows here as the packages land; ``ui`` talks to nothing else.
"""

from __future__ import annotations

__all__: list[str] = []
