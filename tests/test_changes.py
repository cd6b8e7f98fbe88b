# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Mid-life change arithmetic and transitions (``core/changes``): unittest, no Odoo."""

from datetime import date, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from ..core import changes as ch
from ..core.periods import Period, prorate
from .core_case import CoreCase

MAY = Period(date(2026, 5, 1), date(2026, 5, 31), date(2026, 5, 1), date(2026, 5, 31))
JUNE = Period(date(2026, 6, 1), date(2026, 6, 30), date(2026, 6, 1), date(2026, 6, 30))


RUNNING = {
    ch.CHANGE_PLAN,
    ch.CHANGE_QUANTITY,
    ch.ADD_OPTION,
    ch.REMOVE_OPTION,
    ch.CHANGE_PRICE,
    ch.PAUSE,
    ch.CANCEL,
}
EXPECTED = {
    # state: operations allowed
    ch.DRAFT: set(),
    ch.TRIAL: RUNNING,
    ch.ACTIVE: RUNNING,
    ch.PAUSED: {ch.RESUME, ch.CANCEL},
    ch.SUSPENDED: {ch.CANCEL},
    ch.CLOSED: {ch.REACTIVATE},
}


class TestTransitions(CoreCase):
    def test_every_cell_of_the_transition_table(self):
        for state in ch.STATES:
            for operation in ch.OPERATIONS:
                with self.subTest(operation=operation, state=state):
                    if operation in EXPECTED[state]:
                        assert ch.TRANSITIONS[(state, operation)] is None
                        ch.check_transition(state, operation)
                    else:
                        with self.assertRaisesRegex(ch.ChangeError, "Cannot"):
                            ch.check_transition(state, operation)

    def test_unknown_transition_is_refused(self):
        with self.assertRaisesRegex(ch.ChangeError, "Unknown"):
            ch.check_transition("active", "teleport")


def _monthly(start="2026-01-01"):
    from ..core.periods import Recurrence, Schedule

    return Schedule.build(Recurrence(1, "month"), date.fromisoformat(start))


class TestBilledParts(CoreCase):
    def test_billed_parts_cut_each_period_at_the_range(self):
        parts = ch.billed_parts(_monthly(), date(2026, 5, 11), date(2026, 6, 30))
        assert [(p.start, p.end, p.full_days) for p in parts] == [
            (date(2026, 5, 11), date(2026, 5, 31), 31),
            (date(2026, 6, 1), date(2026, 6, 30), 30),
        ]

    def test_clip_to_a_line_validity(self):
        assert ch.clip(MAY, date(2026, 5, 11), None).start == date(2026, 5, 11)
        assert ch.clip(MAY, None, date(2026, 5, 10)).end == date(2026, 5, 10)
        assert ch.clip(MAY, date(2026, 6, 1), None) is None
        assert ch.clip(MAY, None, None) == MAY

    def test_monthly_amount_normalises_each_unit(self):
        assert ch.monthly_amount("240", 1, "year", "0.01") == D("20.00")
        assert ch.monthly_amount("60", 3, "month", "0.01") == D("20.00")
        assert ch.monthly_amount("12", 1, "week", "0.01") == D("52.00")
        assert ch.monthly_amount("20", 1, "month", "0.01") == D("20.00")
        with self.assertRaises(ch.ChangeError):
            ch.monthly_amount("20", 0, "month", "0.01")

    def test_indexed_price(self):
        assert ch.indexed_price("20", "5", "0.01") == D("21.00")
        assert ch.indexed_price("19.99", "2.5", "0.01") == D("20.49")
        # A percentage read from the database (a float) counts as typed: 15.00
        # + 3.3% is 15.495, 15.50 (Decimal(3.3) is 3.2999... and gave 15.49).
        assert ch.indexed_price("15.00", 3.3, "0.01") == D("15.50")
        assert ch.line_amount(3.3, 15.0, 0.0, "0.01") == D("49.50")
        assert ch.line_amount(1, 10.005, 0.0, "0.01") == D("10.01")

    def test_end_of_period_respects_the_notice(self):
        schedule = _monthly()
        assert ch.end_of_period_after(schedule, date(2026, 5, 11)) == date(2026, 6, 1)
        assert ch.end_of_period_after(
            schedule, date(2026, 5, 11), date(2026, 6, 10)
        ) == date(2026, 7, 1)

    def test_history_kind_and_policy_direction(self):
        assert ch.change_kind(ch.CHANGE_PLAN, D(20), D(40)) == "upgrade"
        assert ch.change_kind(ch.CHANGE_PLAN, D(40), D(20)) == "downgrade"
        assert ch.change_kind(ch.CANCEL, D(20), D(0)) == "churn"
        assert ch.is_downgrade(ch.CHANGE_QUANTITY, D(40), D(20))
        assert not ch.is_downgrade(ch.ADD_OPTION, D(20), D(40))
        assert ch.is_downgrade(ch.REMOVE_OPTION, D(20), D(20))

    @settings(max_examples=200, deadline=None)
    @given(
        price=st.decimals(min_value=0, max_value=10000, places=2),
        cut=st.integers(min_value=0, max_value=30),
    )
    def test_billed_parts_and_the_rest_add_up_to_the_period(self, price, cut):
        schedule = _monthly()
        day = date(2026, 5, 1) + timedelta(days=cut)
        parts = ch.billed_parts(schedule, day, date(2026, 5, 31))
        before = ch.clip(MAY, None, day - timedelta(days=1))
        total = sum(prorate(price, p, "0.01")[0] for p in parts)
        if before:
            total += prorate(price, before, "0.01")[0]
        assert total == price

    def test_refused_transitions_carry_their_reason_code(self):
        with self.assertRaises(ch.ChangeError) as caught:
            ch.check_transition(ch.CLOSED, ch.PAUSE)
        assert caught.exception.reason == ch.IS_CLOSED
        assert ch.REASONS[ch.IS_CLOSED] in str(caught.exception)

    def test_line_amount_rounds_once(self):
        assert ch.line_amount("3", "33.333", "10", "0.01") == D("90.00")
        assert ch.line_amount("1", "0.005", "0", "0.01") == D("0.01")
