"""The "Insights" tab: outcome rates by policy, exploration, coupon pacing and the latest OPE.

Staff sign in with the admin password (:mod:`ui.gradio_app._staff`). Every view is computed from
SQL when it is shown (:mod:`assistant.insights`): signing in or pressing **Refresh** runs the
queries again, so feedback recorded a moment ago (``POST /v1/feedback``) moves the rates at once.
The summary table gives, per policy version, the impressions and the click / claim / purchase
and exploration rates over everything logged; the plots show them per hour or day. Coupon spend
is plotted against each coupon's linear pacing plan. Every handler checks the sign-in first.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from anyio import to_thread

from assistant.insights import (
    CouponPacing,
    OutcomeRates,
    RateRow,
    coupon_pacing,
    latest_evaluation,
    outcome_rates,
)
from assistant.money import Currency
from ui.api._runtime import Runtime
from ui.gradio_app._staff import StaffRefused, StaffState, require_staff, sign_in

if TYPE_CHECKING:
    import gradio as gr
    import pandas as pd

    from assistant.store.models import PolicyEvaluationRecord

__all__ = ["InsightsTab", "insights_tab", "pacing_html", "summary_html"]

logger = logging.getLogger(__name__)

TEXT = {
    "tab": "Insights",
    "intro": "Shop staff: sign in with the shop's admin password. Everything below is computed "
    "from SQL when you sign in or press Refresh.",
    "name": "Your name",
    "password": "Password",
    "sign_in": "Sign in",
    "signed_in": "Signed in as **{name}**.",
    "refresh": "Refresh",
    "summary": "Rates by policy (all time)",
    "no_impressions": "No impressions logged yet.",
    "rates": "Click / claim / purchase rate by policy, per {bucket}",
    "exploration": "Exploration rate (share of shown positions with propensity < 1), per {bucket}",
    "pacing": "Coupon spend against pacing",
    "no_coupons": "No coupon with a budget yet.",
    "spend_plot": "Cumulative spend (minor units) against the linear plan",
    "ope": "Latest off-policy evaluation",
    "no_ope": "No off-policy evaluation yet.",
    "updated": "Updated at {at} (UTC).",
}
HEADERS = ("Policy", "Impressions", "Click rate", "Claim rate", "Purchase rate", "Exploration")
PACING_HEADERS = ("Activity", "Title", "Budget", "Spent", "Plan now", "Pace", "Claims", "Window")
N_VIEWS = 7
"""Outputs of :meth:`InsightsTab.views`."""
PLOTTED_COUPONS = 3
"""Spend curves plotted (the largest spenders); the table lists more."""

Outputs = list[Any]


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def summary_html(totals: Sequence[RateRow]) -> str:
    """The per-policy table; each row carries ``data-policy`` and each rate cell a class."""
    if not totals:
        return f"<p class='sa-insights-empty'>{_e(TEXT['no_impressions'])}</p>"
    head = "".join(f"<th>{_e(h)}</th>" for h in HEADERS)
    rows = []
    for t in totals:
        cells = [
            f"<td class='sa-policy'>{_e(t.policy_version)}</td>",
            f"<td class='sa-impressions'>{t.impressions}</td>",
            f"<td class='sa-click-rate'>{_pct(t.click_rate)}</td>",
            f"<td class='sa-claim-rate'>{_pct(t.claim_rate)}</td>",
            f"<td class='sa-purchase-rate'>{_pct(t.purchase_rate)}</td>",
            f"<td class='sa-exploration-rate'>{_pct(t.exploration_rate)}</td>",
        ]
        rows.append(f"<tr data-policy='{_e(t.policy_version)}'>{''.join(cells)}</tr>")
    return f"<table class='sa-insights-table'><tr>{head}</tr>{''.join(rows)}</table>"


def pacing_html(pacing: Sequence[CouponPacing], currency: Currency) -> str:
    """The coupon pacing table: budget, spend, the plan now and the pace."""
    if not pacing:
        return f"<p class='sa-insights-empty'>{_e(TEXT['no_coupons'])}</p>"
    head = "".join(f"<th>{_e(h)}</th>" for h in PACING_HEADERS)
    rows = []
    for p in pacing:
        plan = "—" if p.planned_now is None else currency.format(p.planned_now)
        pace = "—" if p.pace is None else f"{p.pace:.2f}×"
        end = "open-ended" if p.ends_at is None else f"{p.ends_at:%Y-%m-%d %H:%M}"
        cells = [
            p.activity_id,
            p.title,
            currency.format(p.budget),
            currency.format(p.spent),
            plan,
            pace,
            p.claims,
            f"{p.starts_at:%Y-%m-%d %H:%M} → {end}",
        ]
        rows.append(
            f"<tr data-activity='{_e(p.activity_id)}'>"
            + "".join(f"<td>{_e(c)}</td>" for c in cells)
            + "</tr>"
        )
    return f"<table class='sa-insights-table'><tr>{head}</tr>{''.join(rows)}</table>"


def _naive(moment: datetime) -> datetime:
    """Plots take naive UTC times (the axis is labelled UTC)."""
    return moment.replace(tzinfo=None)


def rates_frame(rates: OutcomeRates) -> pd.DataFrame:
    """Long format for ``gr.LinePlot``: time, rate, series (``policy · metric``)."""
    import pandas as pd

    rows = []
    for r in rates.rows:
        assert r.bucket is not None
        for metric, value in (
            ("click", r.click_rate),
            ("claim", r.claim_rate),
            ("purchase", r.purchase_rate),
        ):
            rows.append((_naive(r.bucket), value, f"{r.policy_version} · {metric}"))
    return pd.DataFrame(rows, columns=["time", "rate", "series"])


def exploration_frame(rates: OutcomeRates) -> pd.DataFrame:
    """Long format for ``gr.LinePlot``: time, exploration rate, policy."""
    import pandas as pd

    rows = [
        (_naive(r.bucket), r.exploration_rate, r.policy_version)
        for r in rates.rows
        if r.bucket is not None
    ]
    return pd.DataFrame(rows, columns=["time", "exploration", "policy"])


def spend_frame(pacing: Sequence[CouponPacing]) -> pd.DataFrame:
    """Long format for ``gr.LinePlot``: time, amount (minor units), series (spent / plan)."""
    import pandas as pd

    rows: list[tuple[datetime, int, str]] = []
    for p in pacing[:PLOTTED_COUPONS]:
        for point in p.points:
            rows.append((_naive(point.at), point.spent, f"{p.activity_id} spent"))
            if point.planned is not None:
                rows.append((_naive(point.at), point.planned, f"{p.activity_id} plan"))
    return pd.DataFrame(rows, columns=["time", "amount", "series"])


def evaluation_markdown(evaluation: PolicyEvaluationRecord | None) -> str:
    """The OPE section: the candidate, the estimates with intervals, the gate and its verdict."""
    if evaluation is None:
        return TEXT["no_ope"]
    report = evaluation.report
    gate = report.get("gate", {})
    verdict = "promoted" if evaluation.promoted else "not promoted"
    lines = [
        f"**{_e(evaluation.candidate_version)}** vs serving "
        f"**{_e(evaluation.serving_version)}**, {evaluation.n_decisions} logged decisions, "
        f"reward {_e(evaluation.reward)} per position, {evaluation.created_at:%Y-%m-%d %H:%M} "
        f"UTC: {verdict}",
        "",
        "| estimator | value | 95% interval |",
        "| --- | ---: | --- |",
        f"| logged (what served) | {float(report.get('logged', 0.0)):.4f} | |",
    ]
    for e in report.get("estimates", []):
        lines.append(
            f"| {_e(str(e['name']))} | {float(e['value']):.4f} | "
            f"[{float(e['low']):.4f}, {float(e['high']):.4f}] |"
        )
    if gate:
        lines.append(
            f"| gate: candidate - serving | {float(gate['difference']):+.4f} | "
            f"[{float(gate['low']):+.4f}, {float(gate['high']):+.4f}] |"
        )
    return "\n".join(lines)


class InsightsTab:
    """The Insights tab's handlers (each returns the list of its outputs' updates).

    Args:
        runtime: Returns the server's runtime (it exists once the app has started).
    """

    def __init__(self, runtime: Callable[[], Runtime]) -> None:
        self._runtime = runtime

    @property
    def runtime(self) -> Runtime:
        """The server's runtime."""
        return self._runtime()

    def views(self) -> Outputs:
        """Every view, from SQL now: (summary, rates plot, exploration plot, pacing table,
        spend plot, OPE text, updated line)."""
        import gradio as gr

        runtime = self.runtime
        shop = runtime.shop
        now = runtime.clock()
        with shop.sessions() as session:
            rates = outcome_rates(session)
            pacing = coupon_pacing(session, now)
            evaluation = latest_evaluation(session)
        bucket = rates.bucket
        return [
            summary_html(rates.totals()),
            gr.update(value=rates_frame(rates), title=TEXT["rates"].format(bucket=bucket)),
            gr.update(
                value=exploration_frame(rates), title=TEXT["exploration"].format(bucket=bucket)
            ),
            pacing_html(pacing, shop.currency),
            spend_frame(pacing),
            evaluation_markdown(evaluation),
            TEXT["updated"].format(at=f"{now:%Y-%m-%d %H:%M:%S}"),
        ]

    async def sign_in(self, name: str, password: str) -> Outputs:
        """(staff state, status, sign-in row, main column, *views)."""
        import gradio as gr

        try:
            staff = sign_in(self._runtime, name, password)
        except StaffRefused as exc:
            return [StaffState(), f"⚠️ {exc}", *[gr.skip()] * (2 + N_VIEWS)]
        views = await to_thread.run_sync(self.views)
        return [
            staff,
            TEXT["signed_in"].format(name=_e(staff.name)),
            gr.update(visible=False),
            gr.update(visible=True),
            *views,
        ]

    async def refresh(self, staff: StaffState | None) -> Outputs:
        """(status, *views); refused without a sign-in."""
        import gradio as gr

        try:
            require_staff(staff)
        except StaffRefused as exc:
            return [f"⚠️ {exc}", *[gr.skip()] * N_VIEWS]
        views = await to_thread.run_sync(self.views)
        return [gr.skip(), *views]


