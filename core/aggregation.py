# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Usage aggregation, free of any Odoo import: the stage before rating.

Each function takes the usage events of one subscription, metric and period
and returns the billable quantity as a ``Decimal``. An event is a mapping with
``timestamp`` (a ``datetime``), ``quantity`` (a number) and ``properties``
(a mapping). The ORM runs the same aggregations in SQL for volume; these are
the reference definitions, and the time-weighted sum lives only here.
"""

from decimal import Context, Decimal, localcontext

COUNT = "count"
SUM = "sum"
MAX = "max"
UNIQUE_COUNT = "unique_count"
LATEST = "latest"
WEIGHTED_SUM = "weighted_sum"
AGGREGATIONS = (COUNT, SUM, MAX, UNIQUE_COUNT, LATEST, WEIGHTED_SUM)
# The area of a time-weighted sum (level × seconds) is added up exactly.
_CONTEXT = Context(prec=60)


class AggregationError(ValueError):
    """Raised for an aggregation that cannot be computed from the events."""


def _number(value, what):
    if isinstance(value, bool) or value is None:
        raise AggregationError(f"{what} must be a number, not {value!r}.")
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value))
    except ArithmeticError as error:
        raise AggregationError(f"{what} must be a number, not {value!r}.") from error
    if not number.is_finite():
        raise AggregationError(f"{what} must be a finite number, not {value!r}.")
    return number


def _value(event, field):
    """The event's quantity, or the property ``field`` when one is named."""
    if not field:
        return _number(event.get("quantity", 1), "The event quantity")
    properties = event.get("properties") or {}
    if field not in properties:
        raise AggregationError(
            f"The event of {event.get('timestamp')} has no property {field!r}, "
            f"which this metric aggregates."
        )
    return _number(properties[field], f"The property {field!r}")


def count(events, field=None):
    """Number of events."""
    return Decimal(len(events))


def total(events, field=None):
    """Sum of the quantities (or of the property ``field``)."""
    return sum((_value(event, field) for event in events), Decimal(0))


def maximum(events, field=None):
    """Largest quantity (or property); 0 without events."""
    return max((_value(event, field) for event in events), default=Decimal(0))


def unique_count(events, field):
    """Number of distinct values of the property ``field``."""
    if not field:
        raise AggregationError("A unique count needs the property to count.")
    values = set()
    for event in events:
        properties = event.get("properties") or {}
        if field not in properties:
            raise AggregationError(
                f"The event of {event.get('timestamp')} has no property "
                f"{field!r}, which this metric counts."
            )
        values.add(properties[field])
    return Decimal(len(values))


def latest(events, field=None):
    """Quantity (or property) of the most recent event; 0 without events."""
    if not events:
        return Decimal(0)
    return _value(max(events, key=lambda event: event["timestamp"]), field)


def weighted_sum(events, start, end, field=None, initial=0):
    """Time-weighted level over ``[start, end)``: seats or storage.

    Each event changes the level by its quantity (a negative quantity lowers
    it); the level starts at ``initial`` (the level carried from the previous
    period). The result is the level averaged over the period's duration:
    10 seats for the whole month and 10 more from mid-month give 15.
    """
    if end <= start:
        raise AggregationError(f"The period end {end} must be after its start {start}.")
    duration = Decimal((end - start).total_seconds())
    level = _number(initial, "The initial level")
    area = Decimal(0)
    cursor = start
    with localcontext(_CONTEXT):
        for event in sorted(events, key=lambda event: event["timestamp"]):
            moment = event["timestamp"]
            if not start <= moment < end:
                raise AggregationError(
                    f"The event of {moment} is outside the period {start} to {end}."
                )
            area += level * Decimal((moment - cursor).total_seconds())
            level += _value(event, field)
            cursor = moment
        area += level * Decimal((end - cursor).total_seconds())
    # The average itself keeps the usual 28 significant digits.
    return area / duration


def aggregate(aggregation, events, field=None, *, start=None, end=None, initial=0):
    """Entry point: the quantity of ``events`` under ``aggregation``."""
    if aggregation == COUNT:
        return count(events)
    if aggregation == SUM:
        return total(events, field)
    if aggregation == MAX:
        return maximum(events, field)
    if aggregation == UNIQUE_COUNT:
        return unique_count(events, field)
    if aggregation == LATEST:
        return latest(events, field)
    if aggregation == WEIGHTED_SUM:
        if start is None or end is None:
            raise AggregationError("A weighted sum needs the period's start and end.")
        return weighted_sum(events, start, end, field, initial)
    raise AggregationError(
        f"Unknown aggregation {aggregation!r}; expected one of {AGGREGATIONS}."
    )
