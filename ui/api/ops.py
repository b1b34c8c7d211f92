"""Operations and the widget: ``/healthz``, ``/readyz``, ``/metrics``, ``/widget.js``."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from typing import Any

from anyio import to_thread
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from ui.api._deps import RuntimeDep
from ui.api._errors import error_body
from ui.api._metrics import CONTENT_TYPE_LATEST

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz(runtime: RuntimeDep) -> dict[str, Any]:
    """Liveness and the state of each part: ``sql`` (``ok``/``error``), ``index`` (``ok``/
    ``loading``/``error``, with ``index_error`` saying why and what repairs it), ``llm``
    (``ok``/``degraded``: rules instead of the LLM)."""
    sql = await to_thread.run_sync(runtime.sql_status)
    index, index_error = await to_thread.run_sync(runtime.index_status)
    body: dict[str, Any] = {
        "status": "ok",
        "sql": sql,
        "index": index,
        "llm": runtime.llm_status(),
        "llm_backend": str(runtime.shop.settings.llm_backend.value),
        "env": str(runtime.shop.settings.env.value),
    }
    if index_error is not None:
        body["index_error"] = index_error
    return body


@router.get("/readyz", responses={503: {"description": "loading, or loading failed"}})
async def readyz(runtime: RuntimeDep) -> Any:
    """200 once the data, the index and the embedder are loaded; 503 until then.

    A reload that fails later (the index on disk deleted or damaged) leaves this worker ready:
    it answers turns from the index it loaded, and every worker sharing that index would fail
    alike, so a 503 would take them all out of the load balancer at once. ``/healthz`` reports
    the broken index (``index: "error"`` and ``index_error``) for alerting instead.
    """
    if not runtime.ready:
        error = runtime.not_ready()
        return JSONResponse(
            error_body(error.code, error.message), status_code=503, headers=error.headers
        )
    return {"status": "ready"}


@router.get("/metrics", response_class=Response)
async def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus metrics: requests, turns by action, per-stage turn latency, errors."""
    runtime.llm_status()  # refreshes the degraded gauge
    return Response(runtime.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@lru_cache(maxsize=1)
def _widget() -> bytes:
    return files("ui").joinpath("static/widget.js").read_bytes()


@router.get("/widget.js", response_class=Response)
async def widget() -> Response:
    """The chat widget: ``<script src="http://HOST/widget.js" data-token-url="/token">``."""
    return Response(
        _widget(),
        media_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )
