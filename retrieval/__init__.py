"""shopassist's `retrieval` package: standalone, it imports no project package (DESIGN.md)."""

from __future__ import annotations

__all__: list[str] = []
