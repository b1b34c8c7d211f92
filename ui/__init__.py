"""Every face of shopassist: the CLI, the JSON API, the Gradio app and the site widget."""

from __future__ import annotations

__all__: list[str] = []
