"""The Gradio app at ``/ui``: the Shopper tab (chat, recommendation cards, coupons).

A shopper types a message and the reply streams in; up to three recommendation cards show the
image, title, list price, final price after the best deal for this shopper now, a deal badge, a
countdown for flash sales, the why-line and the cart gap. Each card can **claim** its coupon (the
shopper sees the code, or why not), go **to the cart** or be **dismissed**; "My coupons" lists the
user's claims from SQL. English / 中文 switches the labels; the assistant reads the language from
each message.

Nothing here talks HTTP to its own server. Turns run through :func:`ui.api._turns.stream_turn`
(what ``POST /v1/chat/stream`` runs), claims through :meth:`assistant.app.Shop.claim` (what
``POST /v1/claims`` runs) and feedback through :func:`assistant.store.record_feedback` (what
``POST /v1/feedback`` runs), each with the card's ``impression_id``; so everything the tab does
lands in the same SQL rows (``claims``, ``feedback_events``) as the API's.

Identity: the tab acts as the user id typed in its box, as the API's dev rule trusts a body's
``user_id``. Outside dev mode it refuses to act (shops embed ``/widget.js`` with signed tokens).

Example:
    >>> from fastapi import FastAPI  # doctest: +SKIP
    >>> app = FastAPI()  # doctest: +SKIP
    >>> mount_ui(app, lambda: app.state.runtime, dev=True)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ui.api._runtime import Runtime
from ui.gradio_app._admin import admin_tab
from ui.gradio_app._cards import card_html, claimable_activity, coupons_html
from ui.gradio_app._console import console_tab
from ui.gradio_app._insights import insights_tab
from ui.gradio_app._shopper import Action, ActionOutcome, ShopperTab, State, UiRefused
from ui.gradio_app._text import CSS, DEFAULT_USER, LANGUAGES, MAX_USER_CHARS, SLOTS, Lang, t

if TYPE_CHECKING:
    import gradio as gr
    from fastapi import FastAPI

__all__ = [
    "DEFAULT_USER",
    "SLOTS",
    "ActionOutcome",
    "ShopperTab",
    "UiRefused",
    "build_ui",
    "card_html",
    "claimable_activity",
    "coupons_html",
    "mount_ui",
]


def _button_handler(
    tab: ShopperTab, slot: int, action: Action
) -> Callable[[str, str, State | None], Any]:
    async def handler(user_id: str, language: str, state: State | None) -> list[Any]:
        return await tab.act(slot, action, user_id, language, state)

    return handler


def build_ui(runtime: Callable[[], Runtime], *, dev: bool) -> gr.Blocks:
    """The Gradio Blocks of ``/ui``: one tab per kind of user.

    Args:
        runtime: Returns the server's runtime (looked up per call: it exists once started).
        dev: Whether the user id box is trusted; outside dev the tab explains and refuses.
    """
    import gradio as gr

    blocks = gr.Blocks(title="shopassist", analytics_enabled=False)
    with blocks:
        _shopper_tab(blocks, runtime, dev=dev)
        console_tab(blocks, runtime, dev=dev)
        insights_tab(blocks, runtime)
        admin_tab(blocks, runtime)
    return blocks


def _shopper_tab(blocks: gr.Blocks, runtime: Callable[[], Runtime], *, dev: bool) -> None:
    """The Shopper tab and its events (called inside ``blocks``)."""
    import gradio as gr

    tab = ShopperTab(runtime, dev=dev)
    lang: Lang = "en"
    state = gr.State(ShopperTab.new_state())
    with gr.Tab(t("tab", lang), id="shopper"):
        with gr.Row():
            user = gr.Textbox(
                DEFAULT_USER,
                label=t("user", lang),
                max_length=MAX_USER_CHARS,
                scale=2,
                elem_id="sa-user",
            )
            language = gr.Radio(
                list(LANGUAGES),
                value="English",
                label=t("language", lang),
                scale=1,
                elem_id="sa-language",
            )
        hint = gr.Markdown(t("hint", lang) if dev else t("dev_only", lang), elem_id="sa-hint")
        with gr.Row(equal_height=False):
            with gr.Column(scale=5):
                chat = gr.Chatbot(
                    label=t("chat", lang),
                    height=460,
                    latex_delimiters=[],
                    feedback_options=None,
                    elem_id="sa-chat",
                )
                with gr.Row():
                    message = gr.Textbox(
                        label=t("message", lang),
                        placeholder=t("placeholder", lang),
                        max_length=2000,
                        scale=5,
                        elem_id="sa-message",
                        interactive=dev,
                    )
                    send = gr.Button(
                        t("send", lang),
                        variant="primary",
                        scale=1,
                        elem_id="sa-send",
                        interactive=dev,
                    )
            with gr.Column(scale=6):
                slots: list[Any] = []
                buttons: list[tuple[int, Action, Any]] = []
                for i in range(SLOTS):
                    with gr.Column(visible=False, elem_id=f"sa-slot-{i}") as column:
                        card = gr.HTML("", elem_id=f"sa-card-{i}", css_template=CSS)
                        with gr.Row():
                            claim = gr.Button(
                                t("claim", lang),
                                size="sm",
                                variant="primary",
                                elem_id=f"sa-claim-{i}",
                            )
                            cart = gr.Button(t("cart", lang), size="sm", elem_id=f"sa-cart-{i}")
                            dismiss = gr.Button(
                                t("dismiss", lang),
                                size="sm",
                                variant="secondary",
                                elem_id=f"sa-dismiss-{i}",
                            )
                    slots += [column, card, claim, cart, dismiss]
                    buttons += [(i, "claim", claim), (i, "add_to_cart", cart)]
                    buttons.append((i, "dismiss", dismiss))
        with gr.Accordion(t("coupons", lang), open=True, elem_id="sa-coupons-box") as box:
            coupons = gr.HTML("", elem_id="sa-coupons", css_template=CSS)
            refresh = gr.Button(t("refresh", lang), size="sm", elem_id="sa-refresh")

    turn_inputs = [message, user, language, state]
    turn_outputs = [chat, message, state, *slots]
    for trigger in (message.submit, send.click):
        trigger(
            tab.respond,
            turn_inputs,
            turn_outputs,
            concurrency_limit=None,
            show_progress="hidden",
        )
    for slot, action, button in buttons:
        button.click(
            _button_handler(tab, slot, action),
            [user, language, state],
            [state, coupons, *slots],
            concurrency_limit=None,
            show_progress="hidden",
        )
    for trigger in (refresh.click, blocks.load, user.blur):
        trigger(tab.coupons_view, [user, language], [coupons], concurrency_limit=None)
    language.change(
        tab.relabel,
        [language, state],
        [user, language, hint, chat, message, send, box, refresh, *slots],
        show_progress="hidden",
    ).then(tab.coupons_view, [user, language], [coupons])


GRADIO_IDLE_POLL_S = 0.02
"""How often an idle Gradio queue looks for work (Gradio's own default: 1 ms)."""
GRADIO_PROGRESS_POLL_S = 0.1
"""How often it looks for progress to send (Gradio's: 10 ms)."""


def mount_ui(app: FastAPI, runtime: Callable[[], Runtime], *, dev: bool) -> None:
    """Mount the Gradio app at ``/ui`` on ``app`` and redirect ``/`` there.

    Args:
        app: The server's FastAPI app.
        runtime: Returns the app's runtime (``app.state.runtime`` once started).
        dev: Whether the Shopper tab trusts its user id box (dev mode).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        # Gradio makes its locks with safe_get_lock / safe_get_stop_event, which create and set
        # a new event loop, never closed, whenever none is running: every app built outside a
        # loop leaked a few ("ResourceWarning: unclosed socket"). Build inside a short-lived one.
        async def mount() -> None:
            _mount_ui(app, runtime, dev=dev)

        with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
            runner.run(mount())
    else:
        _mount_ui(app, runtime, dev=dev)


def _mount_ui(app: FastAPI, runtime: Callable[[], Runtime], *, dev: bool) -> None:
    import gradio as gr
    from fastapi.responses import RedirectResponse

    blocks = build_ui(runtime, dev=dev)
    gr.mount_gradio_app(
        app,
        blocks,
        path="/ui",
        footer_links=[],
        run_history=False,
        show_error=True,
        ssr_mode=False,
        mcp_server=False,
        enable_monitoring=False,
    )
    # Gradio's queue polls for work every millisecond while idle (0.001 s on Linux) and for
    # progress every 10 ms: a share of every API worker's CPU, UI in use or not. A Gradio
    # event now waits at most 20 ms longer to start; its progress shows within 100 ms.
    queue = getattr(blocks, "_queue", None)
    if queue is not None:
        queue.sleep_when_free = max(queue.sleep_when_free, GRADIO_IDLE_POLL_S)
        queue.progress_update_sleep_when_free = max(
            queue.progress_update_sleep_when_free, GRADIO_PROGRESS_POLL_S
        )

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/ui/")
