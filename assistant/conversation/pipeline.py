"""One shopper turn, end to end (DESIGN.md "One turn"): understand, retrieve, price, rank,
choose, reply, and store it all in one transaction.

:class:`Assistant` is built once per process (:meth:`Assistant.from_shop` loads the search
index, the embedder and the catalog snapshot) and answers :meth:`Assistant.turn`. A turn reads
what it needs, computes without holding a transaction, then writes the session, both messages,
the decision and its impressions in one transaction, so a failure leaves nothing half-written.

Stages are timed (``TurnResult.timings_ms``) and one structured log line per turn records the
ids, the action, the stage latencies and the policy; no message text is logged.
"""

from __future__ import annotations

import functools
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from assistant import store
from assistant.catalog_pricer import PricingContext
from assistant.claims import claim_coupon
from assistant.conversation import _coupons, _recommend
from assistant.conversation._budget import MeteredChat, over_budget
from assistant.conversation._constraints import TurnConstraints
from assistant.conversation._recommend import Pricer
from assistant.conversation.actions import COUPON_TYPES, ActionPolicy, RulesActionPolicy
from assistant.conversation.facts import ActionKind, IneligibleFact, ItemFact, ReplyFacts
from assistant.conversation.phrasing import PHRASED_ACTIONS, phrase_reply
from assistant.conversation.ranking import (
    Candidate,
    HeuristicRanker,
    PastEvent,
    Ranker,
    RankingContext,
    ShopperProfile,
)
from assistant.conversation.replies import render_reply, why_line
from assistant.conversation.snapshot import CatalogSnapshot, LiveCatalog
from assistant.conversation.state import DialogueState, ShownItem, merge, summarize
from assistant.deals import DealContext, claim_check
from assistant.domain import Activity, CartLine, Group, Product, Shopper
from assistant.errors import CartError, ClaimRefused, ForbiddenError, LLMError, UnknownEntityError
from assistant.llm import ChatModel, make_chat_model
from assistant.policy_serving import DEFAULT_POLICY, PolicyServer, features_for, logged_version
from assistant.schedule import aware
from assistant.store import turns as turn_sql
from assistant.understanding import Extraction, Vocabulary, clean_message, extract
from assistant.understanding.intent import ShopperIntent
from assistant.understanding.llm import INTENT_SCHEMA, intent_messages, merge_llm, needs_llm
from policy import ContextualPolicy, Policy, Slate
from retrieval import SearchIndex
from retrieval.search import QueryEmbedder

if TYPE_CHECKING:
    from assistant.app import Shop

__all__ = ["Assistant", "Recommendation", "TurnResult"]

logger = logging.getLogger(__name__)

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
SLATE_SIZE = 3
POLICY_TOP = 100
_MAX_CART_LINES = 100
POSITIVE_FEEDBACK = ("click", "claim", "add_to_cart", "purchase")
"""Feedback that counts as a positive reaction (the ranker's history and labels)."""
HISTORY_LIMIT = 200
"""The most recent positive reactions a turn reads for the ranker."""


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One recommendation as shown: the item's facts, its why-line and its logged propensity."""

    impression_id: str
    position: int
    item: ItemFact
    reason: str
    score: float
    propensity: float


@dataclass(frozen=True)
class TurnResult:
    """What one turn produced (the ``/v1/chat`` response, before JSON).

    Attributes:
        session_id: The session (new when none was given).
        turn_id: This turn's id.
        reply: The reply text ("" while an agent owns the session).
        handoff: The session is flagged for a customer-service agent.
        agent_active: An agent owns the session; the assistant stays quiet.
        intent: The effective intent (this message merged with the session's slots).
        action: What the assistant did.
        recommendations: The slate, in order.
        timings_ms: Stage -> milliseconds.
        decision_id: The logged decision, when a slate was shown.
        versions: Ranker, policy, action policy and LLM versions used.
        llm: What the LLM did: ``understand`` (``off``, ``skipped``, ``used``, ``failed``) and
            ``reply`` (``off``, ``template``, ``llm``, ``llm_regenerated``, ``failed``); both
            ``budget`` when the session had spent its token budget, so the LLM was not asked.
    """

    session_id: str
    turn_id: str
    reply: str
    handoff: bool
    agent_active: bool
    intent: ShopperIntent
    action: ActionKind
    recommendations: tuple[Recommendation, ...]
    timings_ms: dict[str, float]
    decision_id: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    llm: dict[str, str] = field(default_factory=dict)


class _Timer:
    def __init__(self) -> None:
        self.ms: dict[str, float] = {}
        self.started = time.perf_counter()

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.ms[stage] = self.ms.get(stage, 0.0) + (time.perf_counter() - start) * 1000


@dataclass(frozen=True, slots=True)
class _StoredSession:
    """The stored session a turn continues (what the turn reads of its row)."""

    id: str
    state: dict[str, Any]
    agent_active: bool
    summary: str


