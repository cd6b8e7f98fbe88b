# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Building blocks shared by the charge models: errors, results, registry.

Conventions:

* Every figure is a :class:`~decimal.Decimal`.  Inputs may be ``Decimal``,
  ``int``, ``str`` or ``float`` (read through ``repr``, so ``0.1`` is
  ``Decimal("0.1")``); ``bool``, NaN and infinities are refused.
  :func:`to_decimal` is the one conversion: code that reads numbers from
  elsewhere (the database hands ``NUMERIC`` columns back as ``float``) goes
  through it, never through ``Decimal(float)``.
* Bounds: the engine rates at most :data:`MAX_UNITS` units and refuses a
  charge whose amount reaches :data:`MAX_AMOUNT` (an invoice line keeps its
  amount as a float, exact to the cent only below that), so it never returns
  an infinite, NaN or unstorable amount.
* Amounts are never rounded here: :attr:`RatingResult.amount` and every
  :class:`TierDetail` keep full precision; the invoice line rounds once, with
  the currency (:meth:`RatingResult.rounded`).
* ``amount == sum(detail.amount for detail in details)
  + minimum_adjustment + maximum_adjustment``, exactly.
* A charge model is one module that calls :func:`register` on its pricing
  function; see ``core/rating/__init__.py``.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext

from ..periods import quantize

ZERO = Decimal(0)
HUNDRED = Decimal(100)
_CENT = Decimal("0.01")
# Largest quantity rated, and the amount a charge must stay below.
MAX_UNITS = Decimal(10) ** 15
MAX_AMOUNT = Decimal(10) ** 13
# Enough digits to show any number the engine accepts, to the last decimal.
_FORMAT_CONTEXT = Context(prec=80)

# Kinds of TierDetail, which decide how explain() renders it.
TIER = "tier"  # units × unit price (+ flat fee)
PACKAGE = "package"  # packages × package price
RATE = "rate"  # amount × rate (unit_price is the rate as a fraction: 0.01 = 1%)
FEE = "fee"  # transactions × fixed fee per transaction
MINIMUM = "minimum"  # per-transaction minimums: what was added (flat_fee)
MAXIMUM = "maximum"  # per-transaction maximums: what was taken off (negative)
DYNAMIC = "dynamic"  # the sum of the events' own amounts (units = the sum)
PRORATED = "prorated"  # (units × unit price + flat fee) × days / full days


class RatingError(ValueError):
    """Raised for a charge that cannot be priced: bad model, properties or units."""


# ---------------------------------------------------------------- numbers


def to_decimal(value, what="value"):
    """``value`` as a finite Decimal, exactly; ``what`` names it in errors.

    A ``float`` is read through ``repr`` (the shortest text that gives it
    back: ``2.675`` is ``Decimal("2.675")``, not ``2.67499999...``); a ``str``
    (e.g. a ``NUMERIC`` cast to text in SQL) is read as written.
    """
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, bool) or value is None:
        raise RatingError(f"{what} must be a number, not {value!r}.")
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise RatingError(f"{what} must be a number, not {value!r}.") from None
    else:
        raise RatingError(
            f"{what} must be a Decimal, int or numeric string, not {value!r}."
        )
    if not number.is_finite():
        raise RatingError(f"{what} must be a finite number, not {value!r}.")
    return number


def non_negative(value, what):
    """``value`` as a Decimal that is zero or more."""
    number = to_decimal(value, what)
    if number < 0:
        raise RatingError(f"{what} must not be negative (got {number}).")
    return number


def optional_non_negative(value, what):
    """Like :func:`non_negative`, but ``None`` stays ``None`` (not set)."""
    return None if value is None else non_negative(value, what)


def whole_number(value, what):
    """``value`` as a non-negative ``int`` (a count)."""
    number = non_negative(value, what)
    if number != number.to_integral_value():
        raise RatingError(f"{what} must be a whole number (got {number}).")
    return int(number)


