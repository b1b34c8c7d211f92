"""Prometheus metrics of one app (its own registry, so several apps can live in one process)."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

_STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """Request counts and latencies, turns by action, per-stage turn latency, errors."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "shopassist_http_requests",
            "HTTP requests by route template and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "shopassist_http_request_seconds",
            "HTTP request latency by route template",
            ["route"],
            registry=r,
        )
        self.turns = Counter(
            "shopassist_turns",
            "Turns answered, by endpoint and action",
            ["endpoint", "action"],
            registry=r,
        )
        self.stage_seconds = Histogram(
            "shopassist_turn_stage_seconds",
            "Time spent in each stage of a turn (understand, retrieve, price, rank, reply...)",
            ["stage"],
            buckets=_STAGE_BUCKETS,
            registry=r,
        )
        self.errors = Counter("shopassist_errors", "Error responses by code", ["code"], registry=r)
        self.ready = Gauge(
            "shopassist_ready", "1 once data, index and embedder are loaded", registry=r
        )
        self.llm_degraded = Gauge(
            "shopassist_llm_degraded", "1 while turns fall back to rules", registry=r
        )

    def observe_turn(self, endpoint: str, action: str, timings_ms: Mapping[str, float]) -> None:
        """Count one turn and record its stage latencies."""
        self.turns.labels(endpoint, action).inc()
        for stage, ms in timings_ms.items():
            self.stage_seconds.labels(stage).observe(ms / 1000)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
