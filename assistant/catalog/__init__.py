"""The catalog: validated product and activity rows, import and export (JSONL and CSV)."""

from __future__ import annotations

from assistant.catalog.schemas import ActivityRow, ProductRow, ScheduleSpec, ScopeSpec

__all__ = ["ActivityRow", "ProductRow", "ScheduleSpec", "ScopeSpec"]
