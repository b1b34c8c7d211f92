"""The catalog: validated product and activity rows, import and export (JSONL and CSV).

Example:
    >>> from assistant.catalog import import_file, export_file  # doctest: +SKIP
    >>> import_file(engine, "examples/catalog/products.jsonl", settings)  # doctest: +SKIP
"""

from __future__ import annotations

from assistant.catalog.exporter import activity_rows, export_file, product_rows
from assistant.catalog.files import (
    COLUMNS,
    NESTED_COLUMNS,
    Format,
    detect_format,
    detect_kind,
    read_rows,
    write_rows,
)
from assistant.catalog.importer import ImportReport, KindCounts, import_file, validate_file
from assistant.catalog.schemas import ActivityRow, Kind, ProductRow, ScheduleSpec, ScopeSpec
from assistant.store.activities import remove_activities
from assistant.store.products import remove_products

__all__ = [
    "COLUMNS",
    "NESTED_COLUMNS",
    "ActivityRow",
    "Format",
    "ImportReport",
    "Kind",
    "KindCounts",
    "ProductRow",
    "ScheduleSpec",
    "ScopeSpec",
    "activity_rows",
    "detect_format",
    "detect_kind",
    "export_file",
    "import_file",
    "product_rows",
    "read_rows",
    "remove_activities",
    "remove_products",
    "validate_file",
    "write_rows",
]