@dataclass
class _Read:
    """What a turn reads from SQL before computing."""

    record: _StoredSession | None
    state: DialogueState
    shopper: Shopper
    ctx: DealContext
    cart: list[CartLine]
    bought_brands: frozenset[str]
    bought_categories: frozenset[str]
    profile: ShopperProfile
    preferences: dict[str, Any] | None
    """The user's stored preferences; ``None`` when the user was not found (first contact)."""


@dataclass
class _Outcome:
    """What a turn computed, ready to render and store."""

    action: ActionKind
    facts: dict[str, Any] = field(default_factory=dict)
    items: list[tuple[ItemFact, float, float]] = field(default_factory=list)
    decision: dict[str, Any] | None = None
    handoff: bool = False
    failed: bool = False


def _within(final_price: int | None, intent: ShopperIntent) -> bool:
    """Whether a final price satisfies the intent's budget (no budget: anything does)."""
    if intent.min_price is None and intent.max_price is None:
        return True
    if final_price is None:
        return False
    if intent.max_price is not None and final_price > intent.max_price:
        return False
    return intent.min_price is None or final_price >= intent.min_price


def _select(
    policy: Policy,
    scores: NDArray[np.float64],
    features: NDArray[np.float64],
    rng: np.random.Generator,
) -> Slate:
    """A slate of up to SLATE_SIZE from ``policy`` (contextual policies also see ``features``)."""
    if isinstance(policy, ContextualPolicy):
        return policy.select(scores, SLATE_SIZE, rng, features=features, allow_short=True)
    return policy.select(scores, SLATE_SIZE, rng)


