"""The Shopper tab's logic: turns, claims, feedback and coupons through the server's own code
paths, and the Gradio callbacks that drive the page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from anyio import to_thread
from sqlalchemy import and_, select

from assistant.agents import AgentUpdates, agent_updates
from assistant.errors import ClaimRefused, ShopAssistError
from assistant.store import (
    ActivityRevisionRecord,
    ClaimRecord,
    DecisionRecord,
    FeedbackEvent,
    ImpressionRecord,
    record_feedback,
)
from ui.api._errors import ApiError
from ui.api._runtime import Runtime
from ui.api._turns import TurnRequest, prepare_stream, stream_turn
from ui.gradio_app._cards import CouponRow, card_html, claimable_activity, coupons_html, esc, money
from ui.gradio_app._text import MAX_USER_CHARS, SLOTS, Lang, lang_of, t

if TYPE_CHECKING:
    import gradio as gr

__all__ = [
    "AGENT_POLL_S",
    "Action",
    "ActionOutcome",
    "ShopperTab",
    "State",
    "UiRefused",
    "follow_agents",
]

Action = Literal["claim", "add_to_cart", "dismiss"]
State = dict[str, Any]
"""Per browser tab: ``user``, ``session_id``, ``transcript`` (chat messages), ``recs`` (the
``/v1/chat`` recommendations shown), ``notes`` (impression id -> what the shopper did),
``handoff`` / ``agent_active`` (from the last turn, then from :meth:`ShopperTab.agent_poll`) and
``agent_seen`` (ids of the agent messages already in the chat)."""

AGENT_POLL_S = 2.0
"""How often a Shopper tab looks for agent messages while its session is handed off."""


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """What a card action did: ``ok``; the claim (``claim_id``, ``code``, ``valid_until``,
    ``amount``) or the refusal's ``reason`` and ``message``; whether feedback was recorded."""

    ok: bool
    claim: dict[str, Any] | None = None
    reason: str | None = None
    message: str = ""
    recorded: bool = False


class UiRefused(Exception):
    """An action the tab will not take (outside dev, no user id, someone else's card)."""


