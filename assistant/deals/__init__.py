"""The deal engine: deterministic pricing of carts and items for one shopper, now.

Pure functions over domain values (no SQL, no LLM); see DESIGN.md "Deal model". The decisions
the engine makes, in the order it makes them:

* Money is integer minor units. Percentages round half up per line
  (:func:`assistant.money.percent_of`); ``max_discount`` caps apply after rounding, per line at
  the item level and on the in-scope subtotal at the order and coupon levels. No discount
  exceeds its base, and goods never cost less than zero (a coupon takes at most what the order
  level left).
* Scope: :meth:`assistant.domain.Scope.covers` (a category covers its subtree); audience:
  :meth:`assistant.domain.Audience.admits`. Each activity is checked once, with reasons in this
  order: status and schedule (``ended`` or past the last occurrence -> ``expired``; ``paused``
  or ``draft`` -> ``not_started``; before the first occurrence or between two ->
  ``not_started``), ``audience``, ``per_user_limit`` (uses >= limit), ``budget_exhausted``
  (a coupon whose remaining budget is below its :func:`full_value`, an uncapped percent coupon
  or any other type with nothing left), ``sold_out`` (a quantity limit with no units left),
  ``out_of_scope`` (covers no cart line), ``min_spend_not_met``. A coupon in ``held`` skips the
  per-user limit and the budget: both were settled when it was claimed.
* Levels, at most one activity per stacking group:

  1. item (``flash_sale``, ``percent_off``, ``member_day``): automatic, per line the largest
     discount (ties: lowest activity id). A quantity-limited one discounts at most its units
     left, shared by the lines in cart order.
  2. order (``threshold``: the highest tier its in-scope subtotal after the item level reaches;
     ``bundle``: ``amount``, or ``percent`` of that subtotal, once in-scope units reach
     ``min_quantity``).
  3. coupon (``coupon``, ``new_user``): on its in-scope subtotal after the item level (not
     after the order level), ``min_spend`` included; coupons held or claimable now count,
     ``needs_claim`` when not held. A coupon of unknown value (``value_known`` false) is never
     applied, never a gap candidate and not listed in ``ineligible``: it has nothing to give.
  4. shipping (``free_shipping``): the fee is waived when the goods total after all discounts
     reaches ``min_spend`` and the scope covers a cart line (lowest id when several qualify).

  Order and coupon deals are chosen together to minimise ``payable = goods_total + shipping``
  (a coupon can push the goods under the free-shipping minimum). Ties: lower payable, higher
  savings, fewer claims needed, then the smaller ``(order id, coupon id)`` with "none" first.
* ``ineligible`` lists every activity that does not apply with its reason; activities that
  could apply but lost to a better one are not in it. Free shipping's ``min_spend_not_met`` is
  judged on the chosen goods total.
* The gap is the smallest ``add = min_spend - base`` among activities whose scope covers a
  cart line: threshold tiers above their in-scope base, coupons short only of their
  ``min_spend``, and free shipping not reached on the goods total (it unlocks the fee paid).
  ``unlocks`` is the increase over what the group gives now; only positive ones count; ties
  go to the larger ``unlocks``, then the smaller id. Bundles are not candidates.
* ``valid_until`` of a deal is the end of its live occurrence (UTC); a quote's is the
  earliest among its deals.
* Duplicate cart lines of one product are merged; an empty cart, an unknown product or a
  quantity below 1 raises :class:`assistant.errors.CartError`.
"""

from __future__ import annotations

from assistant.deals._eligibility import claim_check, eligibility, full_value
from assistant.deals._engine import quote_cart, quote_item
from assistant.deals._model import AppliedDeal, CartQuote, DealContext, Gap, LineQuote

__all__ = [
    "AppliedDeal",
    "CartQuote",
    "DealContext",
    "Gap",
    "LineQuote",
    "claim_check",
    "eligibility",
    "full_value",
    "quote_cart",
    "quote_item",
]
