# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Dunning schedules and declines (``core/dunning``): unittest, no Odoo."""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ..core import dunning as dn
from .core_case import CoreCase

DEFAULT = [
    dn.Step(1, 3, dn.RETRY),
    dn.Step(2, 5, dn.RETRY),
    dn.Step(3, 7, dn.RETRY),
    dn.Step(4, 7, dn.REMINDER),
    dn.Step(5, 14, dn.RETRY),
    dn.Step(6, 14, dn.REMINDER),
    dn.Step(7, 21, dn.SUSPEND),
    dn.Step(8, 21, dn.REMINDER),
    dn.Step(9, 30, dn.CLOSE),
]
START = date(2026, 5, 1)


class TestDunningSchedule(CoreCase):
    def test_default_policy_is_valid(self):
        dn.check_steps(DEFAULT)

    def test_bad_policies_are_refused_with_a_reason(self):
        for steps, reason in [
            ([], dn.NO_STEPS),
            ([dn.Step(1, -1, dn.RETRY), dn.Step(2, 3, dn.CLOSE)], dn.NEGATIVE_DAY),
            ([dn.Step(1, 7, dn.RETRY), dn.Step(2, 3, dn.CLOSE)], dn.OUT_OF_ORDER),
            ([dn.Step(1, 3, dn.RETRY), dn.Step(2, 7, dn.REMINDER)], dn.NO_FINAL),
            ([dn.Step(1, 3, dn.CLOSE), dn.Step(2, 7, dn.ACTIVITY)], dn.AFTER_FINAL),
            ([dn.Step(1, 3, dn.ACTIVITY), dn.Step(2, 7, dn.RETRY)], dn.NO_FINAL),
        ]:
            with self.subTest(steps=steps, reason=reason):
                with self.assertRaises(dn.DunningError) as info:
                    dn.check_steps(steps)
                assert info.exception.reason == reason

    def test_handing_over_is_a_final_outcome(self):
        dn.check_steps([dn.Step(1, 3, dn.RETRY), dn.Step(2, 30, dn.ACTIVITY)])

    def test_step_dates_without_calendar(self):
        dates = [str(day) for __, day in dn.step_dates(START, DEFAULT)]
        assert dates[:3] == ["2026-05-04", "2026-05-06", "2026-05-08"]
        assert dates[-1] == "2026-05-31"

    def test_retries_move_to_the_next_working_day_only(self):
        holidays = {date(2026, 5, 14)}

        def working(day):
            return day.weekday() < 5 and day not in holidays

        start = date(2026, 5, 11)  # a Monday
        dates = dict(
            (step.key, day) for step, day in dn.step_dates(start, DEFAULT, working)
        )
        assert dates[1] == date(2026, 5, 15)  # Thursday 14 is a holiday
        assert dates[2] == date(2026, 5, 18)  # Saturday 16 -> Monday 18
        assert dates[4] == date(2026, 5, 18), "a reminder is not moved, but never early"
        assert dates[7] == date(2026, 6, 1)  # suspension on its day

    def test_missed_retries_and_reminders_collapse_into_the_latest(self):
        to_run, superseded = dn.due_steps(START, DEFAULT, set(), date(2026, 5, 22))
        assert [s.key for s in to_run] == [5, 7, 8]
        assert [s.key for s in superseded] == [1, 2, 3, 4, 6]
        to_run, superseded = dn.due_steps(
            START, DEFAULT, {1, 2, 3, 4, 5, 6, 7, 8}, date(2026, 5, 31)
        )
        assert [s.key for s in to_run] == [9] and not superseded

    def test_next_date(self):
        assert dn.next_date(START, DEFAULT, {1}) == date(2026, 5, 6)
        assert dn.next_date(START, DEFAULT, {s.key for s in DEFAULT}) is None

    def test_classify_decline(self):
        for message, state, kind in [
            ("Card reported lost or stolen", "error", dn.HARD),
            ("Account closed", "error", dn.HARD),
            ("Expired card", "error", dn.ACTION),
            ("3D Secure authentication required", "error", dn.ACTION),
            ("SCA required", "error", dn.ACTION),
            ("Insufficient funds", "error", dn.SOFT),
            ("Scanned document mismatch", "error", dn.SOFT),
            ("Card reported stolen", "cancel", dn.SOFT),
            (None, "error", dn.SOFT),
        ]:
            with self.subTest(message=message, state=state, kind=kind):
                assert dn.classify_decline(message, state) == kind


steps_strategy = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=40),
        st.sampled_from([dn.RETRY, dn.REMINDER, dn.SUSPEND]),
    ),
    max_size=8,
).map(
    lambda items: (
        [dn.Step(i, day, action) for i, (day, action) in enumerate(sorted(items))]
        + [dn.Step(99, 45, dn.CLOSE)]
    )
)


class TestDunningProperties(CoreCase):
    @settings(max_examples=200, deadline=None)
    @given(
        steps=steps_strategy,
        offset=st.integers(min_value=0, max_value=6),
        runs=st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=10),
    )
    def test_every_step_runs_or_is_superseded_once(self, steps, offset, runs):
        """Whatever days the scheduled action runs, each step is done once
        (run or superseded), never before its date, at most one retry and one
        reminder per run, and retries land on working days."""
        start = date(2026, 1, 5) + timedelta(days=offset)

        def working(day):
            return day.weekday() < 5

        done = set()
        dates = dict((s.key, d) for s, d in dn.step_dates(start, steps, working))
        for run in sorted(runs) + [60]:
            today = start + timedelta(days=run)
            to_run, superseded = dn.due_steps(start, steps, done, today, working)
            assert not done & {s.key for s in to_run + superseded}
            assert all(dates[s.key] <= today for s in to_run + superseded)
            assert sum(1 for s in to_run if s.action == dn.RETRY) <= 1
            assert sum(1 for s in to_run if s.action == dn.REMINDER) <= 1
            done |= {s.key for s in to_run + superseded}
        assert done == {s.key for s in steps}
        assert all(working(dates[s.key]) for s in steps if s.action == dn.RETRY)

    def test_simulation_is_deterministic_and_bounded(self):
        first = dn.simulate(DEFAULT, population=2000, seed=7)
        second = dn.simulate(DEFAULT, population=2000, seed=7)
        assert first == second
        assert first.recovered + first.lost == 2000
        assert 0 < first.recovery_rate < 1
        assert sum(first.recovered_by_step.values()) == first.recovered