def flag(value, what):
    """An option: ``True``/``False``, or the number 1 or 0 (a boolean column
    read as a number)."""
    if isinstance(value, bool):
        return value
    number = to_decimal(value, what)
    if number not in (0, 1):
        raise RatingError(f"{what} is an option: true or false (got {number}).")
    return number == 1


def rate_fraction(value, what):
    """A percentage between 0 and 100, returned as a fraction (1 -> 0.01)."""
    number = to_decimal(value, what)
    if not 0 <= number <= HUNDRED:
        raise RatingError(
            f"{what} is a percentage and must be between 0 and 100 (got {number})."
        )
    return number / HUNDRED


def check_keys(model, properties, required, optional=()):
    """Refuse a non-dict, missing keys and unknown (misspelt) keys."""
    if not isinstance(properties, dict):
        raise RatingError(
            f"{model}: the properties must be a dict, not {type(properties).__name__}."
        )
    allowed = (*required, *optional)
    unknown = sorted(set(properties) - set(allowed), key=str)
    if unknown:
        raise RatingError(
            f"{model}: unknown propert{'ies' if len(unknown) > 1 else 'y'} "
            f"{', '.join(map(repr, unknown))}; expected {', '.join(allowed)}."
        )
    missing = [key for key in required if key not in properties]
    if missing:
        raise RatingError(
            f"{model}: missing propert{'ies' if len(missing) > 1 else 'y'} "
            f"{', '.join(map(repr, missing))}."
        )


# ---------------------------------------------------------------- tiers


# The properties of each tier of a model priced by tiers (``tiers`` of
# :func:`register`), by the name of its price: see :func:`parse_tiers`.
def tier_properties(price_key="unit_price"):
    return ("from", "to", price_key, "flat_fee")


@dataclass(frozen=True)
class Tier:
    """Units in ``(from_, to]`` (``to=None``: no upper bound)."""

    from_: Decimal
    to: Decimal | None
    price: Decimal  # unit price, or rate as a fraction for percentage tiers
    flat_fee: Decimal


def parse_tiers(model, properties, price_key="unit_price", percent=False, optional=()):
    """Validated :class:`Tier` list from ``properties["tiers"]``.

    Tiers are dicts ``{"from", "to", price_key, "flat_fee"}`` (``flat_fee``
    optional, 0 by default): the first starts at 0, each next one starts where
    the previous one ends, the last one has ``"to": None``.  ``percent``:
    ``price_key`` is a percentage (0 to 100), stored as a fraction.
    ``optional``: the model's options, allowed beside ``tiers`` (the model
    reads them).
    """
    check_keys(model, properties, ("tiers",), optional)
    raw = properties["tiers"]
    if not isinstance(raw, list | tuple) or not raw:
        raise RatingError(f"{model}: 'tiers' must be a non-empty list of tiers.")
    tiers = []
    previous_to = ZERO
    last = len(raw)
    for number, item in enumerate(raw, 1):
        name = f"{model}: tier {number}"
        check_keys(name, item, ("from", "to", price_key), ("flat_fee",))
        start = non_negative(item["from"], f"{name} 'from'")
        if start != previous_to:
            if number == 1:
                raise RatingError(
                    f"{name} starts at {fmt_units(start)}: the first tier must "
                    f"start at 0."
                )
            problem = (
                f"the units between {fmt_units(previous_to)} and "
                f"{fmt_units(start)} are in no tier (gap)"
                if start > previous_to
                else "it overlaps the previous tier"
            )
            raise RatingError(
                f"{name} starts at {fmt_units(start)} but tier {number - 1} ends "
                f"at {fmt_units(previous_to)}: {problem}. Make tier {number} "
                f"start at {fmt_units(previous_to)}."
            )
        end = item["to"]
        if end is None:
            if number != last:
                raise RatingError(
                    f"{name} has no upper bound ('to': None) but is not the last "
                    f"tier: only the last tier may be open-ended."
                )
        else:
            end = to_decimal(end, f"{name} 'to'")
            if end <= start:
                raise RatingError(
                    f"{name} ends at {fmt_units(end)}, not after its start "
                    f"{fmt_units(start)}: 'to' must be greater than 'from'."
                )
            if number == last:
                raise RatingError(
                    f"{name}, the last tier, ends at {fmt_units(end)}: set its "
                    f"'to' to None so that every quantity is priced."
                )
        if percent:
            price = rate_fraction(item[price_key], f"{name} '{price_key}'")
        else:
            price = non_negative(item[price_key], f"{name} '{price_key}'")
        flat_fee = non_negative(item.get("flat_fee", ZERO), f"{name} 'flat_fee'")
        tiers.append(Tier(start, end, price, flat_fee))
        previous_to = end
    return tuple(tiers)


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class TierDetail:
    """One term of a charge: ``amount == units * unit_price + flat_fee``.

    ``from_``/``to`` bound the tier (``to=None``: open).  ``kind`` tells
    :meth:`RatingResult.explain` how to render it; for ``rate`` details the
    units are an amount of money and ``unit_price`` the rate as a fraction;
    ``minimum``/``maximum`` details (per-transaction limits of the percentage
    model) count the transactions concerned in ``units`` and carry what was
    added (positive) or taken off (negative) in ``flat_fee`` and ``amount``;
    a ``dynamic`` detail is the sum of the events' amounts (``units`` and
    ``amount``, at the price 1; its note counts the events); a ``prorated``
    detail (a volume charge on a partial period) has ``amount == (units *
    unit_price + flat_fee) * days / full_days``, the share in its note.
    """

    units: Decimal
    unit_price: Decimal
    flat_fee: Decimal
    amount: Decimal
    from_: Decimal = ZERO
    to: Decimal | None = None
    kind: str = TIER
    note: str = ""
    # The note as a phrase key and its values, for a translated rendering
    # (see :data:`ENGLISH_PHRASES`); ``note`` is its English text.
    note_key: str = ""
    note_values: tuple = ()