class Assistant:
    """The turn pipeline over one shop.

    Args:
        shop: The shop (settings, SQL).
        catalog: The live catalog snapshot.
        index: Returns the current search index (e.g. ``ReloadingIndex.current``).
        embedder: Embeds the query text.
        vocabulary: Category and brand words for the rules extractor.
        ranker: Scores candidates (default: :class:`HeuristicRanker`).
        policy: Chooses every slate (fixed; default: what ``policies`` serves).
        policies: Hands out the serving policy, reloaded from SQL by version (default: none,
            so the built-in epsilon-greedy, epsilon 0.1, over the top 100).
        constraints: The choose step's business rules (default: 5% no-promotion holdout,
            3 impressions per activity a day, live deals only; see ``_constraints``).
        actions: Chooses the dialogue action (default: :class:`RulesActionPolicy`).
        chat: The LLM (``None``: rules mode). It fills the slots the rules leave open and
            phrases recommendation replies; when it fails, that turn runs on rules and
            :attr:`llm_status` becomes ``"degraded"``.
        llm_timeout_s: Per LLM call.
        session_token_budget: LLM tokens (prompt + completion, as the server reports them) a
            session may spend; its turns after that run on rules and templates (``None``: no
            budget; :meth:`from_shop` takes ``SHOPASSIST_SESSION_TOKEN_BUDGET``).
        pricer: One-unit final prices for a shopper (default: the snapshot's
            :class:`~assistant.catalog_pricer.CatalogPricer`, exact and vectorized).
        seed: Seeds the policy's exploration (``None``: fresh entropy).
    """

    def __init__(
        self,
        shop: Shop,
        *,
        catalog: LiveCatalog,
        index: Callable[[], SearchIndex],
        embedder: QueryEmbedder,
        vocabulary: Vocabulary,
        ranker: Ranker | None = None,
        policy: Policy | None = None,
        policies: PolicyServer | None = None,
        constraints: TurnConstraints | None = None,
        pricer: Pricer | None = None,
        actions: ActionPolicy | None = None,
        chat: ChatModel | None = None,
        llm_timeout_s: float = 8.0,
        session_token_budget: int | None = None,
        seed: int | None = None,
    ) -> None:
        self.shop = shop
        self.catalog = catalog
        self.index = index
        self.embedder = embedder
        self.vocabulary = vocabulary
        self.ranker: Ranker = ranker or HeuristicRanker()
        self._policy = policy
        self.policies = policies
        self.constraints = constraints or TurnConstraints()
        self.pricer = pricer
        self.actions: ActionPolicy = actions or RulesActionPolicy()
        self.chat = chat
        self.llm_timeout_s = llm_timeout_s
        self.session_token_budget = session_token_budget
        self.llm_status = "off" if chat is None else "ok"
        self.rng = np.random.default_rng(seed)
        self.shadow_rng = np.random.default_rng(None if seed is None else seed + 1)

    @functools.cached_property
    def _reads(self) -> sessionmaker[Session]:
        """Sessions for a turn's reads. On PostgreSQL they run in autocommit: under READ
        COMMITTED each statement sees its own snapshot anyway, so the ``BEGIN`` and
        ``ROLLBACK`` round trips around them bought nothing."""
        engine = self.shop.engine
        if engine.dialect.name == "postgresql":
            return sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))
        return self.shop.sessions

    @property
    def policy(self) -> Policy:
        """The policy that chooses the next slate (fixed, or the one serving now)."""
        if self._policy is not None:
            return self._policy
        if self.policies is not None:
            return self.policies.current()
        return DEFAULT_POLICY

    @policy.setter
    def policy(self, value: Policy) -> None:
        self._policy = value

    @classmethod
    def from_shop(
        cls, shop: Shop, *, seed: int | None = None, start_llm: bool = False
    ) -> Assistant:
        """Load everything a turn needs: catalog snapshot, search index, embedder, vocabulary,
        and the LLM the settings ask for (``embedded``: the shared server if it is running, or
        started when ``start_llm``; if none can be had, rules mode with a warning).

        Raises:
            RetrievalError: The index is missing or was built with another embedder (run
                ``shopassist index``).
        """
        from assistant.policy_serving import PolicyServer
        from assistant.ranker_serving import load_serving_ranker
        from assistant.serving import load_serving_parts

        store.require_head(shop.engine)
        parts = load_serving_parts(shop)
        ranker = load_serving_ranker(shop)
        chat = None
        if shop.settings.llm_backend != "rules":
            chat = make_chat_model(shop.settings, start_server=start_llm)
            if chat is None:
                backend = str(shop.settings.llm_backend.value)
                hint = " (start it with `shopassist llm serve`)" if backend == "embedded" else ""
                logger.warning(
                    "the %s LLM is not running%s: answering in rules mode", backend, hint
                )
        return cls(
            shop,
            catalog=parts.catalog,
            index=parts.index,
            embedder=parts.embedder,
            vocabulary=parts.vocabulary,
            ranker=ranker,
            policies=PolicyServer(shop),
            chat=chat,
            session_token_budget=shop.settings.session_token_budget,
            seed=seed,
        )

    # --- the turn ---------------------------------------------------------------------------

    def turn(
        self,
        user_id: str,
        message: str,
        *,
        session_id: str | None = None,
        cart: Sequence[tuple[str, int]] | None = None,
        now: datetime | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> TurnResult:
        """Answer one message.

        Args:
            user_id: The shopper (created on first contact as a new, non-member user).
            message: What they wrote (1-2,000 characters; control characters are dropped).
            session_id: Continue this session; ``None`` starts a new one.
            cart: The host site's cart, authoritative when given; otherwise the session's.
            now: The moment of the turn (default: now).
            on_text: Called with each piece of the LLM-phrased reply as soon as it has passed
                the claims guard (streaming). Template replies are not streamed: the result's
                ``reply`` is always the whole, authoritative text.

        Raises:
            ValidationError: An empty or over-long message, or a bad user id.
            UnknownEntityError: ``session_id`` is not a session of this user.
            CartError: The cart names unknown or unpriced products, or a bad quantity.
        """
        timer = _Timer()
        now = aware(now, "now") if now is not None else datetime.now(UTC)
        turn_id = uuid.uuid4().hex
        store.users._check_id(user_id)
        with timer("understand"):
            message = clean_message(message)
            extraction = extract(message, self.vocabulary, currency=self.shop.currency)
        snapshot = self.catalog.current()

        def load() -> _Read:
            with self._reads() as session:
                return self._read(session, user_id, session_id, cart, snapshot, now)

        with timer("load"):
            read = store.retry_on_disconnect(load, what="reading a turn's session")
        agent_active = bool(read.record and read.record.agent_active)
        llm = {"understand": "off", "reply": "off"}
        spent = read.state.llm_tokens
        # The turn's calls go through a meter; a session past its token budget gets none.
        chat = None
        if self.chat is not None and not agent_active:
            if over_budget(spent, self.session_token_budget):
                llm = {"understand": "budget", "reply": "budget"}
            else:
                chat = MeteredChat(self.chat)
        if chat is not None:
            llm["understand"] = "skipped"
            if needs_llm(extraction):
                with timer("llm_understand"):
                    extraction, llm["understand"] = self._llm_understand(
                        chat, extraction, message, read.record.summary if read.record else ""
                    )
        with timer("understand"):
            intent, next_state = merge(read.state, extraction.intent, extraction.sure)
        if agent_active:
            outcome = _Outcome(ActionKind.HANDOFF, handoff=True)
        else:
            outcome = self._act(intent, read, snapshot, next_state, user_id, turn_id, timer)
        next_state.failures = read.state.failures + 1 if outcome.failed else 0
        if next_state.failures >= 2 and not outcome.handoff:
            outcome = _Outcome(
                ActionKind.HANDOFF, facts={"handoff_reason": "repeated_failure"}, handoff=True
            )
        with timer("reply"):
            reply, recs, reply_source = self._reply(
                chat, outcome, intent, now, agent_active, message, timer, on_text
            )
        if llm["reply"] != "budget":
            llm["reply"] = reply_source
        next_state.llm_tokens = spent + (chat.tokens if chat is not None else 0)
        if recs:
            next_state.shown = [
                ShownItem(
                    kind=r.item.kind,
                    id=r.item.id,
                    final_price=r.item.final_price,
                    activity_ids=list(r.item.activity_ids),
                    needs_claim=r.item.needs_claim,
                    impression_id=r.impression_id,
                )
                for r in recs
            ]
        with timer("store"):
            sid, decision_id, handoff = store.retry_on_disconnect(
                lambda: self._store(
                    user_id, read, next_state, message, reply, recs, outcome, turn_id, now
                ),
                what="storing a turn",
            )
        if not over_budget(spent, self.session_token_budget) and over_budget(
            next_state.llm_tokens, self.session_token_budget
        ):
            logger.warning(
                "session %s spent %d LLM tokens, its budget is %s: its next turns answer "
                "on rules and templates",
                sid,
                next_state.llm_tokens,
                self.session_token_budget,
            )
        versions = {
            "ranker": self.ranker.version,
            "policy": (outcome.decision or {}).get("policy_version") or logged_version(self.policy),
            "actions": self.actions.version,
            "llm": self.chat.model if self.chat is not None else "rules",
        }
        logger.info(
            "turn %s session %s action=%s recs=%d handoff=%s stages=%s policy=%s",
            turn_id,
            sid,
            outcome.action,
            len(recs),
            handoff,
            {k: round(v, 2) for k, v in timer.ms.items()},
            versions["policy"],
        )
        return TurnResult(
            session_id=sid,
            turn_id=turn_id,
            reply=reply,
            handoff=handoff,
            agent_active=agent_active,
            intent=intent,
            action=outcome.action,
            recommendations=tuple(recs),
            timings_ms=timer.ms,
            decision_id=decision_id,
            versions=versions,
            llm=llm,
        )

    # --- the LLM ----------------------------------------------------------------------------

    def _degraded(self, stage: str, exc: LLMError) -> None:
        self.llm_status = "degraded"
        logger.warning("LLM %s failed, rules mode for this turn: %s", stage, exc)

    def _llm_understand(
        self, chat: ChatModel, extraction: Extraction, message: str, summary: str
    ) -> tuple[Extraction, str]:
        try:
            answer = chat.complete_json(
                intent_messages(message, summary),
                INTENT_SCHEMA,
                max_tokens=96,
                timeout_s=self.llm_timeout_s,
            )
        except LLMError as exc:
            self._degraded("understanding", exc)
            return extraction, "failed"
        self.llm_status = "ok"
        return merge_llm(extraction, answer, self.vocabulary, message), "used"

    # --- reading ----------------------------------------------------------------------------

    def _read(
        self,
        session: Session,
        user_id: str,
        session_id: str | None,
        cart: Sequence[tuple[str, int]] | None,
        snapshot: CatalogSnapshot,
        now: datetime,
    ) -> _Read:
        # One statement for the session and its user, or for the user alone: each round trip
        # to PostgreSQL costs it CPU that the load test showed to be the bottleneck.
        record: _StoredSession | None = None
        row: Any
        if session_id is None:
            row = turn_sql.read_user(session, user_id)
        else:
            row = turn_sql.read_user_session(session, session_id)
            if row is None:
                raise UnknownEntityError(
                    f"unknown session {session_id!r}; "
                    "leave out the session id to start a new conversation"
                )
            if row.user_id != user_id:
                raise ForbiddenError("this session belongs to another user")
            record = _StoredSession(session_id, row.state, bool(row.agent_active), row.summary)
        state = DialogueState.from_json(record.state if record else None)
        # Standing preferences live on the user, so they hold in every session.
        stored_prefs = dict(row.preferences or {}) if row is not None else None
        prefs = stored_prefs or {}
        state.personalization = bool(prefs.get("personalization", True))
        state.not_interested = list(
            dict.fromkeys([*prefs.get("not_interested", []), *state.not_interested])
        )
        shopper = (
            Shopper(
                id=user_id,
                member=bool(row.member),
                new_user=bool(row.new_user),
                segments=frozenset(row.segments or ()),
            )
            if row is not None
            else Shopper(user_id, new_user=True)
        )
        uses, held, reserved = store.turn_deal_state(session, user_id, now=now)
        budget_left = {
            aid: max(0, activity.budget - reserved[aid])
            for aid in reserved
            if (activity := snapshot.activity_by_id.get(aid)) is not None
            and activity.budget is not None
        }
        ctx = DealContext(
            now=now,
            shopper=shopper,
            shipping_fee=self.shop.settings.shipping_fee_minor,
            uses=uses,
            held=held,
            budget_left=budget_left,
        )
        lines = self._cart(session, cart, record, snapshot)
        brands: frozenset[str] = frozenset()
        categories: frozenset[str] = frozenset()
        history: list[PastEvent] = []
        if state.personalization:
            rows = turn_sql.positive_history(session, user_id, POSITIVE_FEEDBACK, HISTORY_LIMIT)
            bought = []
            for item_id, kind, at in rows:
                info = snapshot.info.get(item_id)
                if info is None:
                    continue
                history.append(PastEvent(item_id, info.category, info.brand, at))
                if kind == "purchase":
                    bought.append(info)
            brands = frozenset(i.brand.casefold() for i in bought)
            categories = frozenset(i.category for i in bought)
        profile = ShopperProfile(
            member=shopper.member,
            new_user=shopper.new_user,
            segment=min(shopper.segments, default=""),
            history=tuple(history),
        )
        return _Read(record, state, shopper, ctx, lines, brands, categories, profile, stored_prefs)

    def _cart(
        self,
        session: Session,
        cart: Sequence[tuple[str, int]] | None,
        record: _StoredSession | None,
        snapshot: CatalogSnapshot,
    ) -> list[CartLine]:
        if cart is None:
            # No cart from the host site: the session's add-to-cart events make it. A product
            # since taken out of the catalog just drops out (the shopper cannot fix that).
            if record is None:
                return []
            saved = store.session_cart(session, record.id)[:_MAX_CART_LINES]
            return [CartLine(p, q) for p, q in saved if p in snapshot.products]
        if not cart:
            return []
        if len(cart) > _MAX_CART_LINES:
            raise CartError(f"the cart has {len(cart)} lines; at most {_MAX_CART_LINES}")
        lines = []
        unknown = []
        for product_id, quantity in cart:
            if product_id not in snapshot.products:
                unknown.append(product_id)
                continue
            lines.append(CartLine(product_id, quantity))
        if unknown:
            raise CartError(
                "the cart names unknown or unpriced products: " + ", ".join(sorted(unknown)[:10])
            )
        return lines

    # --- acting -----------------------------------------------------------------------------

    def _act(
        self,
        intent: ShopperIntent,
        read: _Read,
        snapshot: CatalogSnapshot,
        state: DialogueState,
        user_id: str,
        turn_id: str,
        timer: _Timer,
    ) -> _Outcome:
        action = self.actions.choose(intent, read.state)
        kind = action.kind
        if kind is ActionKind.HANDOFF:
            return _Outcome(kind, {"handoff_reason": action.handoff_reason}, handoff=True)
        if kind in (ActionKind.OUT_OF_SCOPE, ActionKind.SMALL_TALK):
            return _Outcome(kind)
        if kind is ActionKind.CLARIFY:
            return _Outcome(kind, {"question": action.question or "category"})
        if kind is ActionKind.SHOW_COUPONS:
            with self.shop.sessions() as session:
                coupons = _coupons.held_coupons(
                    session, user_id, snapshot, language=intent.language, now=read.ctx.now
                )
            return _Outcome(kind, {"coupons": coupons})
        if kind is ActionKind.EXPLAIN_INELIGIBLE:
            return self._why(intent, read, snapshot)
        if kind is ActionKind.OFFER_COUPON:
            if action.claim:
                claimed = self._claim(intent, read, snapshot, user_id, turn_id)
                if claimed is not None:
                    return claimed
            intent = intent.model_copy(update={"activity_types": sorted(COUPON_TYPES)})
        if action.show_again:
            return self._shown_again(intent, read, snapshot)
        return self._recommend(intent, read, snapshot, timer)

    def _recommend(
        self, intent: ShopperIntent, read: _Read, snapshot: CatalogSnapshot, timer: _Timer
    ) -> _Outcome:
        ctx = read.ctx
        coupons_only = bool(intent.activity_types) and set(intent.activity_types) <= COUPON_TYPES
        fallback = (
            " ".join(c.rsplit("/", 1)[-1].replace("-", " ") for c in intent.categories)
            or " ".join(intent.brands_in or intent.activity_types)
            or "deals"
        )
        with timer("retrieve"):
            retrieved = _recommend.search(
                self.index(), self.embedder, intent, ctx, fallback_query=fallback
            )
        usable = None
        with timer("price"):
            if coupons_only:

                def claimable(activity: Activity) -> bool:
                    return claim_check(activity, ctx) is None

                candidates = _recommend.activity_candidates(retrieved, snapshot, claimable)
            else:
                pctx = snapshot.pricer.context(ctx)
                usable = pctx.usable
                candidates = _recommend.product_candidates(
                    retrieved, snapshot, intent, ctx, self._pricer(snapshot, pctx)
                )
        if not candidates:
            return _Outcome(ActionKind.RECOMMEND, {"no_results": True}, failed=True)
        with timer("rank"):
            rctx = RankingContext(
                now=ctx.now,
                wants_deals=intent.wants_deals,
                sort=intent.sort,
                bought_brands=read.bought_brands,
                bought_categories=read.bought_categories,
                profile=read.profile,
            )
            scores = np.asarray(self.ranker.score(candidates, rctx), dtype=np.float64)
        with timer("choose"):
            n_candidates = len(candidates)
            constrained = self.constraints.apply(
                self.shop.sessions,
                read.shopper.id,
                wants_deals=intent.wants_deals or coupons_only,
                candidates=candidates,
                scores=scores,
                now=ctx.now,
            )
            candidates, scores = constrained.candidates, constrained.scores
            if not candidates:
                return _Outcome(ActionKind.RECOMMEND, {"no_results": True}, failed=True)
            # The policy sees the top POLICY_TOP in score order (ties keep retrieval order),
            # the very rows the decision logs, so the logs replay its choice exactly.
            order = np.argsort(-scores, kind="stable")[:POLICY_TOP]
            candidates = [candidates[i] for i in order]
            scores = scores[order]
            arm: str | None = None
            shadow: Policy | None = None
            if self._policy is None and self.policies is not None:
                policy, arm = self.policies.for_user(read.shopper.id)
                shadow = self.policies.shadow()
            else:
                policy = self.policy
            features = features_for(candidates, scores)
            slate = _select(policy, scores, features, self.rng)
            if shadow is not None:
                # Its own generator: shadowing must not change what the serving policy draws.
                shadowed = _select(shadow, scores, features, self.shadow_rng)
        with timer("price"):
            items = [
                (
                    self._fact(candidates[i], read, snapshot, intent.language, usable),
                    float(scores[i]),
                    p,
                )
                for i, p in zip(slate.indices, slate.propensities, strict=True)
            ]
        decision = {
            "candidate_ids": [c.id for c in candidates[:POLICY_TOP]],
            "scores": [round(float(s), 6) for s in scores[:POLICY_TOP]],
            "slate_propensity": slate.slate_propensity,
            "conditional": list(slate.conditional),
            "policy_version": logged_version(policy),
            **(
                {"ab": {"arm": arm, "salt": self.policies.ab_salt}} if arm and self.policies else {}
            ),
            **(
                {
                    "shadow": {
                        "version": logged_version(shadow),
                        "chosen_ids": [candidates[i].id for i in shadowed.indices],
                        "propensities": list(shadowed.propensities),
                    }
                }
                if shadow is not None
                else {}
            ),
            "filters": {
                "categories": list(retrieved.filters.categories),
                "max_price": intent.max_price,
                "min_price": intent.min_price,
                "brands_out": list(retrieved.filters.brands_out),
                "activity_types": list(retrieved.filters.activity_types),
            },
            "n_candidates": n_candidates,
            "constraints": constrained.log,
        }
        action = ActionKind.OFFER_COUPON if coupons_only else ActionKind.RECOMMEND
        return _Outcome(action, items=items, decision=decision)

    def _pricer(self, snapshot: CatalogSnapshot, pctx: PricingContext) -> Pricer:
        if self.pricer is not None:
            return self.pricer

        def vectorized(products: Sequence[Product], ctx: DealContext) -> list[int]:
            finals = snapshot.pricer.final_prices([p.id for p in products], pctx)
            return [int(f) for f in finals]

        return vectorized

    def _fact(
        self,
        candidate: Candidate,
        read: _Read,
        snapshot: CatalogSnapshot,
        language: str,
        usable: NDArray[np.bool_] | None = None,
    ) -> ItemFact:
        if candidate.kind == "activity":
            activity = snapshot.activity_by_id[candidate.id]
            return _recommend.activity_fact(activity, read.ctx, language=language, now=read.ctx.now)
        product = snapshot.products.get(candidate.id)
        if product is None:
            return _recommend.unpriced_fact(candidate.id, snapshot, language=language)
        return _recommend.item_fact(
            product,
            snapshot,
            read.ctx,
            language=language,
            cart=read.cart,
            cart_products=snapshot.products,
            bought_brand_before=product.brand.casefold() in read.bought_brands,
            usable=usable,
        )

    def _shown_again(
        self, intent: ShopperIntent, read: _Read, snapshot: CatalogSnapshot
    ) -> _Outcome:
        shown = read.state.shown
        refs = [r for r in intent.item_refs if 1 <= r <= len(shown)] or list(
            range(1, len(shown) + 1)
        )
        items = []
        for ref in refs:
            item = shown[ref - 1]
            if item.kind == "product" and item.id not in snapshot.info:
                continue
            if item.kind == "activity" and item.id not in snapshot.activity_by_id:
                continue
            candidate = Candidate(kind=item.kind, id=item.id, similarity=1.0)
            fact = self._fact(candidate, read, snapshot, intent.language)
            if fact.kind == "product" and not _within(fact.final_price, intent):
                continue  # re-priced now, it no longer fits the budget in force
            items.append((fact, 1.0, 1.0))
        if not items:
            return _Outcome(ActionKind.RECOMMEND, {"no_results": True}, failed=True)
        decision = {
            "candidate_ids": [i.id for i, _, _ in items],
            "scores": [1.0] * len(items),
            "slate_propensity": 1.0,
            "conditional": [1.0] * len(items),
            "filters": {"item_refs": refs},
            "n_candidates": len(items),
        }
        return _Outcome(ActionKind.RECOMMEND, items=items, decision=decision)

    def _claim_target(
        self, intent: ShopperIntent, read: _Read, snapshot: CatalogSnapshot
    ) -> str | None:
        shown = read.state.shown
        picked = [shown[r - 1] for r in intent.item_refs if 1 <= r <= len(shown)] or shown
        for item in picked:
            for aid in ([item.id] if item.kind == "activity" else []) + item.activity_ids:
                activity = snapshot.activity_by_id.get(aid)
                if activity is not None and activity.group is Group.COUPON:
                    return aid
        return None

    def _claim(
        self,
        intent: ShopperIntent,
        read: _Read,
        snapshot: CatalogSnapshot,
        user_id: str,
        turn_id: str,
    ) -> _Outcome | None:
        target = self._claim_target(intent, read, snapshot)
        if target is None:
            return None
        try:
            claim = claim_coupon(
                self.shop.sessions,
                user_id=user_id,
                activity_id=target,
                idempotency_key=f"turn:{turn_id}",
                now=read.ctx.now,
                shipping_fee=read.ctx.shipping_fee,
            )
        except ClaimRefused as refused:
            facts = _coupons.explain(
                [target], snapshot, read.ctx, cart=(), products={}, language=intent.language
            )
            if not facts:
                reason = "audience" if refused.reason == "not_eligible" else refused.reason
                activity = snapshot.activity_by_id[target]
                title = (
                    activity.title_zh
                    if intent.language == "zh" and activity.title_zh
                    else activity.title
                )
                facts = (IneligibleFact(target, title or target, reason),)
            return _Outcome(ActionKind.EXPLAIN_INELIGIBLE, {"ineligible": facts})
        with self.shop.sessions() as session:
            coupons = _coupons.held_coupons(
                session, user_id, snapshot, language=intent.language, now=read.ctx.now
            )
        mine = tuple(c for c in coupons if c.claim_id == claim.claim_id) or coupons
        return _Outcome(ActionKind.SHOW_COUPONS, {"coupons": mine})

    def _why(self, intent: ShopperIntent, read: _Read, snapshot: CatalogSnapshot) -> _Outcome:
        with self.shop.sessions() as session:
            held = _coupons.held_coupons(
                session, read.shopper.id, snapshot, language=intent.language, now=read.ctx.now
            )
        shown = read.state.shown
        ids = [c.activity_id for c in held]
        for item in shown:
            ids += [item.id] if item.kind == "activity" else []
            ids += item.activity_ids
        ids = [
            i
            for i in ids
            if (a := snapshot.activity_by_id.get(i)) is not None and a.group is Group.COUPON
        ]
        cart = list(read.cart)
        if not cart:
            cart = [
                CartLine(s.id, 1)
                for s in shown
                if s.kind == "product" and s.id in snapshot.products
            ]
        facts = _coupons.explain(
            ids,
            snapshot,
            read.ctx,
            cart=cart,
            products=snapshot.products,
            language=intent.language,
        )
        if not facts:
            return _Outcome(ActionKind.HANDOFF, {"handoff_reason": "dispute"}, handoff=True)
        return _Outcome(ActionKind.EXPLAIN_INELIGIBLE, {"ineligible": facts})

    # --- replying and storing ---------------------------------------------------------------

    def _reply(
        self,
        chat: ChatModel | None,
        outcome: _Outcome,
        intent: ShopperIntent,
        now: datetime,
        agent_active: bool,
        message: str,
        timer: _Timer,
        on_text: Callable[[str], None] | None = None,
    ) -> tuple[str, list[Recommendation], str]:
        if agent_active:
            return "", [], "off"
        currency = self.shop.currency
        recs = []
        for position, (item, score, propensity) in enumerate(outcome.items):
            reason = why_line(
                item,
                language=intent.language,
                currency=currency,
                now=now,
                max_price=intent.max_price,
            )
            recs.append(Recommendation(uuid.uuid4().hex, position, item, reason, score, propensity))
        facts = ReplyFacts(
            action=outcome.action,
            language=intent.language,
            currency=currency.code,
            now=now,
            items=tuple(item for item, _, _ in outcome.items),
            max_price=intent.max_price,
            min_price=intent.min_price,
            **outcome.facts,
        )
        if chat is None or str(outcome.action) not in PHRASED_ACTIONS or not facts.items:
            return render_reply(facts), recs, "off" if chat is None else "template"
        request = intent.query or " ".join(intent.categories) or message[:80]
        numbers = [Decimal(n) for n in _NUMBER.findall(message)]

        def first_text(text: str) -> None:
            # From the start of the turn to the first guard-checked text a client could show.
            timer.ms.setdefault("first_token", (time.perf_counter() - timer.started) * 1000)
            if on_text is not None:
                on_text(text)

        try:
            guarded = phrase_reply(
                chat,
                facts,
                currency=currency,
                request=request,
                shopper_numbers=numbers,
                timeout_s=self.llm_timeout_s,
                on_text=first_text,
            )
        except LLMError as exc:
            self._degraded("phrasing", exc)
            return render_reply(facts), recs, "failed"
        self.llm_status = "ok"
        return guarded.text, recs, guarded.source

    def _store(
        self,
        user_id: str,
        read: _Read,
        state: DialogueState,
        message: str,
        reply: str,
        recs: Sequence[Recommendation],
        outcome: _Outcome,
        turn_id: str,
        now: datetime,
    ) -> tuple[str, str | None, bool]:
        with self.shop.sessions.begin() as session:
            # Core statements only, and no read of what _read already read: a new user is one
            # INSERT ... ON CONFLICT DO NOTHING, a known one is written only when its standing
            # preferences changed.
            prefs = {
                "personalization": state.personalization,
                "not_interested": list(state.not_interested),
            }
            stored = read.preferences
            changed = (stored or {}) != prefs and bool(
                stored or not state.personalization or state.not_interested
            )
            if stored is None:
                store.ensure_user(session, user_id, now=now, preferences=prefs if changed else None)
            elif changed:
                turn_sql.update_preferences(session, user_id, prefs)
            values = {"state": state.to_json(), "summary": summarize(state), "updated_at": now}
            if outcome.handoff:
                values["handoff"] = True
            if read.record is None:
                session_id = uuid.uuid4().hex
                try:
                    turn_sql.insert_session(
                        session,
                        {
                            "id": session_id,
                            "user_id": user_id,
                            "created_at": now,
                            "agent_active": False,
                            "handoff": False,
                            **values,
                        },
                    )
                except IntegrityError as exc:
                    # The user row this turn read is gone: forgotten meanwhile.
                    raise UnknownEntityError(
                        f"user {user_id!r} was forgotten meanwhile; send the message again"
                    ) from exc
                handoff = outcome.handoff
            else:
                session_id = read.record.id
                found = turn_sql.update_session(session, session_id, user_id, values)
                if found is None:
                    raise UnknownEntityError(f"session {session_id!r} was deleted meanwhile")
                handoff = found
            messages = [{"role": "shopper", "text": message}]
            if reply:
                messages.append({"role": "assistant", "text": reply})
            decision: dict[str, Any] | None = None
            decision_id = None
            if recs and outcome.decision is not None:
                decision_id = uuid.uuid4().hex
                revisions = {d.activity_id: d.revision for r in recs for d in r.item.deals}
                decision = {
                    "id": decision_id,
                    "turn_id": turn_id,
                    "session_id": session_id,
                    "user_id": user_id,
                    "created_at": now,
                    "candidate_ids": outcome.decision["candidate_ids"],
                    "scores": outcome.decision["scores"],
                    "propensities": [r.propensity for r in recs],
                    "chosen_ids": [r.item.id for r in recs],
                    "positions": [r.position for r in recs],
                    "ranker_version": self.ranker.version,
                    "policy_version": outcome.decision.get(
                        "policy_version", logged_version(self.policy)
                    ),
                    "params_version": "-",
                    "activity_revisions": revisions,
                    "context": {
                        "action": str(outcome.action),
                        "slate_propensity": outcome.decision["slate_propensity"],
                        "conditional": outcome.decision["conditional"],
                        "filters": outcome.decision["filters"],
                        "n_candidates": outcome.decision["n_candidates"],
                        "reasons": [r.reason for r in recs],
                        "final_prices": [r.item.final_price for r in recs],
                        **{
                            key: outcome.decision[key]
                            for key in ("constraints", "ab", "shadow")
                            if key in outcome.decision
                        },
                    },
                }
            turn_sql.insert_turn_rows(
                session,
                [
                    {
                        "id": uuid.uuid4().hex,
                        "session_id": session_id,
                        "turn_id": turn_id,
                        "created_at": now,
                        **m,
                    }
                    for m in messages
                ],
                decision,
                [
                    {
                        "id": r.impression_id,
                        "decision_id": decision_id,
                        "position": r.position,
                        "kind": r.item.kind,
                        "item_id": r.item.id,
                        "activity_ids": list(r.item.activity_ids),
                        "propensity": r.propensity,
                        "created_at": now,
                    }
                    for r in recs
                ],
            )
            return session_id, decision_id, handoff