def insights_tab(blocks: gr.Blocks, runtime: Callable[[], Runtime]) -> None:
    """The Insights tab and its events; call inside ``blocks``.

    Args:
        blocks: The app's Blocks (open).
        runtime: Returns the server's runtime.
    """
    import gradio as gr

    del blocks  # the tab needs no app-wide events
    tab = InsightsTab(runtime)
    staff = gr.State(StaffState())
    with gr.Tab(TEXT["tab"], id="insights"):
        gr.Markdown(TEXT["intro"])
        with gr.Row(elem_id="sa-insights-login") as login:
            name = gr.Textbox(label=TEXT["name"], max_length=64, elem_id="sa-insights-name")
            password = gr.Textbox(
                label=TEXT["password"], type="password", elem_id="sa-insights-password"
            )
            signin = gr.Button(TEXT["sign_in"], variant="primary", elem_id="sa-insights-signin")
        status = gr.Markdown("", elem_id="sa-insights-status")
        with gr.Column(visible=False, elem_id="sa-insights-main") as main:
            with gr.Row():
                updated = gr.Markdown("", elem_id="sa-insights-updated")
                refresh = gr.Button(
                    TEXT["refresh"], size="sm", scale=0, elem_id="sa-insights-refresh"
                )
            gr.Markdown(f"### {TEXT['summary']}")
            summary = gr.HTML("", elem_id="sa-insights-summary")
            with gr.Row():
                rates = gr.LinePlot(
                    x="time",
                    y="rate",
                    color="series",
                    x_title="time (UTC)",
                    y_lim=[0, 1],
                    height=280,
                    elem_id="sa-insights-rates",
                )
                exploration = gr.LinePlot(
                    x="time",
                    y="exploration",
                    color="policy",
                    x_title="time (UTC)",
                    y_lim=[0, 1],
                    height=280,
                    elem_id="sa-insights-exploration",
                )
            gr.Markdown(f"### {TEXT['pacing']}")
            pacing = gr.HTML("", elem_id="sa-insights-pacing")
            spend = gr.LinePlot(
                x="time",
                y="amount",
                color="series",
                title=TEXT["spend_plot"],
                x_title="time (UTC)",
                height=280,
                elem_id="sa-insights-spend",
            )
            gr.Markdown(f"### {TEXT['ope']}")
            ope = gr.Markdown(TEXT["no_ope"], elem_id="sa-insights-ope")

    views = [summary, rates, exploration, pacing, spend, ope, updated]
    options: dict[str, Any] = {"concurrency_limit": None, "show_progress": "hidden"}
    for trigger in (signin.click, password.submit):
        trigger(tab.sign_in, [name, password], [staff, status, login, main, *views], **options)
    refresh.click(tab.refresh, [staff], [status, *views], **options)
