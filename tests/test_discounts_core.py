# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Discounts with a duration (``core/discounts``): unittest, no database, no Odoo."""

from datetime import date
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from ..core import discounts as dc
from .core_case import CoreCase

CENT = D("0.01")
money = st.decimals(min_value=D("-1000"), max_value=D("100000"), places=2)
percent = st.decimals(min_value=D("0.01"), max_value=D("100"), places=2)


class TestDiscountsCore(CoreCase):
    def test_worked_example_twenty_percent_of_thirty(self):
        """20 % of 30.00 is 6.00: the invoice is 24.00."""
        assert dc.amount("percent", 20, [D("30.00")], CENT) == D("6.00")

    def test_percentage_of_the_sum_rounded_once(self):
        """15 % of 0.10 + 0.10 + 0.10 = 0.045 → 0.05 (rounded once), not
        3 × 0.015 → 3 × 0.02 = 0.06 (rounded per line)."""
        assert dc.amount("percent", 15, ["0.10", "0.10", "0.10"], CENT) == D("0.05")

    def test_fixed_is_capped_at_the_lines(self):
        assert dc.amount("fixed", 5, [D("30.00")], CENT) == D("5")
        assert dc.amount("fixed", 50, [D("30.00")], CENT) == D("30.00")

    def test_nothing_off_a_credit(self):
        assert dc.amount("fixed", 5, [D("-10.00")], CENT) == 0

    def test_bad_values(self):
        for kind, value in [
            ("percent", 100.01),
            ("percent", 0),
            ("fixed", -5),
            ("fixed", "abc"),
            ("fixed", float("nan")),
            ("bogus", 5),
            ("fixed", None),
            ("fixed", True),
        ]:
            with self.assertRaises(dc.DiscountError):
                dc.check(kind, value)

    def test_durations(self):
        start, p_end = date(2026, 3, 1), date(2026, 3, 31)
        assert dc.applies("once", start, start, p_end, 0)
        assert not dc.applies("once", start, start, p_end, 1)
        assert dc.applies("periods", start, start, p_end, 2, count=3)
        assert not dc.applies("periods", start, start, p_end, 3, count=3)
        assert dc.applies("until", start, start, p_end, 9, end=date(2026, 3, 1))
        assert not dc.applies("until", start, start, p_end, 0, end=date(2026, 2, 28))
        assert dc.applies("forever", start, start, p_end, 10**6)
        # A period that ends before the discount starts never gets it.
        assert not dc.applies("forever", date(2026, 4, 1), start, p_end, 0)
        with self.assertRaises(dc.DiscountError):
            dc.applies("periods", start, start, p_end, 0, count=0)

    @settings(max_examples=200, deadline=None)
    @given(
        st.sampled_from(dc.KINDS),
        st.decimals(min_value=D("0.01"), max_value=D("100"), places=2),
        st.lists(money, max_size=6),
    )
    def test_never_below_zero_nor_over_the_lines(self, kind, value, lines):
        off = dc.amount(kind, value, lines, CENT)
        base = sum(lines, D(0))
        assert off >= 0
        assert off <= max(base, D(0))
        assert base - off >= 0 or base < 0

    @settings(max_examples=200, deadline=None)
    @given(percent, st.lists(money, min_size=1, max_size=6))
    def test_percentage_of_the_lines_rounded_once(self, value, lines):
        base = sum(lines, D(0))
        off = dc.amount("percent", value, lines, CENT)
        if base <= 0:
            assert off == 0
        else:
            # Within half a cent of the exact percentage of the sum.
            assert abs(off - base * value / 100) <= D("0.005")
            assert off == off.quantize(CENT)

    @settings(max_examples=200, deadline=None)
    @given(
        st.decimals(min_value=D("0.01"), max_value=D("1000"), places=2),
        st.lists(money, min_size=1, max_size=6),
    )
    def test_fixed_is_the_amount_or_the_lines(self, value, lines):
        base = sum(lines, D(0))
        off = dc.amount("fixed", value, lines, CENT)
        assert off == (min(value, base) if base > 0 else 0)


class TestDiscountSplit(CoreCase):
    def test_worked_example_two_tax_groups(self):
        """20 % of 30.00 (VAT 20 %) + 10.00 (VAT 5.5 %) = 8.00 off, shared
        6.00 and 2.00; 6.00 over 30.00 and 10.00 is 4.50 and 1.50."""
        assert dc.split("8.00", ["30.00", "10.00"], "0.01") == [D("6.00"), D("2.00")]
        assert dc.split("6.00", ["30.00", "10.00"], "0.01") == [D("4.50"), D("1.50")]

    def test_the_cent_left_goes_to_the_largest_remainder(self):
        # 0.10 over three equal groups: 0.04, 0.03, 0.03 (first on a tie).
        assert dc.split("0.10", [1, 1, 1], "0.01") == [D("0.04"), D("0.03"), D("0.03")]
        # 1.00 over 2 and 1: 0.666.. and 0.333..: 0.67 and 0.33.
        assert dc.split("1.00", [2, 1], "0.01") == [D("0.67"), D("0.33")]

    def test_bad_splits_are_refused(self):
        for total, weights, quantum in [
            ("1.00", [], "0.01"),
            ("1.00", [0, 0], "0.01"),
            ("1.00", [-1, 2], "0.01"),
            ("-1.00", [1], "0.01"),
            ("1.005", [1], "0.01"),
            ("1.00", [1], "0"),
        ]:
            with self.subTest(total=total, weights=weights, quantum=quantum):
                with self.assertRaises(dc.DiscountError):
                    dc.split(total, weights, quantum)

    @settings(max_examples=300, deadline=None)
    @given(
        st.integers(0, 10**9),
        st.lists(st.decimals(0, 10**6, places=2), min_size=1, max_size=6).filter(
            lambda weights: sum(weights) > 0
        ),
        st.sampled_from(["0.01", "1", "0.001"]),
    )
    def test_parts_sum_exactly_and_are_proportional(self, units, weights, quantum):
        quantum = D(quantum)
        total = units * quantum
        parts = dc.split(total, weights, quantum)
        assert len(parts) == len(weights)
        assert sum(parts) == total, "the discount lines sum to the discount"
        whole = sum(weights)
        for part, weight in zip(parts, weights, strict=True):
            assert part >= 0
            assert part % quantum == 0
            # Within one unit of the exact share.
            assert abs(part - total * weight / whole) < quantum
