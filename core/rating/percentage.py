# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Percentage charge: a rate on an amount, plus per-transaction terms.

``units`` is the amount (e.g. the period's payment volume) and
``transactions`` describes the transactions it is made of, in order:

* a list of the transaction amounts (their sum must equal ``units``): every
  property is available;
* a count (``int``): enough when no property depends on each transaction's
  amount, i.e. without ``free_transactions``, per-transaction minimum or
  maximum, and without ``free_amount`` when there is a ``fixed_fee``;
* ``None``: the rate on the amount only (no ``fixed_fee`` either).

A combination that needs more than it was given raises :class:`RatingError`
rather than guessing.

Properties:

* ``rate``: percentage, 0 to 100 (``Decimal("1")`` is 1%);
* ``fixed_fee``: charged on every transaction that is not free (0);
* ``free_transactions``: the first N transactions are free, entirely (0);
* ``free_amount``: the first X of the amount is free; a transaction it covers
  entirely is free, one it covers in part pays the rate on the rest plus the
  fixed fee (0).  Set ``free_transactions`` or ``free_amount``, not both,
  unless ``free_whichever_first``;
* ``free_whichever_first`` (false): with both ``free_transactions`` and
  ``free_amount``, the transactions are free until either runs out (as
  Lago's free units per event and per total): the first N transactions,
  within the free amount; the transaction that goes past the free amount
  pays the rate on the rest plus the fixed fee;
* ``per_transaction_min_amount`` / ``per_transaction_max_amount``: bounds of
  what each transaction that is not free costs, rate and fee included
  (``None``: no bound).

Included units (``rate(..., included_units=X)``) are an allowance on the
amount, used before the free terms: with a list, on the first transactions
(a transaction it covers entirely is not priced at all).

Example: 1% + 0.30 per transaction, 0.50 minimum and 5.00 maximum per
transaction; 10.00, 9,590.00 and 400.00 cost 0.50 (0.40 raised to the
minimum) + 5.00 (96.20 capped) + 4.30 = 9.80.

Details, in order: the rate on the charged amount, the fixed fees (when
there are any), then what the per-transaction minimum added and the maximum
took off (when they did).
"""

from dataclasses import dataclass
from decimal import Decimal

from .base import (
    FEE,
    MAXIMUM,
    MINIMUM,
    RATE,
    ZERO,
    RatingError,
    TierDetail,
    check_keys,
    english_phrase,
    flag,
    non_negative,
    optional_non_negative,
    rate_fraction,
    register,
    whole_number,
)

MODEL = "percentage"
PROPERTIES = ("rate",)
OPTIONAL = (
    "fixed_fee",
    "free_transactions",
    "free_amount",
    "per_transaction_min_amount",
    "per_transaction_max_amount",
    "free_whichever_first",
)


@dataclass(frozen=True)
class Terms:
    rate: Decimal  # fraction: 0.01 is 1%
    fixed_fee: Decimal
    free_transactions: int
    free_amount: Decimal
    minimum: Decimal | None
    maximum: Decimal | None
    whichever_first: bool = False

    @property
    def needs_amounts(self):
        """Whether the result depends on each transaction's amount."""
        return bool(
            self.free_transactions
            or self.minimum is not None
            or self.maximum is not None
            or (self.free_amount and self.fixed_fee)
        )


def parse(properties):
    check_keys(MODEL, properties, PROPERTIES, OPTIONAL)
    get = properties.get
    terms = Terms(
        rate_fraction(properties["rate"], f"{MODEL}: 'rate'"),
        non_negative(get("fixed_fee", 0), f"{MODEL}: 'fixed_fee'"),
        whole_number(get("free_transactions", 0), f"{MODEL}: 'free_transactions'"),
        non_negative(get("free_amount", 0), f"{MODEL}: 'free_amount'"),
        optional_non_negative(
            get("per_transaction_min_amount"), f"{MODEL}: 'per_transaction_min_amount'"
        ),
        optional_non_negative(
            get("per_transaction_max_amount"), f"{MODEL}: 'per_transaction_max_amount'"
        ),
        flag(get("free_whichever_first", False), f"{MODEL}: 'free_whichever_first'"),
    )
    if terms.free_transactions and terms.free_amount and not terms.whichever_first:
        raise RatingError(
            f"{MODEL}: set either 'free_transactions' or 'free_amount', not both "
            f"(or 'free_whichever_first': free until either runs out)."
        )
    if (
        terms.minimum is not None
        and terms.maximum is not None
        and terms.minimum > terms.maximum
    ):
        raise RatingError(
            f"{MODEL}: 'per_transaction_min_amount' ({terms.minimum}) is greater "
            f"than 'per_transaction_max_amount' ({terms.maximum})."
        )
    return terms


def _check_transactions(terms, transactions):
    if isinstance(transactions, tuple):
        return
    if terms.needs_amounts:
        raise RatingError(
            f"{MODEL}: free transactions, per-transaction minimum or maximum, and "
            f"a free amount with a fixed fee depend on each transaction's amount: "
            f"pass 'transactions' as the list of transaction amounts."
        )
    if transactions is None and terms.fixed_fee:
        raise RatingError(
            f"{MODEL}: a fixed fee per transaction needs 'transactions': their "
            f"number, or the list of their amounts."
        )


@register(
    MODEL,
    parse=parse,
    transactions=True,
    properties=PROPERTIES,
    optional=OPTIONAL,
)
def price(units, terms, transactions):
    _check_transactions(terms, transactions)
    if not isinstance(transactions, tuple):
        base = max(units - terms.free_amount, ZERO)
        charged = transactions or 0
        added = taken = ZERO
        raised = capped = 0
    else:
        base, charged, raised, added, capped, taken = _per_transaction(
            terms, transactions
        )
    details = [
        TierDetail(
            base, terms.rate, ZERO, base * terms.rate, terms.free_amount, None, RATE
        )
    ]
    if charged and terms.fixed_fee:
        count = Decimal(charged)
        details.append(
            TierDetail(
                count,
                terms.fixed_fee,
                ZERO,
                count * terms.fixed_fee,
                kind=FEE,
                note=english_phrase("per_transaction"),
                note_key="per_transaction",
            )
        )
    if raised:
        details.append(
            TierDetail(
                Decimal(raised),
                ZERO,
                added,
                added,
                kind=MINIMUM,
                **_transactions_note("minimum_per_transaction", raised),
            )
        )
    if capped:
        details.append(
            TierDetail(
                Decimal(capped),
                ZERO,
                taken,
                taken,
                kind=MAXIMUM,
                **_transactions_note("maximum_per_transaction", capped),
            )
        )
    return details


def _transactions_note(key, count):
    """The note of a per-transaction minimum or maximum of ``count``
    transactions (its English text, key and values)."""
    english = key + ("_plural" if count > 1 else "")
    return {
        "note": english_phrase(english, count=count),
        "note_key": key,
        "note_values": (("count", count),),
    }


def _per_transaction(terms, transactions):
    """Walk the transactions in order; see the module docstring."""
    base = added = taken = ZERO
    charged = raised = capped = 0
    free_count = terms.free_transactions
    free_left = terms.free_amount
    both = bool(free_count and free_left)
    for amount in transactions:
        if both:
            # Free while both last: the Nth transaction within the free amount.
            if free_count and free_left:
                free_count -= 1
                if amount <= free_left:
                    free_left -= amount
                    continue
                amount -= free_left
                free_left = ZERO
        elif free_count:
            free_count -= 1
            continue
        elif free_left:
            if amount <= free_left:
                free_left -= amount
                continue
            amount -= free_left
            free_left = ZERO
        base += amount
        charged += 1
        charge = amount * terms.rate + terms.fixed_fee
        if terms.minimum is not None and charge < terms.minimum:
            raised += 1
            added += terms.minimum - charge
        elif terms.maximum is not None and charge > terms.maximum:
            capped += 1
            taken += terms.maximum - charge
    return base, charged, raised, added, capped, taken
