"""Saving a benchmark's markdown report into ``docs/``."""

from __future__ import annotations

from pathlib import Path


def save(path: Path, report: str, *, section: str = "benchmark") -> None:
    """Write the report; into a document that has the section's markers
    (``<!-- {section}:start -->`` ... ``<!-- {section}:end -->``), only between them (the
    report's first line, its title, is dropped there and its sections move one level down)."""
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if start in old and end in old:
        before, rest = old.split(start, 1)
        after = rest.split(end, 1)[1]
        body = report.split("\n", 1)[1].replace("\n## ", "\n### ").strip()
        path.write_text(f"{before}{start}\n{body}\n{end}{after}", encoding="utf-8")
    else:
        path.write_text(report, encoding="utf-8")
