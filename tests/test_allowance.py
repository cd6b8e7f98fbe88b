# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Allowances that carry over (``core/allowance``): unittest, no database, no Odoo."""

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from ..core import allowance as al
from .core_case import CoreCase


def run(usages, included, **kwargs):
    """Roll ``usages`` period after period; return the Allowance of each."""
    buckets = ()
    results = []
    for number, usage in enumerate(usages, 1):
        result = al.roll(usage, included, buckets, origin=f"P{number}", **kwargs)
        buckets = result.buckets
        results.append(result)
    return results


class TestAllowance(CoreCase):
    def test_without_carry_over_unused_units_lapse(self):
        (first, second) = run([600, 1500], 1000)
        assert (first.used, first.billed, first.carried_out) == (600, 0, 0)
        assert (second.carried_in, second.used, second.billed) == (0, 1000, 500)

    def test_unused_units_roll_over_and_are_used_oldest_first(self):
        p1, p2, p3 = run([200, 100, 1700], 1000, carry_over=True)
        assert (p1.used, p1.carried_out) == (200, 800)
        assert p2.carried_in == 800
        # Period 2 uses 100 of period 1's units first; its own 1,000 roll over.
        assert p2.used == 100 and p2.carried_out == 1700
        assert [(b.origin, b.units) for b in p2.buckets] == [("P1", 700), ("P2", 1000)]
        # Period 3: 1,700 available carried + 1,000 included; uses 1,700 carried.
        assert p3.carried_in == 1700 and p3.used == 1700 and p3.billed == 0
        assert [(b.origin, b.units) for b in p3.buckets] == [("P3", 1000)]

    def test_carried_units_expire_after_n_periods(self):
        p1, p2, p3 = run([0, 0, 0], 100, carry_over=True, expiry=1)
        assert p1.carried_out == 100
        # P1's units were usable in P2 only: they expire at its end.
        assert (p2.carried_in, p2.expired, p2.carried_out) == (100, 100, 100)
        assert (p3.carried_in, p3.expired, p3.carried_out) == (100, 100, 100)

    def test_expiry_of_two_periods(self):
        p1, p2, p3, p4 = run([0, 0, 0, 0], 100, carry_over=True, expiry=2)
        assert [p.carried_out for p in (p1, p2, p3, p4)] == [100, 200, 200, 200]
        assert [p.expired for p in (p1, p2, p3, p4)] == [0, 0, 100, 100]

    def test_cap_forfeits_the_newest_units(self):
        p1, p2, p3 = run([0, 0, 50], 100, carry_over=True, cap=150)
        assert (p1.carried_out, p1.expired) == (100, 0)
        assert (p2.carried_out, p2.expired) == (150, 50)
        # P3 uses 50 of P1's carried units; 50 (P1) + 50 (P2) + 100 (P3) is over
        # the cap: 50 of P3's own units are forfeited.
        assert p3.used == 50 and p3.carried_out == 150 and p3.expired == 50
        assert [(b.origin, b.units) for b in p3.buckets] == [
            ("P1", 50),
            ("P2", 50),
            ("P3", 50),
        ]

    def test_buckets_round_trip_through_json(self):
        result = al.roll(10, 100, origin="2026-03-01", carry_over=True)
        assert al.load(al.dump(result.buckets)) == result.buckets

    def test_bad_settings_are_refused(self):
        for kwargs, message in [
            ({"usage": -1}, "usage"),
            ({"included": "x"}, "included"),
            ({"cap": -5}, "cap"),
            ({"expiry": 0}, "expiry"),
        ]:
            with self.subTest(kwargs=kwargs, message=message):
                args = {"usage": 1, "included": 1, **kwargs}
                with self.assertRaisesRegex(
                    (al.AllowanceError, ArithmeticError), message
                ):
                    al.roll(
                        args["usage"],
                        args["included"],
                        carry_over=True,
                        cap=args.get("cap"),
                        expiry=args.get("expiry"),
                    )


amounts = st.integers(min_value=0, max_value=10_000).map(D)


class TestAllowanceProperties(CoreCase):
    @settings(max_examples=200, deadline=None)
    @given(
        usages=st.lists(amounts, min_size=1, max_size=8),
        included=amounts,
        cap=st.none() | amounts,
        expiry=st.none() | st.integers(min_value=1, max_value=4),
    )
    def test_every_unit_is_accounted_for(self, usages, included, cap, expiry):
        """In + granted = used + expired + out; billed + used = usage; cap holds."""
        for usage, result in zip(
            usages,
            run(usages, included, carry_over=True, cap=cap, expiry=expiry),
            strict=True,
        ):
            assert result.carried_in + result.included == (
                result.used + result.expired + result.carried_out
            )
            assert result.used + result.billed == usage
            assert result.billed == max(D(0), usage - result.available)
            if cap is not None:
                assert result.carried_out <= cap
            if expiry is not None:
                assert all(b.age <= expiry for b in result.buckets)