@dataclass(frozen=True)
class RatingResult:
    """A priced charge.

    * ``units``: as given, before the allowance (for the percentage models,
      the amount the rate applies to);
    * ``amount``: unrounded total, after the period minimum and maximum;
    * ``unit_amount``: ``amount / units``, ``None`` when ``units`` is 0;
    * ``details``: the terms, in order; they add up to
      ``amount - minimum_adjustment - maximum_adjustment``;
    * ``included_units_used``: the part of ``units`` the allowance covered;
    * ``minimum_adjustment``: added to reach the period minimum (>= 0);
    * ``maximum_adjustment``: taken off to respect the period maximum (<= 0).
    """

    model: str
    units: Decimal
    amount: Decimal
    unit_amount: Decimal | None
    details: tuple = field(default_factory=tuple)
    included_units_used: Decimal = ZERO
    minimum_adjustment: Decimal = ZERO
    maximum_adjustment: Decimal = ZERO

    @property
    def priced_units(self):
        """Units left to price once the allowance is used."""
        return self.units - self.included_units_used

    def rounded(self, quantum):
        """The amount rounded to the currency's quantum (e.g. ``"0.01"``)."""
        return quantize(self.amount, quantum)

    def explain(self, decimals=None):
        """The computation as text, e.g. ``1,000 × 0.10 + 9,000 × 0.05``.

        Units get thousands separators and no useless zeros; prices and money
        keep at least 2 decimals (``0.10``, ``0.0008``, ``10.00``).
        ``decimals``: show units rounded to that many decimals (an average).
        """
        return render_terms(self.explain_terms(decimals))

    def explain_terms(self, decimals=None):
        """The computation as structured terms, for a rendering in another
        language (:func:`render_terms` with the language's formatters).

        Each term is a dict with a ``kind``:

        * ``included``: ``units`` covered by the allowance;
        * ``tier``, ``package``, ``fee``: ``units`` × ``unit_price``
          (+ ``flat_fee``), ``rate``: an amount (``units``) × a rate;
        * ``minimum``/``maximum`` (per transaction): the ``amount`` added or
          taken off;
        * ``period_minimum``/``period_maximum``: the ``amount`` added or
          taken off for the period's minimum or maximum.

        Every term also carries ``decimals`` (how to show units) and, when it
        has one, its ``note`` (``(key, values)``, see :data:`ENGLISH_PHRASES`).
        """
        terms = []
        if self.included_units_used:
            terms.append(
                {
                    "kind": "included",
                    "units": self.included_units_used,
                    "decimals": decimals,
                }
            )
        for detail in self.details:
            terms.append(
                {
                    "kind": detail.kind,
                    "units": detail.units,
                    "unit_price": detail.unit_price,
                    "flat_fee": detail.flat_fee,
                    "amount": detail.amount,
                    "decimals": decimals if detail.kind == TIER else None,
                    "note": _detail_note(detail),
                }
            )
        if self.minimum_adjustment:
            terms.append({"kind": "period_minimum", "amount": self.minimum_adjustment})
        if self.maximum_adjustment:
            terms.append({"kind": "period_maximum", "amount": -self.maximum_adjustment})
        return terms

    # The JSON ``details`` of a stored charge (``subscription.usage.charge``
    # and its invoice line) are written by ``to_details`` and read by
    # ``from_details``, nowhere else.

    def to_details(
        self,
        *,
        metric,
        period,
        events,
        quantity,
        amount,
        amount_rounded,
        explanation,
        billed_before=None,
        allowance=None,
    ):
        """The JSON ``details`` of this result once billed: every figure a
        decimal string, so the exact computation is kept.

        ``metric``: the metric's code; ``period``: ``(start, end)``;
        ``events``: the events rated; ``quantity``: the measured quantity;
        ``amount``: what the charge bills (this result's amount, less
        ``billed_before`` for late usage) and ``amount_rounded`` the invoiced
        amount; ``billed_before``: for late usage, what the period's invoice
        already billed; ``allowance``: the allowance of the period (an object
        with ``included``, ``carried_in``, ``used``, ``expired``,
        ``carried_out`` and ``billed``), when one was rolled.
        """
        details = {
            "metric": metric,
            "period": [str(period[0]), str(period[1])],
            "events": events,
            "quantity": str(quantity),
            "charge_model": self.model,
            "tiers": [
                {
                    "units": str(detail.units),
                    "unit_price": str(detail.unit_price),
                    "flat_fee": str(detail.flat_fee),
                    "amount": str(detail.amount),
                    "from": str(detail.from_),
                    "to": None if detail.to is None else str(detail.to),
                    "kind": detail.kind,
                    "note": detail.note,
                }
                for detail in self.details
            ],
            "included_units_used": str(self.included_units_used),
            "minimum_adjustment": str(self.minimum_adjustment),
            "maximum_adjustment": str(self.maximum_adjustment),
            "amount": str(amount),
            "amount_rounded": str(amount_rounded),
            "explanation": explanation,
            "late": billed_before is not None,
        }
        if billed_before is not None:
            details["billed_before"] = str(billed_before)
        if allowance is not None:
            details["allowance"] = {
                name: str(getattr(allowance, name)) for name in ALLOWANCE_FIGURES
            }
        return details

    @staticmethod
    def from_details(details):
        """The exact figures of stored ``details`` (see :meth:`to_details`), as
        :class:`ChargeDetails`; missing figures (empty details) are zero."""
        details = details or {}

        def number(mapping, key, default=ZERO):
            value = mapping.get(key)
            return default if value in (None, "") else to_decimal(value, key)

        quantity = number(details, "quantity")
        used = number(details, "included_units_used")
        granted = details.get("allowance")
        allowance = (
            {name: number(granted, name, None) for name in ALLOWANCE_FIGURES}
            if granted is not None
            else None
        )
        return ChargeDetails(
            quantity=quantity,
            amount=number(details, "amount"),
            included_units_used=used,
            late=bool(details.get("late")),
            allowance=allowance,
        )


