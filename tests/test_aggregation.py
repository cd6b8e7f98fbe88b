# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Usage aggregation of ``core/aggregation``: unittest, no database, no Odoo."""

from datetime import datetime, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from ..core import aggregation as agg
from .core_case import CoreCase

T0 = datetime(2026, 3, 1)


def event(quantity=1, minutes=0, **properties):
    return {
        "timestamp": T0 + timedelta(minutes=minutes),
        "quantity": quantity,
        "properties": properties,
    }


class TestAggregation(CoreCase):
    def test_acceptance_pageviews_from_one_user(self):
        events = [
            event(minutes=1, pageviews=10, user="u1"),
            event(minutes=2, pageviews=20, user="u1"),
        ]
        assert agg.aggregate(agg.COUNT, events) == 2
        assert agg.aggregate(agg.SUM, events, "pageviews") == 30
        assert agg.aggregate(agg.MAX, events, "pageviews") == 20
        assert agg.aggregate(agg.UNIQUE_COUNT, events, "user") == 1

    def test_acceptance_latest_is_the_most_recent_not_the_largest(self):
        events = [event(5, minutes=1), event(7, minutes=2), event(6, minutes=3)]
        assert agg.aggregate(agg.LATEST, events) == 6
        shuffled = [events[2], events[0], events[1]]
        assert agg.aggregate(agg.LATEST, shuffled) == 6

    def test_sum_of_quantities_keeps_decimals_exact(self):
        events = [event(0.1), event(0.2)]
        assert agg.aggregate(agg.SUM, events) == D("0.3")

    def test_no_events(self):
        for name in (agg.COUNT, agg.SUM, agg.MAX, agg.LATEST):
            assert agg.aggregate(name, []) == 0
        assert agg.aggregate(agg.UNIQUE_COUNT, [], "user") == 0

    def test_weighted_sum_seats_added_mid_month(self):
        start, end = T0, datetime(2026, 3, 31)  # 30 days
        added = {"timestamp": datetime(2026, 3, 16), "quantity": 10, "properties": {}}
        # 10 seats for 30 days, 10 more for the last 15: 10 + 10 x 15/30 = 15
        result = agg.aggregate(
            agg.WEIGHTED_SUM, [added], start=start, end=end, initial=10
        )
        assert result == 15

    def test_weighted_sum_removal_and_no_events(self):
        start, end = T0, T0 + timedelta(days=10)
        removed = {
            "timestamp": T0 + timedelta(days=5),
            "quantity": -4,
            "properties": {},
        }
        assert agg.weighted_sum([removed], start, end, initial=8) == 6
        assert agg.weighted_sum([], start, end, initial=3) == 3

    def test_bad_input_is_refused_clearly(self):
        for call, message in [
            (lambda: agg.aggregate("median", []), "Unknown aggregation"),
            (
                lambda: agg.aggregate(agg.SUM, [event(user="u")], "pageviews"),
                "no property",
            ),
            (
                lambda: agg.aggregate(agg.UNIQUE_COUNT, [event()], None),
                "needs the property",
            ),
            (lambda: agg.aggregate(agg.SUM, [event("abc")]), "must be a number"),
            (lambda: agg.aggregate(agg.SUM, [event(float("nan"))]), "finite"),
            (lambda: agg.aggregate(agg.WEIGHTED_SUM, []), "start and end"),
            (lambda: agg.weighted_sum([], T0, T0), "must be after"),
            (
                lambda: agg.weighted_sum(
                    [event(minutes=-1)], T0, T0 + timedelta(days=1)
                ),
                "outside the period",
            ),
        ]:
            with self.subTest(call=call, message=message):
                with self.assertRaisesRegex(agg.AggregationError, message):
                    call()

    @settings(max_examples=200, deadline=None)
    @given(
        quantities=st.lists(st.integers(min_value=0, max_value=10**6), max_size=30),
        initial=st.integers(min_value=0, max_value=1000),
    )
    def test_weighted_sum_lies_between_the_lowest_and_highest_level(
        self,
        quantities,
        initial,
    ):
        start, end = T0, T0 + timedelta(days=30)
        events = [
            {
                "timestamp": start + timedelta(hours=i * 7),
                "quantity": q,
                "properties": {},
            }
            for i, q in enumerate(quantities)
        ]
        result = agg.weighted_sum(events, start, end, initial=initial)
        assert initial <= result <= initial + sum(quantities)
        assert agg.total(events) == sum(quantities)
        assert agg.count(events) == len(quantities)
