"""Saving a benchmark's markdown report into ``docs/``."""

from __future__ import annotations

from pathlib import Path

START, END = "<!-- benchmark:start -->", "<!-- benchmark:end -->"


def save(path: Path, report: str) -> None:
    """Write the report; into a document that has the markers, only between them (the first
    line, the report's title, is dropped there and its sections move one level down)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if START in old and END in old:
        before, rest = old.split(START, 1)
        after = rest.split(END, 1)[1]
        body = report.split("\n", 1)[1].replace("\n## ", "\n### ").strip()
        path.write_text(f"{before}{START}\n{body}\n{END}{after}", encoding="utf-8")
    else:
        path.write_text(report, encoding="utf-8")
