"""The "Admin" tab: create, edit, schedule and end activities, with an eligibility preview.

Staff sign in with the admin password (:mod:`ui.gradio_app._staff`). The form holds one activity
in the catalog's terms (money as decimals in the shop currency, times in ISO 8601 with an offset,
a one-off window or an RRULE with a duration). **Load** fills the form with an activity's current
revision; **Preview** shows, for a sample of users, whether the form's activity would apply to
them and the final prices of in-scope products with it and without it, without saving anything;
**Save** creates the activity or stores the edit as a new revision; **End** ends it now. The
logic is :mod:`assistant.admin`; every handler checks the sign-in first.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from anyio import to_thread

from assistant.admin import (
    EligibilityPreview,
    activity_from_fields,
    create_activity,
    edit_activity,
    eligibility_preview,
    end_activity,
    sample_users,
)
from assistant.domain import Activity, ActivityStatus, ActivityType
from assistant.errors import ShopAssistError, ValidationError
from assistant.money import Currency
from assistant.schedule import aware
from assistant.store import ActivityRecord, get_activity
from ui.api._runtime import Runtime
from ui.gradio_app._staff import StaffRefused, StaffState, require_staff, sign_in

if TYPE_CHECKING:
    import gradio as gr

__all__ = ["FORM_FIELDS", "AdminTab", "admin_tab", "form_fields", "form_row", "preview_html"]

logger = logging.getLogger(__name__)

TEXT = {
    "tab": "Admin",
    "intro": "Shop staff: sign in with the shop's admin password to manage activities.",
    "name": "Your name",
    "password": "Password",
    "sign_in": "Sign in",
    "signed_in": "Signed in as **{name}**.",
    "form": "Activity",
    "form_hint": "Money in the shop currency (e.g. 12.50); times in ISO 8601 with an offset "
    "(2030-06-20T00:00:00Z). A one-off window needs a start and an end; a recurrence needs an "
    "RRULE (e.g. FREQ=DAILY) and a duration, the end then being optional. Lists are "
    "comma-separated; tiers are threshold:discount pairs (50.00:5.00, 100.00:15.00); a number "
    "left at 0 is not set.",
    "load": "Load",
    "preview": "Preview",
    "save": "Save",
    "end": "End now",
    "sample": "Users to sample",
    "at": "Preview at (blank: now, or the next start)",
    "results": "Eligibility preview",
    "no_users": "There are no users yet: nothing to preview.",
    "summary": "**{eligible} of {users}** sampled users would see **{id}** at {at} (UTC); "
    "{in_scope} products in scope, the first {shown} priced. Prices: with it (without it).",
    "loaded": "Loaded {id} revision {revision}.",
    "created": "Created {id} (revision 1).",
    "revised": "Saved {id} as revision {revision}.",
    "unchanged": "{id} is unchanged: no new revision.",
    "ended": "Ended {id} (revision {revision}).",
    "need_id": "Type the activity's id first.",
}

FORM_FIELDS = (
    "id",
    "type",
    "title",
    "status",
    "audience",
    "scope_all",
    "categories",
    "brands",
    "products",
    "starts_at",
    "ends_at",
    "rrule",
    "duration_minutes",
    "percent",
    "amount",
    "max_discount",
    "min_spend",
    "tiers",
    "min_quantity",
    "budget",
    "per_user_limit",
    "quantity_limit",
    "terms",
)
"""The form's inputs, in the order every handler takes them."""

_INTS = ("duration_minutes", "percent", "min_quantity", "per_user_limit", "quantity_limit")
_MONEY = ("amount", "max_discount", "min_spend", "budget")

Outputs = list[Any]


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _list(value: object) -> list[str]:
    return [part.strip() for part in _text(value).split(",") if part.strip()]


