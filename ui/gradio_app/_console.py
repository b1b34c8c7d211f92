"""The "Agent console" tab: customer-service agents take over handed-off sessions.

An agent signs in with the admin password (:mod:`ui.gradio_app._staff`), sees the queue of
handed-off sessions (refreshed by a button and a ``gr.Timer``), picks one and reads its history:
every message and, under each slate, the shown items with their ranker score and rank among the
candidates, the policy's propensity, the activity revision shown and the why-line. **Take over**
mutes the assistant for that session, **Suggest reply** fills the editable draft with a reply
written by the grounded reply path from the session's own items, **Send** writes the (edited)
draft to the shopper, **Hand back** returns the session to the assistant. Every handler checks
the sign-in first, so a crafted request to Gradio's queue is refused too.

Everything runs through :mod:`assistant.agents`; nothing here touches SQL.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from anyio import to_thread

from assistant.agents import (
    MAX_AGENT_MESSAGE_CHARS,
    QueueEntry,
    SessionView,
    Suggestion,
    agent_queue,
    hand_back,
    send_agent_message,
    session_history,
    suggest_reply,
    take_over,
)
from assistant.errors import ShopAssistError
from assistant.money import Currency
from assistant.schedule import utc_text
from ui.api._errors import ApiError
from ui.api._runtime import Runtime
from ui.gradio_app._shopper import follow_agents
from ui.gradio_app._staff import StaffRefused, StaffState, require_staff, sign_in

if TYPE_CHECKING:
    import gradio as gr

__all__ = ["QUEUE_POLL_S", "ConsoleTab", "console_tab"]

logger = logging.getLogger(__name__)

QUEUE_POLL_S = 4.0
"""How often a signed-in console refreshes the queue and the open session."""

TEXT = {
    "tab": "Agent console",
    "intro": "Customer-service agents: sign in with the shop's admin password.",
    "name": "Your name",
    "password": "Password",
    "sign_in": "Sign in",
    "signed_in": "Signed in as **{name}**.",
    "queue": "Handed-off sessions",
    "refresh": "Refresh",
    "pick": "Session",
    "empty_queue": "No session is waiting for an agent.",
    "history": "History",
    "take": "Take over",
    "suggest": "Suggest reply",
    "draft": "Reply to the shopper",
    "draft_hint": "Write here, or press Suggest reply and edit the draft.",
    "send": "Send",
    "hand_back": "Hand back",
    "facts": "What the draft rests on",
    "pick_first": "Pick a session from the queue first.",
    "took": "You own this session now: the assistant stays quiet until you hand it back.",
    "already": "An agent already owns this session.",
    "suggested": "Draft written by the {source} path from this session's items; edit it, then "
    "send.",
    "sent": "Sent to the shopper.",
    "handed_back": "Handed back to the assistant.",
    "no_session": "Pick a session to see its history.",
}
_ROLES = {"shopper": "Shopper", "assistant": "Assistant", "agent": "Agent"}
CSS = """
.sa-console-turn{border-left:3px solid #d0d7de;padding:4px 10px;margin:8px 0}
.sa-console-msg{margin:4px 0;white-space:pre-wrap}
.sa-console-role{display:inline-block;min-width:72px;font-weight:600;font-size:12px}
.sa-console-shopper .sa-console-role{color:#0969da}
.sa-console-assistant .sa-console-role{color:#57606a}
.sa-console-agent .sa-console-role{color:#1a7f37}
.sa-console-decision{font-size:12px;color:#57606a;margin:6px 0}
.sa-console-items,.sa-console-queue-table{border-collapse:collapse;font-size:12px;width:100%}
.sa-console-items th,.sa-console-items td,.sa-console-queue-table th,.sa-console-queue-table td{
  text-align:left;padding:3px 6px;border-bottom:1px solid #d0d7de;vertical-align:top}
.sa-console-owned{color:#1a7f37;font-weight:600}
.sa-console-waiting{color:#bc4c00;font-weight:600}
"""

Outputs = list[Any]


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _time(moment: datetime | None) -> str:
    return utc_text(moment) if moment is not None else "—"


def queue_html(entries: Sequence[QueueEntry]) -> str:
    """The queue as an HTML table (user, last message, status, the shopper's last words)."""
    if not entries:
        return f"<p>{_e(TEXT['empty_queue'])}</p>"
    rows = []
    for entry in entries:
        status = (
            '<span class="sa-console-owned">agent active</span>'
            if entry.agent_active
            else '<span class="sa-console-waiting">waiting</span>'
        )
        rows.append(
            f'<tr data-session="{_e(entry.session_id)}"><td>{_e(entry.user_id)}</td>'
            f"<td>{_e(_time(entry.last_message_at))}</td><td>{status}</td>"
            f"<td>{entry.messages}</td><td>{_e(entry.last_shopper_message)}</td></tr>"
        )
    head = "<tr><th>User</th><th>Last message</th><th>Status</th><th>Msgs</th><th>Said</th></tr>"
    return f'<table class="sa-console-queue-table">{head}{"".join(rows)}</table>'


def queue_choices(entries: Sequence[QueueEntry]) -> list[tuple[str, str]]:
    """(label, session id) for the session picker."""
    out = []
    for entry in entries:
        mark = "agent active" if entry.agent_active else "waiting"
        said = entry.last_shopper_message[:40]
        out.append((f"{entry.user_id} · {mark} · “{said}”", entry.session_id))
    return out


def history_html(view: SessionView) -> str:
    """A session's messages, each slate under its turn with the decision's numbers per item."""
    owner = "agent active" if view.agent_active else ("waiting" if view.handoff else "assistant")
    parts = [
        f'<div class="sa-console-head" data-session="{_e(view.session_id)}">'
        f"<b>{_e(view.user_id)}</b> · session <code>{_e(view.session_id)}</code> · "
        f"{_e(owner)} · language {_e(view.language)}</div>"
    ]
    for turn in view.turns:
        parts.append('<div class="sa-console-turn">')
        for m in turn.messages:
            parts.append(
                f'<div class="sa-console-msg sa-console-{_e(m.role)}">'
                f'<span class="sa-console-role">{_e(_ROLES.get(m.role, m.role))}</span> '
                f"{_e(m.text)}</div>"
            )
        decision = turn.decision
        if decision is not None:
            top = ", ".join(f"{_e(c.id)} {c.score:.3f}" for c in decision.candidates[:5])
            slate = (
                f" · slate propensity {decision.slate_propensity:.4f}"
                if decision.slate_propensity is not None
                else ""
            )
            parts.append(
                f'<div class="sa-console-decision">decision <code>{_e(decision.decision_id)}'
                f"</code> · {decision.n_candidates} candidates · policy "
                f"{_e(decision.policy_version)} · ranker {_e(decision.ranker_version)} · params "
                f"{_e(decision.params_version)}{slate}<br>top by score: {top}</div>"
            )
            rows = []
            for item in decision.items:
                revisions = ", ".join(f"{_e(a)} r{r}" for a, r in item.activity_revisions.items())
                score = f"{item.score:.4f}" if item.score is not None else "—"
                rank = f"{item.rank}/{decision.n_candidates}" if item.rank is not None else "—"
                rows.append(
                    f'<tr class="sa-console-item" data-impression="{_e(item.impression_id)}">'
                    f"<td>{item.position + 1}</td>"
                    f"<td>{_e(item.title or item.item_id)}<br><code>{_e(item.item_id)}</code>"
                    f"</td><td>{_e(item.kind)}</td><td>{score}</td><td>{rank}</td>"
                    f"<td>{item.propensity:.4f}</td><td>{revisions or '—'}</td>"
                    f"<td>{_e(item.why)}</td><td>{_e(', '.join(item.feedback)) or '—'}</td></tr>"
                )
            head = (
                "<tr><th>#</th><th>Item</th><th>Kind</th><th>Score</th><th>Rank</th>"
                "<th>Propensity</th><th>Activity revision</th><th>Why</th><th>Feedback</th></tr>"
            )
            parts.append(f'<table class="sa-console-items">{head}{"".join(rows)}</table>')
        parts.append("</div>")
    return "".join(parts)


def facts_html(suggestion: Suggestion, currency: Currency) -> str:
    """The items a draft may name, with the prices and deals it may state."""
    facts = suggestion.facts
    if not facts.items:
        return "<p>Nothing was recommended in this session: the draft only asks a question.</p>"
    rows = []
    for item in facts.items:
        price = currency.format(item.price) if item.price is not None else "—"
        final = currency.format(item.final_price) if item.final_price is not None else "—"
        deals = ", ".join(f"{_e(d.title or d.activity_id)} r{d.revision}" for d in item.deals)
        rows.append(
            f"<tr><td><code>{_e(item.id)}</code></td><td>{_e(item.title)}</td>"
            f"<td>{price}</td><td>{final}</td><td>{deals or '—'}</td></tr>"
        )
    head = "<tr><th>Id</th><th>Title</th><th>Price</th><th>Final</th><th>Deals</th></tr>"
    guard = "passed" if not suggestion.violations else f"{len(suggestion.violations)} refused"
    return (
        f'<table class="sa-console-items">{head}{"".join(rows)}</table>'
        f"<p>Claims guard: {guard} · prices for now, {_e(utc_text(facts.now))}</p>"
    )


class ConsoleTab:
    """The Agent console's handlers (each returns the list of its outputs' updates).

    Args:
        runtime: Returns the server's runtime (it exists once the app has started).
    """

    def __init__(self, runtime: Callable[[], Runtime]) -> None:
        self._runtime = runtime

    @property
    def runtime(self) -> Runtime:
        """The server's runtime."""
        return self._runtime()

    @staticmethod
    def _refused(exc: Exception) -> str:
        return f"⚠️ {exc}"

    async def _queue(self) -> list[QueueEntry]:
        return await to_thread.run_sync(partial(agent_queue, self.runtime.shop))

    async def _history(self, session_id: str) -> str:
        view = await to_thread.run_sync(partial(session_history, self.runtime.shop, session_id))
        return history_html(view)

    def _queue_updates(self, entries: Sequence[QueueEntry], picked: str | None) -> Outputs:
        import gradio as gr

        choices = queue_choices(entries)
        keep = picked if picked in {value for _, value in choices} else None
        return [queue_html(entries), gr.update(choices=choices, value=keep)]

    @staticmethod
    def _picked(picked: str | None) -> str:
        if not picked:
            raise StaffRefused(TEXT["pick_first"])
        return picked

    # --- handlers -----------------------------------------------------------------------------

    async def sign_in(self, name: str, password: str) -> Outputs:
        """(staff state, status, sign-in row, console row, queue HTML, session picker, timer).

        The queue's Timer starts only once someone has signed in."""
        import gradio as gr

        try:
            staff = sign_in(self._runtime, name, password)
        except StaffRefused as exc:
            skip = gr.skip()
            return [StaffState(), self._refused(exc), skip, skip, skip, skip, skip]
        entries = await self._queue()
        return [
            staff,
            TEXT["signed_in"].format(name=_e(staff.name)),
            gr.update(visible=False),
            gr.update(visible=True),
            *self._queue_updates(entries, None),
            gr.Timer(active=True),
        ]

    async def refresh(self, staff: StaffState | None, picked: str | None) -> Outputs:
        """The button and the Timer: (queue HTML, session picker, history HTML)."""
        import gradio as gr

        try:
            require_staff(staff)
        except StaffRefused:
            return [gr.skip(), gr.skip(), gr.skip()]
        entries = await self._queue()
        history: Any = gr.skip()
        if picked:
            try:
                history = await self._history(picked)
            except ShopAssistError:
                history = f"<p>{_e(TEXT['no_session'])}</p>"
        return [*self._queue_updates(entries, picked), history]

    async def open(self, staff: StaffState | None, picked: str | None) -> Outputs:
        """Picking a session: (history HTML, status)."""
        import gradio as gr

        try:
            require_staff(staff)
            session_id = self._picked(picked)
            return [await self._history(session_id), ""]
        except (StaffRefused, ShopAssistError) as exc:
            return [gr.skip(), self._refused(exc)]

    async def take_over(self, staff: StaffState | None, picked: str | None) -> Outputs:
        """(status, history HTML, queue HTML, session picker)."""
        import gradio as gr

        try:
            require_staff(staff)
            session_id = self._picked(picked)
            took = await to_thread.run_sync(
                partial(take_over, self.runtime.shop, session_id, now=self.runtime.clock())
            )
        except (StaffRefused, ShopAssistError) as exc:
            return [self._refused(exc), gr.skip(), gr.skip(), gr.skip()]
        logger.info("an agent took over session %s (new: %s)", session_id, took)
        entries = await self._queue()
        return [
            TEXT["took"] if took else TEXT["already"],
            await self._history(session_id),
            *self._queue_updates(entries, session_id),
        ]

    async def suggest(self, staff: StaffState | None, picked: str | None) -> Outputs:
        """(draft textbox, facts HTML, status)."""
        import gradio as gr

        try:
            require_staff(staff)
            session_id = self._picked(picked)
            runtime = self.runtime
            assistant = await runtime.assistant()
            draft = await to_thread.run_sync(
                partial(suggest_reply, assistant, session_id, now=runtime.clock())
            )
        except (StaffRefused, ShopAssistError) as exc:
            return [gr.skip(), gr.skip(), self._refused(exc)]
        except ApiError as exc:  # 503 while the assistant is still loading
            return [gr.skip(), gr.skip(), self._refused(Exception(exc.message))]
        return [
            gr.update(value=draft.text),
            facts_html(draft, runtime.shop.currency),
            TEXT["suggested"].format(source=draft.source),
        ]

    async def send(self, staff: StaffState | None, picked: str | None, text: str) -> Outputs:
        """(status, draft textbox, history HTML)."""
        import gradio as gr

        try:
            require_staff(staff)
            session_id = self._picked(picked)
            await to_thread.run_sync(
                partial(
                    send_agent_message,
                    self.runtime.shop,
                    session_id,
                    text,
                    now=self.runtime.clock(),
                )
            )
        except (StaffRefused, ShopAssistError) as exc:
            return [self._refused(exc), gr.skip(), gr.skip()]
        return [TEXT["sent"], gr.update(value=""), await self._history(session_id)]

    async def hand_back(self, staff: StaffState | None, picked: str | None) -> Outputs:
        """(status, history HTML, queue HTML, session picker)."""
        import gradio as gr

        try:
            require_staff(staff)
            session_id = self._picked(picked)
            await to_thread.run_sync(
                partial(hand_back, self.runtime.shop, session_id, now=self.runtime.clock())
            )
        except (StaffRefused, ShopAssistError) as exc:
            return [self._refused(exc), gr.skip(), gr.skip(), gr.skip()]
        entries = await self._queue()
        return [
            TEXT["handed_back"],
            await self._history(session_id),
            *self._queue_updates(entries, None),
        ]


def console_tab(blocks: gr.Blocks, runtime: Callable[[], Runtime], *, dev: bool) -> None:
    """The Agent console tab and its events, plus the Shopper tab's agent-message poll
    (:func:`ui.gradio_app._shopper.follow_agents`); call inside ``blocks`` after the Shopper
    tab.

    Args:
        blocks: The app's Blocks (open).
        runtime: Returns the server's runtime.
        dev: Passed to the Shopper tab's poll (it acts only in dev, like that tab).
    """
    import gradio as gr

    tab = ConsoleTab(runtime)
    staff = gr.State(StaffState())
    with gr.Tab(TEXT["tab"], id="console"):
        gr.Markdown(TEXT["intro"])
        with gr.Row(elem_id="sa-console-login") as login:
            name = gr.Textbox(label=TEXT["name"], max_length=64, elem_id="sa-console-name")
            password = gr.Textbox(
                label=TEXT["password"], type="password", elem_id="sa-console-password"
            )
            signin = gr.Button(TEXT["sign_in"], variant="primary", elem_id="sa-console-signin")
        status = gr.Markdown("", elem_id="sa-console-status")
        with gr.Row(visible=False, equal_height=False, elem_id="sa-console-main") as main:
            with gr.Column(scale=4):
                gr.Markdown(f"### {TEXT['queue']}")
                queue = gr.HTML("", elem_id="sa-console-queue", css_template=CSS)
                refresh = gr.Button(TEXT["refresh"], size="sm", elem_id="sa-console-refresh")
                pick = gr.Radio([], label=TEXT["pick"], elem_id="sa-console-pick", interactive=True)
            with gr.Column(scale=7):
                gr.Markdown(f"### {TEXT['history']}")
                history = gr.HTML(
                    f"<p>{_e(TEXT['no_session'])}</p>",
                    elem_id="sa-console-history",
                    css_template=CSS,
                )
                with gr.Row():
                    take = gr.Button(TEXT["take"], elem_id="sa-console-take")
                    suggest = gr.Button(TEXT["suggest"], elem_id="sa-console-suggest")
                    back = gr.Button(TEXT["hand_back"], elem_id="sa-console-handback")
                draft = gr.Textbox(
                    label=TEXT["draft"],
                    placeholder=TEXT["draft_hint"],
                    lines=4,
                    max_length=MAX_AGENT_MESSAGE_CHARS,
                    interactive=True,
                    elem_id="sa-console-draft",
                )
                send = gr.Button(TEXT["send"], variant="primary", elem_id="sa-console-send")
                with gr.Accordion(TEXT["facts"], open=False, elem_id="sa-console-facts-box"):
                    facts = gr.HTML("", elem_id="sa-console-facts", css_template=CSS)
        timer = gr.Timer(QUEUE_POLL_S, active=False)

    options: dict[str, Any] = {"concurrency_limit": None, "show_progress": "hidden"}
    for trigger in (signin.click, password.submit):
        trigger(
            tab.sign_in,
            [name, password],
            [staff, status, login, main, queue, pick, timer],
            **options,
        )
    for trigger in (refresh.click, timer.tick):
        trigger(tab.refresh, [staff, pick], [queue, pick, history], **options)
    pick.input(tab.open, [staff, pick], [history, status], **options)
    take.click(tab.take_over, [staff, pick], [status, history, queue, pick], **options)
    suggest.click(tab.suggest, [staff, pick], [draft, facts, status], **options)
    send.click(tab.send, [staff, pick, draft], [status, draft, history], **options)
    back.click(tab.hand_back, [staff, pick], [status, history, queue, pick], **options)
    follow_agents(blocks, runtime, dev=dev)