# The figures of an allowance kept in a charge's details, in order.
ALLOWANCE_FIGURES = (
    "included",
    "carried_in",
    "used",
    "expired",
    "carried_out",
    "billed",
)


@dataclass(frozen=True)
class ChargeDetails:
    """The exact figures of a billed charge, read from its ``details`` by
    :meth:`RatingResult.from_details`.

    ``allowance``: ``{figure: Decimal or None}`` (see
    :data:`ALLOWANCE_FIGURES`), ``None`` when no allowance was rolled (late
    usage).
    """

    quantity: Decimal
    amount: Decimal
    included_units_used: Decimal
    late: bool = False
    allowance: dict | None = None

    def allowance_figure(self, name, default=ZERO):
        """An allowance figure; ``default`` when it was not stored."""
        value = (self.allowance or {}).get(name)
        return default if value is None else value

    @property
    def available(self):
        """The allowance granted: included plus carried in."""
        return self.allowance_figure("included") + self.allowance_figure("carried_in")

    @property
    def used(self):
        """The allowance used (the engine's included units without one)."""
        return self.allowance_figure("used", self.included_units_used)

    @property
    def billed(self):
        """The units billed: the quantity less the allowance used."""
        return self.allowance_figure("billed", self.quantity - self.included_units_used)


# The English phrases of an explanation: ``{key: format}`` (``str.format``
# with the term's values, already formatted).  A translated rendering passes
# its own ``phrase(key, **values)`` to :func:`render_terms`.
ENGLISH_PHRASES = {
    "included": "{units} included",
    "period_minimum": "{amount} (minimum)",
    "period_maximum": "{amount} (maximum)",
    "packages": "packages of {size}",
    "packages_free": "packages of {size}, {free} free",
    "per_transaction": "per transaction",
    "minimum_per_transaction": "minimum per transaction, {count} transaction",
    "minimum_per_transaction_plural": "minimum per transaction, {count} transactions",
    "maximum_per_transaction": "maximum per transaction, {count} transaction",
    "maximum_per_transaction_plural": "maximum per transaction, {count} transactions",
    "dynamic_events": "sum of {count} event",
    "dynamic_events_plural": "sum of {count} events",
    "prorated": "prorated {days}/{full_days} days",
}