def _int(name: str, value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        if not value.is_integer():
            raise ValidationError(f"{name.replace('_', ' ')} {value} must be a whole number")
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValidationError(
            f"{name.replace('_', ' ')} {value!r} must be a whole number"
        ) from None


def _tiers(value: object) -> list[list[str]]:
    tiers = []
    for pair in _list(value):
        parts = [p.strip() for p in pair.split(":")]
        if len(parts) != 2 or not all(parts):
            raise ValidationError(
                f"tiers: {pair!r} is not threshold:discount; write e.g. 50.00:5.00, 100.00:15.00"
            )
        tiers.append(parts)
    return tiers


def form_row(values: dict[str, Any]) -> dict[str, Any]:
    """The form's values as a catalog activity row (validated by :mod:`assistant.admin`).

    Raises:
        ValidationError: a whole-number field that is not one, or malformed tiers.
    """
    row: dict[str, Any] = {"id": _text(values.get("id")), "type": _text(values.get("type"))}
    for name in ("title", "terms", "audience"):
        if text := _text(values.get(name)):
            row[name] = text
    if status := _text(values.get("status")):
        row["status"] = status
    if values.get("scope_all"):
        row["scope"] = {"all": True}
    else:
        row["scope"] = {
            name: items
            for name in ("categories", "brands", "products")
            if (items := _list(values.get(name)))
        }
    starts, ends, rule = (_text(values.get(n)) for n in ("starts_at", "ends_at", "rrule"))
    if rule:
        row["schedule"] = {
            "starts_at": starts or None,
            "rrule": rule,
            "duration_minutes": _int("duration_minutes", values.get("duration_minutes")) or None,
            "until": ends or None,
        }
    else:
        row["window"] = [starts or None, ends or None]
    for name in _INTS:
        # An empty number box sends 0; none of these may be 0, so 0 means "not set".
        if name != "duration_minutes" and (number := _int(name, values.get(name))):
            row[name] = number
    for name in _MONEY:
        if text := _text(values.get(name)):
            row[name] = text
    if tiers := _tiers(values.get("tiers")):
        row["tiers"] = tiers
    return row


def form_fields(activity: Activity, currency: Currency) -> list[Any]:
    """An activity's current revision as the form's values, in :data:`FORM_FIELDS` order."""

    def money(minor: int | None) -> str:
        return "" if minor is None else currency.format(minor)

    schedule = activity.schedule
    scope = activity.scope
    values: dict[str, Any] = {
        "id": activity.id,
        "type": activity.type.value,
        "title": activity.title,
        "status": activity.status.value,
        "audience": str(activity.audience),
        "scope_all": scope.all,
        "categories": ", ".join(scope.categories),
        "brands": ", ".join(scope.brands),
        "products": ", ".join(scope.products),
        "starts_at": schedule.starts_at.isoformat(),
        "ends_at": "" if schedule.ends_at is None else schedule.ends_at.isoformat(),
        "rrule": schedule.rrule or "",
        "duration_minutes": None
        if schedule.duration is None
        else int(schedule.duration.total_seconds() // 60),
        "percent": activity.percent,
        "amount": money(activity.amount),
        "max_discount": money(activity.max_discount),
        "min_spend": money(activity.min_spend),
        "tiers": ", ".join(f"{money(t.threshold)}:{money(t.discount)}" for t in activity.tiers),
        "min_quantity": activity.min_quantity,
        "budget": money(activity.budget),
        "per_user_limit": activity.per_user_limit,
        "quantity_limit": activity.quantity_limit,
        "terms": activity.terms,
    }
    return [values[name] for name in FORM_FIELDS]


def preview_html(preview: EligibilityPreview, currency: Currency) -> str:
    """One row per user (``data-user``): whether they see it, why not, and each priced
    product's final price with the activity (and without it)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in ("User", "Sees it", "Reason"))
    head += "".join(f"<th>{_e(pid)}</th>" for pid in preview.products)
    rows = []
    for user in preview.users:
        cells = [user.user_id, "yes" if user.eligible else "no", str(user.reason or "")]
        for price in user.prices:
            cell = f"{currency.format(price.final_price)} ({currency.format(price.without)})"
            if price.needs_claim:
                cell += " after claiming"
            cells.append(cell)
        kind = "sa-yes" if user.eligible else "sa-no"
        rows.append(
            f"<tr class='{kind}' data-user='{_e(user.user_id)}'>"
            + "".join(f"<td>{_e(c)}</td>" for c in cells)
            + "</tr>"
        )
    return f"<table class='sa-admin-table'><tr>{head}</tr>{''.join(rows)}</table>"


def _preview_moment(activity: Activity, at_text: str, now: datetime) -> datetime:
    if at_text:
        try:
            return aware(datetime.fromisoformat(at_text), "preview time")
        except ValueError:
            raise ValidationError(
                f"preview time {at_text!r} is not ISO 8601; write e.g. 2030-06-20T12:00:00Z"
            ) from None
    if activity.schedule.window_at(now) is None:
        upcoming = activity.schedule.next_start(now)
        if upcoming is not None:
            return upcoming
    return now


class AdminTab:
    """The Admin tab's handlers (each returns the list of its outputs' updates).

    Args:
        runtime: Returns the server's runtime (it exists once the app has started).
    """

    def __init__(self, runtime: Callable[[], Runtime]) -> None:
        self._runtime = runtime

    @property
    def runtime(self) -> Runtime:
        """The server's runtime."""
        return self._runtime()

    def _activity(self, values: Sequence[Any]) -> Activity:
        shop = self.runtime.shop
        row = form_row(dict(zip(FORM_FIELDS, values, strict=True)))
        return activity_from_fields(row, shop.settings)

    # --- the work (in a worker thread) --------------------------------------------------------

    def load(self, activity_id: str) -> list[Any]:
        """(status, *form values) of the activity's current revision."""
        activity_id = _text(activity_id)
        if not activity_id:
            raise ValidationError(TEXT["need_id"])
        shop = self.runtime.shop
        with shop.sessions() as session:
            activity = get_activity(session, activity_id)
        message = TEXT["loaded"].format(id=activity.id, revision=activity.revision)
        return [message, *form_fields(activity, shop.currency)]

    def preview(self, values: Sequence[Any], sample: Any, at_text: str) -> list[Any]:
        """(status, summary, results table)."""
        activity = self._activity(values)
        runtime = self.runtime
        shop = runtime.shop
        size = _int("users to sample", sample) or 100
        at = _preview_moment(activity, _text(at_text), runtime.clock())
        with shop.sessions() as session:
            users = sample_users(session, size, seed=0)
            if not users:
                return ["", TEXT["no_users"], ""]
            preview = eligibility_preview(
                session, activity, users, at, shipping_fee=shop.settings.shipping_fee_minor
            )
        summary = TEXT["summary"].format(
            eligible=preview.eligible_count,
            users=len(preview.users),
            id=_e(activity.id),
            at=f"{preview.at:%Y-%m-%d %H:%M}",
            in_scope=preview.in_scope,
            shown=len(preview.products),
        )
        return ["", summary, preview_html(preview, shop.currency)]

    def save(self, values: Sequence[Any]) -> str:
        """Create the activity, or store the edit as a new revision; the status line."""
        activity = self._activity(values)
        runtime = self.runtime
        now = runtime.clock()
        with runtime.shop.sessions.begin() as session:
            if session.get(ActivityRecord, activity.id) is None:
                create_activity(session, activity, now=now)
                return TEXT["created"].format(id=activity.id)
            made = edit_activity(session, activity, now=now)
        if not made.new_revision:
            return TEXT["unchanged"].format(id=activity.id)
        return TEXT["revised"].format(id=activity.id, revision=made.revision)

    def end(self, activity_id: str) -> str:
        """End the activity now; the status line."""
        activity_id = _text(activity_id)
        if not activity_id:
            raise ValidationError(TEXT["need_id"])
        runtime = self.runtime
        with runtime.shop.sessions.begin() as session:
            made = end_activity(session, activity_id, now=runtime.clock())
        return TEXT["ended"].format(id=activity_id, revision=made.revision)

    # --- handlers -----------------------------------------------------------------------------

    async def sign_in(self, name: str, password: str) -> Outputs:
        """(staff state, status, sign-in row, main column)."""
        import gradio as gr

        try:
            staff = sign_in(self._runtime, name, password)
        except StaffRefused as exc:
            return [StaffState(), f"⚠️ {exc}", gr.skip(), gr.skip()]
        return [
            staff,
            TEXT["signed_in"].format(name=_e(staff.name)),
            gr.update(visible=False),
            gr.update(visible=True),
        ]

    async def _run(self, staff: StaffState | None, work: Callable[[], Any], n: int) -> Outputs:
        """Run ``work`` after the sign-in check; a refusal fills the status, skips the rest."""
        import gradio as gr

        try:
            require_staff(staff)
            result = await to_thread.run_sync(work)
        except (StaffRefused, ShopAssistError) as exc:
            return [f"⚠️ {exc}", *[gr.skip()] * (n - 1)]
        return result if isinstance(result, list) else [result]

    async def on_load(self, staff: StaffState | None, activity_id: str) -> Outputs:
        """(status, *form)."""
        return await self._run(staff, partial(self.load, activity_id), 1 + len(FORM_FIELDS))

    async def on_preview(self, staff: StaffState | None, *inputs: Any) -> Outputs:
        """(status, summary, results)."""
        *values, sample, at_text = inputs
        return await self._run(staff, partial(self.preview, values, sample, at_text), 3)

    async def on_save(self, staff: StaffState | None, *values: Any) -> Outputs:
        """(status,)."""
        return await self._run(staff, partial(self.save, values), 1)

    async def on_end(self, staff: StaffState | None, activity_id: str) -> Outputs:
        """(status,)."""
        return await self._run(staff, partial(self.end, activity_id), 1)


def admin_tab(blocks: gr.Blocks, runtime: Callable[[], Runtime]) -> None:
    """The Admin tab and its events; call inside ``blocks``.

    Args:
        blocks: The app's Blocks (open).
        runtime: Returns the server's runtime.
    """
    import gradio as gr

    del blocks  # the tab needs no app-wide events
    tab = AdminTab(runtime)
    staff = gr.State(StaffState())

    def field(name: str, label: str, **options: Any) -> Any:
        return gr.Textbox(label=label, elem_id=f"sa-admin-{name.replace('_', '-')}", **options)

    def number(name: str, label: str) -> Any:
        return gr.Number(
            label=label, precision=0, minimum=0, elem_id=f"sa-admin-{name.replace('_', '-')}"
        )

    with gr.Tab(TEXT["tab"], id="admin"):
        gr.Markdown(TEXT["intro"])
        with gr.Row(elem_id="sa-admin-login") as login:
            name = gr.Textbox(label=TEXT["name"], max_length=64, elem_id="sa-admin-name")
            password = gr.Textbox(
                label=TEXT["password"], type="password", elem_id="sa-admin-password"
            )
            signin = gr.Button(TEXT["sign_in"], variant="primary", elem_id="sa-admin-signin")
        status = gr.Markdown("", elem_id="sa-admin-status")
        with gr.Column(visible=False, elem_id="sa-admin-main") as main:
            gr.Markdown(f"### {TEXT['form']}\n{TEXT['form_hint']}")
            inputs: dict[str, Any] = {}
            with gr.Row():
                inputs["id"] = field("id", "Id", max_length=128)
                inputs["type"] = gr.Dropdown(
                    [t.value for t in ActivityType],
                    value=ActivityType.PERCENT_OFF.value,
                    label="Type",
                    elem_id="sa-admin-type",
                )
                inputs["title"] = field("title", "Title", max_length=300)
                inputs["status"] = gr.Dropdown(
                    [s.value for s in ActivityStatus],
                    value=ActivityStatus.ACTIVE.value,
                    label="Status",
                    elem_id="sa-admin-status-field",
                )
                inputs["audience"] = field(
                    "audience", "Audience (all, new_users, members, segment:NAME)", value="all"
                )
            with gr.Row():
                inputs["scope_all"] = gr.Checkbox(label="Whole catalog", elem_id="sa-admin-all")
                inputs["categories"] = field("categories", "Categories")
                inputs["brands"] = field("brands", "Brands")
                inputs["products"] = field("products", "Product ids")
            with gr.Row():
                inputs["starts_at"] = field("starts_at", "Starts at")
                inputs["ends_at"] = field("ends_at", "Ends at")
                inputs["rrule"] = field("rrule", "RRULE (recurring only)")
                inputs["duration_minutes"] = number("duration_minutes", "Duration (minutes)")
            with gr.Row():
                inputs["percent"] = number("percent", "Percent off")
                inputs["amount"] = field("amount", "Amount off")
                inputs["max_discount"] = field("max_discount", "Max discount")
                inputs["min_spend"] = field("min_spend", "Min spend")
                inputs["tiers"] = field("tiers", "Tiers")
            with gr.Row():
                inputs["min_quantity"] = number("min_quantity", "Min quantity (bundle)")
                inputs["budget"] = field("budget", "Budget")
                inputs["per_user_limit"] = number("per_user_limit", "Per-user limit")
                inputs["quantity_limit"] = number("quantity_limit", "Units on sale")
                inputs["terms"] = field("terms", "Terms")
            with gr.Row():
                sample = gr.Number(
                    100, label=TEXT["sample"], precision=0, minimum=1, maximum=1000,
                    elem_id="sa-admin-sample",
                )  # fmt: skip
                at = field("at", TEXT["at"])
            with gr.Row():
                load = gr.Button(TEXT["load"], elem_id="sa-admin-load")
                preview = gr.Button(TEXT["preview"], variant="primary", elem_id="sa-admin-preview")
                save = gr.Button(TEXT["save"], elem_id="sa-admin-save")
                end = gr.Button(TEXT["end"], variant="stop", elem_id="sa-admin-end")
            gr.Markdown(f"### {TEXT['results']}")
            summary = gr.Markdown("", elem_id="sa-admin-summary")
            results = gr.HTML("", elem_id="sa-admin-results")

    form = [inputs[name] for name in FORM_FIELDS]
    options: dict[str, Any] = {"concurrency_limit": None, "show_progress": "hidden"}
    for trigger in (signin.click, password.submit):
        trigger(tab.sign_in, [name, password], [staff, status, login, main], **options)
    load.click(tab.on_load, [staff, inputs["id"]], [status, *form], **options)
    preview.click(tab.on_preview, [staff, *form, sample, at], [status, summary, results], **options)
    save.click(tab.on_save, [staff, *form], [status], **options)
    end.click(tab.on_end, [staff, inputs["id"]], [status], **options)