class ShopperTab:
    """The Shopper tab's logic and its Gradio callbacks.

    Args:
        runtime: Returns the server's :class:`~ui.api._runtime.Runtime` (it exists once the
            app has started, so it is looked up per call).
        dev: Whether the user id box is trusted (the API's dev rule); otherwise nothing is done.
    """

    def __init__(self, runtime: Callable[[], Runtime], *, dev: bool) -> None:
        self._runtime = runtime
        self.dev = dev

    @property
    def runtime(self) -> Runtime:
        """The server's runtime."""
        return self._runtime()

    def user(self, user_id: str | None, lang: Lang = "en") -> str:
        """The user the tab acts for.

        Raises:
            UiRefused: outside dev mode, or an empty or overlong user id.
        """
        if not self.dev:
            raise UiRefused(t("dev_only", lang))
        user = (user_id or "").strip()
        if not user or len(user) > MAX_USER_CHARS:
            raise UiRefused(t("no_user", lang))
        return user

    # --- the server's own code paths ----------------------------------------------------------

    async def turn_events(
        self, user: str, message: str, session_id: str | None
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """The streamed turn, exactly as ``POST /v1/chat/stream`` produces it: ``token``
        events, then one ``result`` (the ``/v1/chat`` response) or ``error``."""
        runtime = self.runtime
        request = TurnRequest(user, message, session_id, None, "ui")
        try:
            await prepare_stream(runtime, request)
        except ApiError as exc:
            yield "error", {"error": {"code": exc.code, "message": exc.message}}
            return
        async for event in stream_turn(runtime, request):
            yield event

    async def claim(self, user: str, rec: dict[str, Any]) -> ActionOutcome:
        """Claim the card's coupon as ``POST /v1/claims`` does and record a ``claim`` feedback
        event on the card's impression. One claim per card: clicking again replays it."""
        activity = claimable_activity(rec)
        if activity is None:
            return ActionOutcome(False, reason="not_eligible", message="nothing to claim here")
        runtime = self.runtime
        shop = runtime.shop
        key = f"ui-{rec['impression_id']}-{activity}"
        try:
            made = await to_thread.run_sync(
                partial(shop.claim, user, activity, key, now=runtime.clock())
            )
        except ClaimRefused as exc:
            return ActionOutcome(False, reason=exc.reason, message=str(exc))
        body = made.to_json(shop.currency)
        recorded = await self.feedback(user, rec, "claim", claim_id=made.claim_id)
        return ActionOutcome(True, claim=body, recorded=recorded)

    async def feedback(
        self, user: str, rec: dict[str, Any], kind: str, *, claim_id: str | None = None
    ) -> bool:
        """Record feedback on the card's impression as ``POST /v1/feedback`` does; one event
        per card and kind (``event_id`` is derived from both), so repeats change nothing.

        Raises:
            UiRefused: the impression was shown to another user.
        """
        runtime = self.runtime
        impression = rec["impression_id"]
        event = FeedbackEvent(
            event_id=f"ui-{impression}-{kind}",
            impression_id=impression,
            type=kind,
            claim_id=claim_id,
            quantity=1 if kind == "add_to_cart" else None,
            created_at=runtime.clock(),
        )

        def record() -> bool:
            with runtime.shop.sessions.begin() as session:
                owner = session.scalar(
                    select(DecisionRecord.user_id)
                    .join(ImpressionRecord, ImpressionRecord.decision_id == DecisionRecord.id)
                    .where(ImpressionRecord.id == impression)
                )
                if owner != user:
                    raise UiRefused("this card was shown to another user")
                return record_feedback(session, event)

        return await to_thread.run_sync(record)

    async def coupons(self, user: str, lang: Lang = "en") -> list[CouponRow]:
        """The user's claims from SQL, newest first (at most 50)."""
        runtime = self.runtime
        currency = runtime.shop.currency

        def load() -> list[CouponRow]:
            with runtime.shop.sessions() as session:
                rows = session.execute(
                    select(
                        ClaimRecord, ActivityRevisionRecord.title, ActivityRevisionRecord.title_zh
                    )
                    .join(
                        ActivityRevisionRecord,
                        and_(
                            ActivityRevisionRecord.activity_id == ClaimRecord.activity_id,
                            ActivityRevisionRecord.revision == ClaimRecord.revision,
                        ),
                    )
                    .where(ClaimRecord.user_id == user)
                    .order_by(ClaimRecord.created_at.desc(), ClaimRecord.id)
                    .limit(50)
                ).all()
            return [
                CouponRow(
                    code=claim.code,
                    title=(title_zh if lang == "zh" and title_zh else title) or claim.activity_id,
                    amount=money(currency.format(claim.amount), currency.code),
                    status=claim.status,
                    valid_until=claim.valid_until,
                    created_at=claim.created_at,
                )
                for claim, title, title_zh in rows
            ]

        return await to_thread.run_sync(load)

    # --- Gradio callbacks ---------------------------------------------------------------------

    @staticmethod
    def new_state() -> State:
        """A browser tab's state before its first message."""
        return {
            "user": None,
            "session_id": None,
            "transcript": [],
            "recs": [],
            "notes": {},
            "handoff": False,
            "agent_active": False,
            "agent_seen": [],
        }

    def slot_updates(self, state: State, lang: Lang) -> list[dict[str, Any]]:
        """Updates for every card slot: (column, card HTML, claim, cart, dismiss) x SLOTS."""
        import gradio as gr

        now = self.runtime.clock()
        code = self.runtime.shop.currency.code
        out: list[dict[str, Any]] = []
        shown = [
            r
            for r in state["recs"]
            if not state["notes"].get(r["impression_id"], {}).get("dismiss")
        ]
        for i in range(SLOTS):
            if i >= len(shown):
                out += [gr.update(visible=False), gr.update(value="")]
                out += [gr.update(visible=False)] * 3
                continue
            rec = shown[i]
            note = state["notes"].get(rec["impression_id"], {})
            claimable = claimable_activity(rec) is not None and "claim" not in note
            in_cart = bool(note.get("add_to_cart"))
            out += [
                gr.update(visible=True),
                gr.update(value=card_html(rec, lang=lang, now=now, note=note, currency=code)),
                gr.update(visible=claimable, value=t("claim", lang), interactive=True),
                gr.update(
                    visible=rec.get("kind") == "product",
                    value=t("in_cart" if in_cart else "cart", lang),
                    interactive=not in_cart,
                ),
                gr.update(visible=True, value=t("dismiss", lang)),
            ]
        return out

    async def respond(
        self, message: str, user_id: str, language: str, state: State | None
    ) -> AsyncIterator[list[Any]]:
        """Send a message; yields (chat, message box, state, *slots) while the reply streams."""
        import gradio as gr

        lang = lang_of(language)
        state = state or self.new_state()
        text = (message or "").strip()
        if not text:
            yield [gr.skip(), gr.skip(), state, *[gr.skip()] * (5 * SLOTS)]
            return
        transcript: list[dict[str, str]] = state["transcript"]
        transcript.append({"role": "user", "content": text})
        try:
            user = self.user(user_id, lang)
        except UiRefused as exc:
            transcript.append({"role": "assistant", "content": f"⚠️ {exc}"})
            yield [[dict(m) for m in transcript], "", state, *[gr.skip()] * (5 * SLOTS)]
            return
        if state["user"] != user:  # another shopper: a new conversation
            state.update(
                user=user,
                session_id=None,
                recs=[],
                notes={},
                handoff=False,
                agent_active=False,
                agent_seen=[],
            )
        reply = {"role": "assistant", "content": ""}
        transcript.append(reply)
        yield [[dict(m) for m in transcript], "", state, *[gr.skip()] * (5 * SLOTS)]
        async for kind, data in self.turn_events(user, text, state["session_id"]):
            if kind == "token":
                reply["content"] += data["text"]
                yield [[dict(m) for m in transcript], gr.skip(), state, *[gr.skip()] * (5 * SLOTS)]
            elif kind == "result":
                reply["content"] = data["reply"] or "…"
                if data["agent_active"] and not data["reply"]:
                    transcript.remove(reply)  # a person answers: see `agent_poll`
                if data["session_id"] != state["session_id"]:
                    state["agent_seen"] = []
                state["session_id"] = data["session_id"]
                state["handoff"] = bool(data["handoff"])
                state["agent_active"] = bool(data["agent_active"])
                state["recs"] = list(data["recommendations"])[:SLOTS]
                state["notes"] = {}
            else:
                reply["content"] = f"⚠️ {data['error']['message']}"
        yield [[dict(m) for m in transcript], gr.skip(), state, *self.slot_updates(state, lang)]

    async def act(
        self, slot: int, action: Action, user_id: str, language: str, state: State | None
    ) -> list[Any]:
        """A card button: returns (state, coupons HTML, *slots)."""
        import gradio as gr

        lang = lang_of(language)
        state = state or self.new_state()
        shown = [
            r
            for r in state["recs"]
            if not state["notes"].get(r["impression_id"], {}).get("dismiss")
        ]
        if slot >= len(shown):
            return [state, gr.skip(), *self.slot_updates(state, lang)]
        rec = shown[slot]
        note = state["notes"].setdefault(rec["impression_id"], {})
        try:
            user = self.user(user_id, lang)
            if user != state["user"]:
                raise UiRefused("these cards were shown to another user id; send a message first")
            if action == "claim":
                outcome = await self.claim(user, rec)
                if outcome.claim is not None:
                    note.pop("refused", None)
                    note["claim"] = outcome.claim
                else:
                    note["refused"] = outcome.reason or "not_eligible"
                    note["message"] = outcome.message
            else:
                await self.feedback(user, rec, action)
                note[action] = True
        except (UiRefused, ShopAssistError) as exc:
            gr.Warning(str(exc))
            return [state, gr.skip(), *self.slot_updates(state, lang)]
        coupons = await self.coupons_view(user_id, language) if action == "claim" else gr.skip()
        return [state, coupons, *self.slot_updates(state, lang)]

    async def coupons_view(self, user_id: str, language: str) -> str:
        """The "My coupons" HTML for the user in the box."""
        lang = lang_of(language)
        try:
            user = self.user(user_id, lang)
        except UiRefused as exc:
            return f"<p>{esc(exc)}</p>"
        return coupons_html(await self.coupons(user, lang), lang)

    def relabel(self, language: str, state: State | None) -> list[Any]:
        """Labels in the chosen language: (user, language, hint, chat, message, send, coupons
        accordion, refresh, *slots)."""
        import gradio as gr

        lang = lang_of(language)
        state = state or self.new_state()
        hint = t("hint", lang) if self.dev else t("dev_only", lang)
        return [
            gr.update(label=t("user", lang)),
            gr.update(label=t("language", lang)),
            gr.update(value=hint),
            gr.update(label=t("chat", lang)),
            gr.update(label=t("message", lang), placeholder=t("placeholder", lang)),
            gr.update(value=t("send", lang)),
            gr.update(label=t("coupons", lang)),
            gr.update(value=t("refresh", lang)),
            *self.slot_updates(state, lang),
        ]

    # --- agent messages -----------------------------------------------------------------------

    async def agent_poll(self, user_id: str, language: str, state: State | None) -> list[Any]:
        """The Timer's tick: (chat, state) with the agent's new messages appended, or skips.

        Only a session the last turn handed off (or an agent owns) is looked up in SQL; any
        other tick costs nothing. When the agent hands back, a line says the assistant is back
        and polling stops until the next handoff.
        """
        import gradio as gr

        skip = [gr.skip(), gr.skip()]
        if not state or not state.get("session_id") or not self.dev:
            return skip
        if not (state.get("handoff") or state.get("agent_active")):
            return skip
        user = (user_id or "").strip()
        if user != state.get("user"):
            return skip  # the box names another shopper now: their next message starts over
        runtime = self.runtime
        try:
            updates: AgentUpdates = await to_thread.run_sync(
                partial(agent_updates, runtime.shop, state["session_id"], user)
            )
        except ShopAssistError:
            return skip
        lang = lang_of(language)
        seen: list[str] = state.setdefault("agent_seen", [])
        transcript: list[dict[str, str]] = state["transcript"]
        changed = False
        for message in updates.messages:
            if message.id in seen:
                continue
            seen.append(message.id)
            label = t("agent_says", lang)
            transcript.append({"role": "assistant", "content": f"**{label}:** {message.text}"})
            changed = True
        was_active = bool(state.get("agent_active"))
        if was_active and not updates.agent_active:
            transcript.append({"role": "assistant", "content": t("agent_back", lang)})
            changed = True
        if (state.get("handoff"), state.get("agent_active")) != (
            updates.handoff,
            updates.agent_active,
        ):
            state["handoff"], state["agent_active"] = updates.handoff, updates.agent_active
            changed = True
        if not changed:
            return skip
        return [[dict(m) for m in transcript], state]


def follow_agents(blocks: gr.Blocks, runtime: Callable[[], Runtime], *, dev: bool) -> None:
    """Make the Shopper tab show agent messages: a ``gr.Timer`` runs
    :meth:`ShopperTab.agent_poll` every :data:`AGENT_POLL_S` seconds.

    Call inside ``blocks`` once the Shopper tab is built; its chat, user box, language toggle
    and state are found by their ``elem_id`` (``sa-chat``, ``sa-user``, ``sa-language``) and,
    for the state, by its shape (:meth:`ShopperTab.new_state`).

    Raises:
        LookupError: The Shopper tab is not in ``blocks``.
    """
    import gradio as gr

    by_id = {b.elem_id: b for b in blocks.blocks.values() if getattr(b, "elem_id", None)}
    states = [
        b
        for b in blocks.blocks.values()
        if isinstance(b, gr.State) and isinstance(b.value, dict) and "transcript" in b.value
    ]
    missing = [n for n in ("sa-chat", "sa-user", "sa-language") if n not in by_id]
    if missing or len(states) != 1:
        raise LookupError(
            "build the Shopper tab before follow_agents(); missing: "
            + ", ".join(missing or ["its state"])
        )
    tab = ShopperTab(runtime, dev=dev)
    timer = gr.Timer(AGENT_POLL_S)
    timer.tick(
        tab.agent_poll,
        [by_id["sa-user"], by_id["sa-language"], states[0]],
        [by_id["sa-chat"], states[0]],
        show_progress="hidden",
        concurrency_limit=None,
    )