# Note values shown as they are (whole numbers), not as quantities.
WHOLE_VALUES = ("count", "days", "full_days")


def english_phrase(key, **values):
    """The English phrase ``key`` (see :data:`ENGLISH_PHRASES`)."""
    return ENGLISH_PHRASES[key].format(**values)


def _detail_note(detail):
    """``(key, values)`` of a detail's note; ``None`` without a note; a note
    without a key (a model that gives only text) is ``("", {"text": note})``."""
    if detail.note_key:
        return (detail.note_key, dict(detail.note_values))
    if detail.note:
        return ("", {"text": detail.note})
    return None


def render_terms(terms, units=None, money=None, phrase=None):
    """Render :meth:`RatingResult.explain_terms` as text.

    ``units(number, decimals)`` and ``money(number)`` format the figures and
    ``phrase(key, **values)`` gives the phrases (:data:`ENGLISH_PHRASES`);
    by default in English (:func:`fmt_units`, :func:`fmt_money`).
    """
    units = units or fmt_units
    money = money or fmt_money
    phrase = phrase or english_phrase

    def note_text(note):
        key, values = note
        if not key:
            return values["text"]
        count = values.get("count")
        if count is not None and count != 1:
            key += "_plural"
        shown = {
            name: (str(value) if name in WHOLE_VALUES else units(value, None))
            for name, value in values.items()
        }
        return phrase(key, **shown)

    texts = []
    adjustments = []
    for term in terms:
        kind = term["kind"]
        if kind == "included":
            shown = units(term["units"], term["decimals"])
            texts.append(phrase("included", units=shown))
            continue
        if kind in ("period_minimum", "period_maximum"):
            adjustments.append((kind, phrase(kind, amount=money(term["amount"]))))
            continue
        note = term.get("note")
        if kind in (MINIMUM, MAXIMUM):
            text = money(term["amount"])
            if note:
                text += f" ({note_text(note)})"
            texts.append(text)
            continue
        if kind == DYNAMIC:
            text = money(term["amount"])
            if note:
                text += f" ({note_text(note)})"
            texts.append(text)
            continue
        if kind == RATE:
            rate = units(term["unit_price"] * HUNDRED, None)
            text = f"{money(term['units'])} × {rate}%"
        else:
            shown = units(term["units"], term["decimals"])
            text = f"{shown} × {money(term['unit_price'])}"
        if term["flat_fee"]:
            text += f" + {money(term['flat_fee'])}"
        if note:
            text += f" ({note_text(note)})"
        texts.append(text)
    text = " + ".join(texts) or units(ZERO, None)
    for kind, adjustment in adjustments:
        text += f" + {adjustment}" if kind == "period_minimum" else f" - {adjustment}"
    return text.replace("+ -", "- ")


