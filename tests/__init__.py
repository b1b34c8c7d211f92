"""shopassist tests (a package, so the repo root is importable and tests/assistant shadows
nothing)."""