def fmt_units(number, decimals=None):
    """``1,000``, ``2.5``, ``0.0001``: thousands separators, no trailing zeros.

    ``decimals``: the precision of the quantity (a metric's decimals): the
    number is rounded half up to at most that many decimals (``2.33`` for an
    average of 2.3333 with 2 decimals).
    """
    number = to_decimal(number, "quantity")
    with localcontext(_FORMAT_CONTEXT):
        if decimals is not None:
            number = number.quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
        if number == number.to_integral_value():
            return f"{int(number):,}"
        return f"{number.normalize():,f}"


def fmt_money(number):
    """``10.00``, ``0.10``, ``0.0008``, ``1,250.50``: at least 2 decimals."""
    number = to_decimal(number, "amount").normalize()
    if number.as_tuple().exponent > -2:
        number = number.quantize(_CENT)
    return f"{number:,f}"


# ---------------------------------------------------------------- registry


@dataclass(frozen=True)
class ChargeModel:
    """A registered charge model.

    * ``parse(properties)`` validates the properties and returns them in the
      form ``price`` wants, raising :class:`RatingError`;
    * ``price(units, parsed, transactions)`` returns the :class:`TierDetail`
      list for ``units`` (the allowance already taken off);
    * ``transactions``: whether the model reads ``transactions``;
    * ``properties`` and ``optional``: the names of its required and
      optional properties (an optional property left out takes its neutral
      value: 0, or no bound);
    * ``tiers``: for a model priced by tiers, the properties of each tier
      (its properties are then ``{"tiers": [...]}`` and its options),
      empty otherwise;
    * ``prorates``: ``price`` takes a fourth argument, the share of the
      period billed (``(days, full_days)`` or ``None``): the model may
      prorate its charge on a partial period (an option of its own).

    What the callers outside the engine need to know of a model (which
    values to pass, whether it takes transactions) is read here, never
    tested by the model's name.
    """

    name: str
    parse: object
    price: object
    transactions: bool = False
    properties: tuple = ()
    optional: tuple = ()
    tiers: tuple = ()
    prorates: bool = False


CHARGE_MODELS = {}


def register(
    name,
    *,
    parse,
    transactions=False,
    properties=(),
    optional=(),
    tiers=(),
    prorates=False,
):
    """Decorator registering a pricing function as the charge model ``name``
    (see :class:`ChargeModel` for the arguments)."""

    def decorator(price):
        current = CHARGE_MODELS.get(name)
        if current is not None and current.price.__module__ != price.__module__:
            raise RatingError(
                f"Charge model {name!r} is already registered by "
                f"{current.price.__module__}."
            )
        CHARGE_MODELS[name] = ChargeModel(
            name,
            parse,
            price,
            transactions,
            properties=tuple(properties),
            optional=tuple(optional),
            tiers=tuple(tiers),
            prorates=prorates,
        )
        return price

    return decorator
