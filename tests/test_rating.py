# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Rating engine of ``core/rating``: unittest, no database, no Odoo.

Worked examples with exact, hand-computed amounts for every charge model,
then validation messages, then Hypothesis properties.
"""

# hypothesis.assume() is typed NoReturn, which pylint takes as "unreachable".
# pylint: disable=unreachable
import math
import re
from decimal import Decimal as D

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ..core import rating
from ..core.rating import base
from .core_case import CoreCase

PROPERTIES = settings(max_examples=200, deadline=None)


def tier(start, end, unit_price, flat_fee="0", key="unit_price"):
    return {
        "from": D(start),
        "to": None if end is None else D(end),
        key: D(unit_price),
        "flat_fee": D(flat_fee),
    }


# 1,000 at 0.10, the next 9,000 at 0.05, the rest at 0.01.
THREE_TIERS = [
    tier(0, 1000, "0.10"),
    tier(1000, 10000, "0.05"),
    tier(10000, None, "0.01"),
]
# Volume tiers of the issue, with a 10.00 flat fee on every tier.
VOLUME_TIERS = [
    tier(0, 10000, "0.0010", "10.00"),
    tier(10000, 50000, "0.0008", "10.00"),
    tier(50000, 100000, "0.0006", "10.00"),
    tier(100000, None, "0.0004", "10.00"),
]
PACKAGE = {"package_size": D(100), "package_price": D("5.00"), "free_units": D(100)}
CARD_FEES = {
    "rate": D(1),
    "fixed_fee": D("0.30"),
    "per_transaction_min_amount": D("0.50"),
    "per_transaction_max_amount": D("5.00"),
}
PAYMENTS = [D("10.00"), D("9590.00"), D("400.00")]  # 10,000.00 in 3 transactions


# ---------------------------------------------------------------- examples


class TestChargeModels(CoreCase):
    def test_standard(self):
        result = rating.rate("standard", 1000, {"unit_price": D("0.05")})
        assert result.amount == D("50.00")
        assert result.rounded("0.01") == D("50.00")
        assert result.unit_amount == D("0.05")
        assert result.explain() == "1,000 × 0.05"
        assert result.model == "standard"
        assert result.units == D(1000)

    def test_package(self):
        for units, amount in [
            (201, "10.00"),
            (200, "5.00"),
            (101, "5.00"),
            (100, "0"),
            (0, "0"),
            (500, "20.00"),
        ]:
            with self.subTest(units=units, amount=amount):
                # 201 units: 100 free, 101 left = 2 started packages of 100 = 2 × 5.00.
                result = rating.rate("package", units, PACKAGE)
                assert result.amount == D(amount)

    def test_package_explain(self):
        result = rating.rate("package", 201, PACKAGE)
        assert result.explain() == "2 × 5.00 (packages of 100, 100 free)"
        (detail,) = result.details
        assert (detail.units, detail.unit_price, detail.amount) == (2, D(5), D(10))

    def test_volume(self):
        for units, amount in [
            (65000, "49.00"),  # 65,000 × 0.0006 + 10.00 = 39.00 + 10.00
            (10000, "20.00"),  # still the first tier: 10,000 × 0.0010 + 10.00
            (10001, "18.0008"),  # second tier: 10,001 × 0.0008 + 10.00
            (200000, "90.00"),  # last tier: 200,000 × 0.0004 + 10.00
            (1, "10.0010"),
            (0, "0"),  # no tier reached: no flat fee
        ]:
            with self.subTest(units=units, amount=amount):
                result = rating.rate("volume", units, {"tiers": VOLUME_TIERS})
                assert result.amount == D(amount)

    def test_volume_explain(self):
        result = rating.rate("volume", 65000, {"tiers": VOLUME_TIERS})
        assert result.explain() == "65,000 × 0.0006 + 10.00"
        (detail,) = result.details
        assert (detail.from_, detail.to) == (D(50000), D(100000))

    def test_graduated_and_volume_on_the_same_tiers(self):
        # Graduated: 1,000 × 0.10 + 9,000 × 0.05 + 5,000 × 0.01 = 100 + 450 + 50.
        graduated = rating.rate("graduated", 15000, {"tiers": THREE_TIERS})
        assert graduated.amount == D("600.00")
        assert graduated.explain() == "1,000 × 0.10 + 9,000 × 0.05 + 5,000 × 0.01"
        assert [(d.units, d.amount) for d in graduated.details] == [
            (D(1000), D(100)),
            (D(9000), D(450)),
            (D(5000), D(50)),
        ]
        assert graduated.unit_amount == D("0.04")
        # Volume: 15,000 × 0.01.
        volume = rating.rate("volume", 15000, {"tiers": THREE_TIERS})
        assert volume.amount == D("150.00")
        assert volume.explain() == "15,000 × 0.01"

    def test_graduated_flat_fees_of_the_tiers_entered(self):
        tiers = [tier(0, 100, "0", "5.00"), tier(100, None, "0.10", "2.50")]
        # Tier 1 only: 50 × 0 + 5.00.
        assert rating.rate("graduated", 50, {"tiers": tiers}).amount == D("5.00")
        # Exactly 100 units do not enter tier 2.
        assert rating.rate("graduated", 100, {"tiers": tiers}).amount == D("5.00")
        # 100 × 0 + 5.00 + 1 × 0.10 + 2.50 = 7.60.
        result = rating.rate("graduated", 101, {"tiers": tiers})
        assert result.amount == D("7.60")
        assert result.explain() == "100 × 0.00 + 5.00 + 1 × 0.10 + 2.50"
        # Zero units enter no tier.
        zero = rating.rate("graduated", 0, {"tiers": tiers})
        assert (zero.amount, zero.details, zero.unit_amount) == (0, (), None)
        assert zero.explain() == "0"

    def test_graduated_percentage(self):
        tiers = [
            tier(0, 1000, "2", key="rate"),
            tier(1000, 10000, "1", key="rate"),
            tier(10000, None, "0.5", "1.00", key="rate"),
        ]
        # 1,000.00 × 2% + 9,000.00 × 1% + 5,000.00 × 0.5% + 1.00
        # = 20 + 90 + 25 + 1 = 136.00.
        result = rating.rate("graduated_percentage", D("15000.00"), {"tiers": tiers})
        assert result.amount == D("136.00")
        assert result.explain() == (
            "1,000.00 × 2% + 9,000.00 × 1% + 5,000.00 × 0.5% + 1.00"
        )
        # 500.00 × 2% = 10.00: the flat fee of the last tier is not charged.
        assert rating.rate("graduated_percentage", 500, {"tiers": tiers}).amount == 10

    def test_percentage_with_a_count_of_transactions(self):
        # 1% of 10,000.00 + 3 × 0.30 = 100.00 + 0.90 = 100.90.
        properties = {"rate": D(1), "fixed_fee": D("0.30")}
        result = rating.rate("percentage", D("10000.00"), properties, transactions=3)
        assert result.amount == D("100.90")
        assert result.explain() == "10,000.00 × 1% + 3 × 0.30 (per transaction)"

    def test_percentage_without_transactions(self):
        # 2.5% of 1,234.56 = 30.864, unrounded; rounded 30.86.
        result = rating.rate("percentage", D("1234.56"), {"rate": D("2.5")})
        assert result.amount == D("30.864")
        assert result.rounded("0.01") == D("30.86")
        # A free amount needs no transaction detail without a fixed fee:
        # 2.5% of (1,234.56 - 234.56) = 25.00.
        free = {"rate": D("2.5"), "free_amount": D("234.56")}
        assert rating.rate("percentage", D("1234.56"), free).amount == D("25.00")

    def test_percentage_per_transaction_minimum_and_maximum(self):
        # 10.00: 0.10 + 0.30 = 0.40, raised to the 0.50 minimum (+0.10);
        # 9,590.00: 95.90 + 0.30 = 96.20, capped at 5.00 (-91.20);
        # 400.00: 4.00 + 0.30 = 4.30.
        # Total 0.50 + 5.00 + 4.30 = 9.80 (= 100.00 + 0.90 + 0.10 - 91.20).
        result = rating.rate(
            "percentage", D("10000.00"), CARD_FEES, transactions=PAYMENTS
        )
        assert result.amount == D("9.80")
        assert [d.amount for d in result.details] == [
            D("100.00"),
            D("0.90"),
            D("0.10"),
            D("-91.20"),
        ]
        assert result.explain() == (
            "10,000.00 × 1% + 3 × 0.30 (per transaction)"
            " + 0.10 (minimum per transaction, 1 transaction)"
            " - 91.20 (maximum per transaction, 1 transaction)"
        )

    def test_percentage_free_transactions(self):
        # The first 2 transactions are free: 400.00 × 1% + 0.30 = 4.30.
        properties = dict(CARD_FEES, free_transactions=2)
        result = rating.rate(
            "percentage", D("10000.00"), properties, transactions=PAYMENTS
        )
        assert result.amount == D("4.30")
        # More free transactions than transactions: nothing to pay.
        properties["free_transactions"] = 5
        result = rating.rate(
            "percentage", D("10000.00"), properties, transactions=PAYMENTS
        )
        assert result.amount == 0

    def test_percentage_free_amount(self):
        # The first 500.00 are free: 100.00 is free entirely (no fee); 600.00 pays
        # on 200.00: 2.00 + 0.30 = 2.30; 9,300.00: 93.00 + 0.30 = 93.30.  95.60.
        properties = {"rate": D(1), "fixed_fee": D("0.30"), "free_amount": D(500)}
        payments = [D(100), D(600), D(9300)]
        result = rating.rate("percentage", D(10000), properties, transactions=payments)
        assert result.amount == D("95.60")
        assert result.details[0].units == D(9500)

    def test_percentage_included_units_use_the_first_transactions(self):
        # 50.00 included: the 10.00 transaction is not priced at all, 40.00 is
        # taken off the next one: 9,550.00 → 95.50 + 0.30, capped at 5.00;
        # 400.00 → 4.30.  9.30.
        result = rating.rate(
            "percentage",
            D("10000.00"),
            CARD_FEES,
            transactions=PAYMENTS,
            included_units=50,
        )
        assert result.amount == D("9.30")
        assert result.included_units_used == 50
        assert result.details[0].units == D("9950.00")

    def test_period_minimum_and_maximum(self):
        properties = {"unit_price": D(1)}
        # 10 × 1.00 = 10.00, raised to the 25.00 minimum.
        low = rating.rate("standard", 10, properties, min_amount=D(25))
        assert (low.amount, low.minimum_adjustment, low.maximum_adjustment) == (
            25,
            15,
            0,
        )
        assert low.explain() == "10 × 1.00 + 15.00 (minimum)"
        assert sum(d.amount for d in low.details) == 10
        # Capped at 5.00.
        high = rating.rate("standard", 10, properties, max_amount=D(5))
        assert (high.amount, high.minimum_adjustment, high.maximum_adjustment) == (
            5,
            0,
            -5,
        )
        assert high.explain() == "10 × 1.00 - 5.00 (maximum)"
        # Within the bounds: untouched.
        mid = rating.rate("standard", 10, properties, min_amount=5, max_amount=25)
        assert (mid.amount, mid.minimum_adjustment, mid.maximum_adjustment) == (
            10,
            0,
            0,
        )
        # Zero units cost the period minimum.
        zero = rating.rate("graduated", 0, {"tiers": THREE_TIERS}, min_amount=D("9.99"))
        assert zero.amount == D("9.99")
        assert zero.unit_amount is None
        assert zero.explain() == "0 + 9.99 (minimum)"

    def test_included_units(self):
        # 15,000 units, 1,000 included: 14,000 priced = 100 + 450 + 40 = 590.00.
        result = rating.rate(
            "graduated", 15000, {"tiers": THREE_TIERS}, included_units=D(1000)
        )
        assert result.amount == D("590.00")
        assert result.included_units_used == D(1000)
        assert result.priced_units == D(14000)
        assert result.units == D(15000)
        assert result.explain() == (
            "1,000 included + 1,000 × 0.10 + 9,000 × 0.05 + 4,000 × 0.01"
        )
        # An allowance larger than the use covers it all.
        small = rating.rate("standard", 300, {"unit_price": D(1)}, included_units=500)
        assert (small.amount, small.included_units_used) == (0, 300)

    def test_amounts_stay_unrounded(self):
        # 3 × 0.3333 = 0.9999: kept as such, rounded only on request.
        result = rating.rate("standard", 3, {"unit_price": D("0.3333")})
        assert result.amount == D("0.9999")
        assert result.details[0].amount == D("0.9999")
        assert result.rounded("0.01") == D("1.00")
        assert result.rounded(D("1")) == D(1)
        assert result.unit_amount == D("0.3333")

    def test_inputs_may_be_int_str_or_float(self):
        for price in (D("0.05"), "0.05", 0.05):
            assert rating.rate("standard", "1000", {"unit_price": price}).amount == 50
        assert rating.rate("standard", 2.5, {"unit_price": 2}).amount == 5

    def test_fractional_units(self):
        result = rating.rate("graduated", D("1000.5"), {"tiers": THREE_TIERS})
        assert result.amount == D("100.025")
        assert result.explain() == "1,000 × 0.10 + 0.5 × 0.05"

    def test_number_formats(self):
        for number, units, money in [
            (D(0), "0", "0.00"),
            (D("1000"), "1,000", "1,000.00"),
            (D("1000.00"), "1,000", "1,000.00"),
            (D("1E+3"), "1,000", "1,000.00"),
            (D("0.10"), "0.1", "0.10"),
            (D("0.0010"), "0.001", "0.001"),
            (D("0.0008"), "0.0008", "0.0008"),
            (D("1234567.125"), "1,234,567.125", "1,234,567.125"),
            (D("-91.2"), "-91.2", "-91.20"),
        ]:
            with self.subTest(number=number, units=units, money=money):
                assert base.fmt_units(number) == units
                assert base.fmt_money(number) == money


# ---------------------------------------------------------------- validation


def _tiers(*bounds):
    """Tiers ``[(from, to), ...]`` at 0.01."""
    return {"tiers": [tier(start, end, "0.01") for start, end in bounds]}


class TestValidation(CoreCase):
    def test_validate_errors(self):
        for model, properties, message in [
            (
                "tiered",
                {},
                "Unknown charge model 'tiered'; expected one of: dynamic, graduated,",
            ),
            (None, {}, "Unknown charge model None"),
            ("standard", [], "standard: the properties must be a dict, not list"),
            ("standard", {}, "standard: missing property 'unit_price'"),
            (
                "standard",
                {"unit_price": 1, "price": 1},
                "standard: unknown property 'price'; expected unit_price",
            ),
            (
                "standard",
                {"unit_price": D("-0.05")},
                "standard: 'unit_price' must not be negative (got -0.05)",
            ),
            ("standard", {"unit_price": "abc"}, "must be a number, not 'abc'"),
            ("standard", {"unit_price": True}, "must be a number, not True"),
            ("standard", {"unit_price": D("NaN")}, "must be a finite number"),
            ("standard", {"unit_price": float("inf")}, "must be a finite number"),
            ("graduated", {"tiers": []}, "'tiers' must be a non-empty list"),
            (
                "graduated",
                _tiers((0, 1000), (1200, None)),
                "graduated: tier 2 starts at 1,200 but tier 1 ends at 1,000: the "
                "units between 1,000 and 1,200 are in no tier (gap). Make tier 2 "
                "start at 1,000.",
            ),
            (
                "volume",
                _tiers((0, 1000), (800, None)),
                "volume: tier 2 starts at 800 but tier 1 ends at 1,000: it overlaps "
                "the previous tier. Make tier 2 start at 1,000.",
            ),
            ("graduated", _tiers((10, None)), "tier 1 starts at 10: the first tier"),
            (
                "graduated",
                _tiers((0, 100), (100, 200)),
                "tier 2, the last tier, ends at 200: set its 'to' to None",
            ),
            (
                "graduated",
                _tiers((0, None), (100, None)),
                "tier 1 has no upper bound ('to': None) but is not the last tier",
            ),
            (
                "graduated",
                _tiers((0, 0), (0, None)),
                "tier 1 ends at 0, not after its start 0",
            ),
            (
                "graduated",
                {"tiers": [tier(0, None, "-1")]},
                "graduated: tier 1 'unit_price' must not be negative (got -1)",
            ),
            (
                "volume",
                {"tiers": [tier(0, None, "1", "-2")]},
                "volume: tier 1 'flat_fee' must not be negative (got -2)",
            ),
            (
                "graduated",
                {"tiers": [{"from": 0, "to": None}]},
                "graduated: tier 1: missing property 'unit_price'",
            ),
            (
                "graduated_percentage",
                {"tiers": [tier(0, None, "101", key="rate")]},
                "tier 1 'rate' is a percentage and must be between 0 and 100 (got 101)",
            ),
            (
                "percentage",
                {"rate": D("100.01")},
                "percentage: 'rate' is a percentage and must be between 0 and 100",
            ),
            (
                "percentage",
                {"rate": D("-1")},
                "percentage: 'rate' is a percentage and must be between 0 and 100",
            ),
            (
                "percentage",
                {"rate": 1, "free_transactions": 2, "free_amount": 5},
                "set either 'free_transactions' or 'free_amount', not both",
            ),
            (
                "percentage",
                {"rate": 1, "free_transactions": D("1.5")},
                "'free_transactions' must be a whole number (got 1.5)",
            ),
            (
                "percentage",
                {
                    "rate": 1,
                    "per_transaction_min_amount": 5,
                    "per_transaction_max_amount": 1,
                },
                "'per_transaction_min_amount' (5) is greater than "
                "'per_transaction_max_amount' (1)",
            ),
            (
                "package",
                {"package_size": 0, "package_price": 5},
                "package: 'package_size' must be greater than 0 (got 0)",
            ),
            (
                "package",
                {"package_size": -10, "package_price": 5},
                "package: 'package_size' must not be negative (got -10)",
            ),
            (
                "package",
                {"package_size": 10, "package_price": 5, "free_units": -1},
                "package: 'free_units' must not be negative (got -1)",
            ),
        ]:
            with self.subTest(model=model, properties=properties, message=message):
                with self.assertRaises(rating.RatingError) as error:
                    rating.validate(model, properties)
                assert message in str(error.exception)
                # rate() validates the same way.
                with self.assertRaisesRegex(
                    rating.RatingError, "^" + re.escape(str(error.exception))
                ):
                    rating.rate(model, 1, properties)

    def test_validate_accepts_good_properties(self):
        rating.validate("standard", {"unit_price": "0.05"})
        rating.validate("graduated", {"tiers": THREE_TIERS})
        rating.validate("volume", {"tiers": VOLUME_TIERS})
        rating.validate("package", PACKAGE)
        rating.validate("percentage", dict(CARD_FEES, free_amount=10))
        # flat_fee is optional
        rating.validate(
            "graduated", {"tiers": [{"from": 0, "to": None, "unit_price": 1}]}
        )
        # RatingError is a ValueError
        assert issubclass(rating.RatingError, ValueError)

    def test_rate_errors(self):
        for kwargs, message in [
            ({"units": -1}, "units must not be negative (got -1)"),
            ({"units": None}, "units must be a number, not None"),
            ({"included_units": -5}, "included_units must not be negative (got -5)"),
            ({"min_amount": -1}, "min_amount must not be negative"),
            ({"min_amount": 10, "max_amount": 5}, "min_amount (10) is greater than"),
            (
                {"transactions": 3},
                "The standard charge model does not use 'transactions' (only dynamic "
                "and percentage do): leave it out.",
            ),
        ]:
            with self.subTest(kwargs=kwargs, message=message):
                kwargs = {"units": 10, **kwargs}
                with self.assertRaises(rating.RatingError) as error:
                    rating.rate("standard", properties={"unit_price": 1}, **kwargs)
                assert message in str(error.exception)

    def test_percentage_transaction_errors(self):
        for properties, transactions, message in [
            (CARD_FEES, 3, "pass 'transactions' as the list of transaction amounts"),
            (CARD_FEES, None, "pass 'transactions' as the list of transaction amounts"),
            ({"rate": 1, "free_transactions": 1}, 3, "depend on each transaction's"),
            (
                {"rate": 1, "fixed_fee": D("0.3"), "free_amount": 5},
                3,
                "depend on each transaction's amount",
            ),
            ({"rate": 1, "fixed_fee": D("0.3")}, None, "a fixed fee per transaction"),
            (CARD_FEES, [D(1), D(2)], "The transactions add up to 3, not to units"),
            (
                CARD_FEES,
                [D(20), D(-10)],
                "transaction 2 must not be negative (got -10)",
            ),
            ({"rate": 1}, -1, "transactions must not be negative (got -1)"),
            ({"rate": 1}, D("2.5"), "transactions must be a whole number (got 2.5)"),
        ]:
            with self.subTest(
                properties=properties, transactions=transactions, message=message
            ):
                with self.assertRaises(rating.RatingError) as error:
                    rating.rate("percentage", 10, properties, transactions=transactions)
                assert message in str(error.exception)

    def test_registry(self):
        assert set(rating.CHARGE_MODELS) == {
            "standard",
            "graduated",
            "volume",
            "package",
            "percentage",
            "graduated_percentage",
            "dynamic",
        }
        assert rating.get_model("percentage").transactions
        assert not rating.get_model("standard").transactions

    def test_register_a_new_model(self):
        def parse(properties):
            base.check_keys("flat", properties, ("fee",))
            return base.non_negative(properties["fee"], "flat: 'fee'")

        @base.register("flat", parse=parse)
        def price(units, fee, transactions):
            return [rating.TierDetail(D(1), fee, base.ZERO, fee)]

        try:
            assert rating.rate("flat", 7, {"fee": "12.5"}).amount == D("12.5")

            # Another module cannot take a registered name over.
            def other(units, fee, transactions):
                return []

            other.__module__ = "elsewhere"
            with self.assertRaisesRegex(rating.RatingError, "already registered by "):
                base.register("flat", parse=parse)(other)
            # Re-running the same module (a reload) registers it again.
            assert base.register("flat", parse=parse)(price) is price
        finally:
            del rating.CHARGE_MODELS["flat"]


# ---------------------------------------------------------------- properties

units_st = st.decimals(min_value=0, max_value=10**7, places=4)
price_st = st.decimals(min_value=0, max_value=10, places=4)
fee_st = st.decimals(min_value=0, max_value=100, places=2)
money_st = st.decimals(min_value=0, max_value=10**5, places=2)


@st.composite
def tiers_st(draw, key="unit_price", price=price_st):
    bound = st.decimals(min_value="0.01", max_value=10**6, places=2)
    bounds = sorted(draw(st.sets(bound, max_size=5)))
    starts = [D(0), *bounds]
    ends = [*bounds, None]
    return [
        {"from": start, "to": end, key: draw(price), "flat_fee": draw(fee_st)}
        for start, end in zip(starts, ends, strict=True)
    ]


def _check_details(result):
    """Details add up exactly; each one is units × price + flat fee."""
    subtotal = sum((d.amount for d in result.details), D(0))
    assert subtotal + result.minimum_adjustment + result.maximum_adjustment == (
        result.amount
    )
    for detail in result.details:
        if detail.kind not in (base.MINIMUM, base.MAXIMUM):
            assert detail.amount == detail.units * detail.unit_price + detail.flat_fee
    return subtotal


class TestTierProperties(CoreCase):
    @PROPERTIES
    @given(tiers=tiers_st(), a=units_st, b=units_st)
    def test_graduated_is_non_decreasing(self, tiers, a, b):
        low, high = sorted((a, b))
        properties = {"tiers": tiers}
        assert (
            rating.rate("graduated", low, properties).amount
            <= rating.rate("graduated", high, properties).amount
        )

    @PROPERTIES
    @given(
        model=st.sampled_from(["graduated", "volume"]), tiers=tiers_st(), units=units_st
    )
    def test_tier_details_sum_to_the_amount(self, model, tiers, units):
        result = rating.rate(model, units, {"tiers": tiers})
        assert _check_details(result) == result.amount
        if model == "graduated":
            assert sum((d.units for d in result.details), D(0)) == units
            # Graduated flat fees: one per tier entered with more than 0 units.
            entered = [t for t in tiers if units > t["from"]]
            assert [d.flat_fee for d in result.details] == [
                t["flat_fee"] for t in entered
            ]

    @PROPERTIES
    @given(tiers=tiers_st(), units=units_st)
    def test_volume_is_units_times_the_reached_tier(self, tiers, units):
        result = rating.rate("volume", units, {"tiers": tiers})
        if units == 0:
            assert result.amount == 0
            return
        (reached,) = [
            t
            for t in tiers
            if t["from"] < units and (t["to"] is None or units <= t["to"])
        ]
        assert result.amount == units * reached["unit_price"] + reached["flat_fee"]

    @PROPERTIES
    @given(
        size=st.decimals(min_value="0.5", max_value=1000, places=1),
        package_price=price_st,
        free=st.decimals(min_value=0, max_value=1000, places=0),
        units=units_st,
    )
    def test_package_formula(self, size, package_price, free, units):
        properties = {"package_size": size, "package_price": package_price}
        properties["free_units"] = free
        result = rating.rate("package", units, properties)
        packages = math.ceil(max(units - free, 0) / size)
        assert result.amount == packages * package_price
        _check_details(result)


@st.composite
def any_charge(draw):
    model = draw(st.sampled_from(sorted(rating.CHARGE_MODELS)))
    if model == "standard":
        properties = {"unit_price": draw(price_st)}
    elif model == "package":
        properties = {
            "package_size": draw(st.integers(1, 1000)),
            "package_price": draw(fee_st),
            "free_units": draw(st.integers(0, 1000)),
        }
    elif model == "graduated_percentage":
        rate = st.decimals(min_value=0, max_value=100, places=3)
        properties = {"tiers": draw(tiers_st(key="rate", price=rate))}
    elif model == "percentage":
        properties = {"rate": draw(st.decimals(min_value=0, max_value=100, places=3))}
    elif model == "dynamic":
        properties = {}
    else:
        properties = {"tiers": draw(tiers_st())}
    return model, properties


class TestRatingEdges(CoreCase):
    @PROPERTIES
    @given(
        charge=any_charge(),
        minimum=st.none() | money_st,
        maximum=st.none() | money_st,
    )
    def test_zero_units_cost_only_the_period_minimum(self, charge, minimum, maximum):
        assume(minimum is None or maximum is None or minimum <= maximum)
        model, properties = charge
        result = rating.rate(
            model, 0, properties, min_amount=minimum, max_amount=maximum
        )
        assert result.amount == (minimum or 0)
        assert sum((d.amount for d in result.details), D(0)) == 0
        assert result.unit_amount is None

    @PROPERTIES
    @given(
        charge=any_charge(),
        units=units_st,
        included=units_st,
        minimum=st.none() | money_st,
        maximum=st.none() | money_st,
    )
    def test_allowance_and_period_bounds(
        self,
        charge,
        units,
        included,
        minimum,
        maximum,
    ):
        assume(minimum is None or maximum is None or minimum <= maximum)
        model, properties = charge
        result = rating.rate(
            model,
            units,
            properties,
            included_units=included,
            min_amount=minimum,
            max_amount=maximum,
        )
        subtotal = _check_details(result)
        # The allowance is taken off first ...
        bare = rating.rate(model, max(units - included, 0), properties)
        assert subtotal == bare.amount
        assert result.included_units_used == min(units, included)
        # ... then the period minimum and maximum bound the amount.
        expected = subtotal
        if minimum is not None:
            expected = max(expected, minimum)
        if maximum is not None:
            expected = min(expected, maximum)
        assert result.amount == expected
        assert result.minimum_adjustment >= 0 >= result.maximum_adjustment
        if units:
            assert result.unit_amount == result.amount / units
        assert isinstance(result.explain(), str)

    @PROPERTIES
    @given(
        payments=st.lists(money_st, max_size=20),
        rate=st.decimals(min_value=0, max_value=100, places=2),
        fixed_fee=st.decimals(min_value=0, max_value=2, places=2),
        minimum=st.none() | st.decimals(min_value=0, max_value=1, places=2),
        maximum=st.decimals(min_value=1, max_value=50, places=2),
        free=st.one_of(
            st.just({}),
            st.builds(lambda n: {"free_transactions": n}, st.integers(0, 5)),
            st.builds(lambda x: {"free_amount": x}, money_st),
        ),
    )
    def test_percentage_never_exceeds_the_maximum_per_transaction(
        self,
        payments,
        rate,
        fixed_fee,
        minimum,
        maximum,
        free,
    ):
        properties = {
            "rate": rate,
            "fixed_fee": fixed_fee,
            "per_transaction_min_amount": minimum,
            "per_transaction_max_amount": maximum,
            **free,
        }
        amount = sum(payments, D(0))
        result = rating.rate("percentage", amount, properties, transactions=payments)
        assert 0 <= result.amount <= maximum * len(payments)
        _check_details(result)
        # Without limits nor free terms, it is the rate plus the fees.
        plain = {"rate": rate, "fixed_fee": fixed_fee}
        plain_result = rating.rate("percentage", amount, plain, transactions=payments)
        assert plain_result.amount == amount * rate / 100 + fixed_fee * len(payments)
        # A count gives the same as the list when it is enough.
        counted = rating.rate("percentage", amount, plain, transactions=len(payments))
        assert counted.amount == plain_result.amount

    # ---------------------------------------------------------------- issue 13

    def test_validate_terms_without_transactions(self):
        for properties in [
            {"rate": D("1.2"), "fixed_fee": D("0.10")},
            {"rate": D("1.2"), "fixed_fee": D("0.10"), "free_transactions": 3},
            {"rate": D("1.2"), "fixed_fee": D("0.10"), "free_amount": D(100)},
            {"rate": D("1.2"), "per_transaction_min_amount": D("0.50")},
            {"rate": D("1.2"), "per_transaction_max_amount": D(5)},
        ]:
            with self.subTest(properties=properties):
                # Rating 0 units without transactions refuses these terms ...
                with self.assertRaisesRegex(rating.RatingError, "transaction"):
                    rating.rate("percentage", 0, properties)
                # ... which are valid: the check of a line does not rate them.
                rating.validate_terms(
                    "percentage",
                    properties,
                    included_units=10,
                    min_amount=1,
                    max_amount=50,
                )

    def test_validate_terms_errors(self):
        for kwargs, message in [
            ({"properties": {"rate": 101}}, "'rate' is a percentage"),
            ({"included_units": -1}, "included_units must not be negative"),
            ({"min_amount": 10, "max_amount": 5}, "min_amount (10) is greater than"),
            ({"max_amount": float("inf")}, "max_amount must be a finite number"),
        ]:
            with self.subTest(kwargs=kwargs, message=message):
                kwargs = {"properties": {"rate": 1, "fixed_fee": 1}, **kwargs}
                with self.assertRaises(rating.RatingError) as error:
                    rating.validate_terms("percentage", **kwargs)
                assert message in str(error.exception)

    def test_percentage_fee_per_transaction_after_free_transactions(self):
        # 1.2% + 0.10 per transaction, the first 3 free: the 4th, of 50.00,
        # costs 0.60 + 0.10 = 0.70.
        properties = {"rate": D("1.2"), "fixed_fee": D("0.10"), "free_transactions": 3}
        payments = [D("10.00"), D("20.00"), D("30.00"), D("50.00")]
        result = rating.rate(
            "percentage", D("110.00"), properties, transactions=payments
        )
        assert result.amount == D("0.70")
        assert result.explain() == "50.00 × 1.2% + 1 × 0.10 (per transaction)"

    def test_exact_transactions_add_up(self):
        # Read exactly, 10.10 + 20.20 + 0.10 + 0.20 is 30.60: no "add up to
        # 30.5999..." refusal, and 1.2% of it is 0.3672.
        payments = ["10.10", "20.20", "0.10", "0.20"]
        amounts = [base.to_decimal(p) for p in payments]
        total = sum(amounts, D(0))
        assert total == D("30.60")
        result = rating.rate("percentage", total, {"rate": "1.2"}, transactions=amounts)
        assert result.amount == D("0.3672")
        # The float digits of the same amounts do not add up: what the engine
        # refused when quantities were read through Decimal(float).
        noisy = [D(float(p)) for p in payments]
        with self.assertRaisesRegex(rating.RatingError, "add up to"):
            rating.rate("percentage", total, {"rate": "1.2"}, transactions=noisy)

    def test_to_decimal_reads_floats_and_text_exactly(self):
        assert base.to_decimal(2.675) == D("2.675")
        assert base.to_decimal("2.675") == D("2.675")
        assert base.to_decimal("1E+29") == 10**29
        result = rating.rate("standard", base.to_decimal(2.675), {"unit_price": "1.00"})
        assert result.rounded("0.01") == D("2.68")
        # Decimal(float) gives 2.67499999999999982236431605997495353221893310546875.
        assert rating.rate("standard", D(2.675), {"unit_price": 1}).rounded(
            "0.01"
        ) == D("2.67")
        for bad in ("Infinity", "-Infinity", "NaN", float("inf"), float("nan")):
            with self.assertRaisesRegex(rating.RatingError, "finite number"):
                base.to_decimal(bad, "units")

    def test_engine_refuses_figures_it_cannot_price(self):
        for units, properties, message in [
            (
                "1E+29",
                {"unit_price": 1},
                "1.00E+29 units is more than the engine rates",
            ),
            ("1E+308", {"unit_price": 0}, "1.00E+308 units is more than the engine"),
            ("1" * 400, {"unit_price": 1}, "units is more than the engine rates"),
            ("Infinity", {"unit_price": 1}, "units must be a finite number"),
            ("NaN", {"unit_price": 1}, "units must be a finite number"),
            (10**14, {"unit_price": 1}, "more than an invoice line can hold"),
            (1, {"unit_price": "1E+999999"}, "more than an invoice line can hold"),
            (10, {"unit_price": "1E+999999"}, "cannot be computed (Overflow)"),
        ]:
            with self.subTest(units=units, properties=properties, message=message):
                with self.assertRaises(rating.RatingError) as error:
                    rating.rate("standard", units, properties)
                assert message in str(error.exception)
                # The message stays short, whatever the size of the number.
                assert len(str(error.exception)) < 300

    def test_engine_bounds_are_inclusive_below(self):
        # Just below the bounds, the engine rates as usual.
        below = base.MAX_AMOUNT - D("0.01")
        assert rating.rate("standard", below, {"unit_price": 1}).amount == below
        assert rating.rate("standard", base.MAX_UNITS, {"unit_price": 0}).amount == 0

    def test_fmt_units_with_decimals(self):
        for number, decimals, text in [
            (D("2.50"), 2, "2.5"),
            (D("1500.000"), 0, "1,500"),
            (D("2.675"), 3, "2.675"),
            (D("2.675"), 6, "2.675"),
            (D("2.675"), 2, "2.68"),
            (2.675, 2, "2.68"),
            (D("1E+3"), 1, "1,000"),
            (D("0.000001"), 6, "0.000001"),
            (D("7") / D("3"), 6, "2.333333"),
        ]:
            with self.subTest(number=number, decimals=decimals, text=text):
                assert base.fmt_units(number, decimals) == text

    @PROPERTIES
    @given(
        quantities=st.lists(
            st.decimals(min_value=0, max_value=10**6, places=3), min_size=1, max_size=20
        )
    )
    def test_float_round_trip_of_stored_quantities_is_exact(self, quantities):
        # What the database hands back (a float) reads back as the decimal stored.
        for quantity in quantities:
            assert base.to_decimal(float(quantity)) == quantity
        total = sum(quantities, D(0))
        result = rating.rate(
            "percentage",
            total,
            {"rate": "1.2"},
            transactions=[base.to_decimal(float(q)) for q in quantities],
        )
        assert result.amount == total * D("0.012")


class TestChargeDetails(CoreCase):
    def test_details_written_and_read_back_exactly(self):
        # The JSON details of a charge: decimal strings, read back as the exact
        # figures, by the one pair of functions that knows their keys.
        result = rating.rate(
            "graduated", D("12000.5"), {"tiers": THREE_TIERS}, included_units=D(500)
        )

        class Roll:  # the allowance of the period (core.allowance.Allowance)
            included, carried_in, used = D(500), D("0"), D(500)
            expired, carried_out, billed = D(0), D(0), D("11500.5")

        details = result.to_details(
            metric="api_calls",
            period=("2026-03-01", "2026-03-31"),
            events=3,
            quantity=D("12000.5"),
            amount=result.amount,
            amount_rounded=result.rounded("0.01"),
            explanation=result.explain(),
            allowance=Roll,
        )
        assert details["tiers"][0] == {
            "units": "1000",
            "unit_price": "0.10",
            "flat_fee": "0",
            "amount": "100.00",
            "from": "0",
            "to": "1000",
            "kind": "tier",
            "note": "",
        }
        assert details["late"] is False and "billed_before" not in details
        stored = base.RatingResult.from_details(details)
        assert stored.quantity == D("12000.5")
        assert stored.amount == result.amount == D("565.005")
        assert (stored.used, stored.billed, stored.available) == (
            D(500),
            D("11500.5"),
            D(500),
        )
        late = result.to_details(
            metric="api_calls",
            period=("2026-03-01", "2026-03-31"),
            events=1,
            quantity=D("12000.5"),
            amount=D("0.5"),
            amount_rounded=D("0.50"),
            explanation="",
            billed_before=D("565"),
        )
        assert late["late"] is True and late["billed_before"] == "565"
        read = base.RatingResult.from_details(late)
        assert (read.late, read.allowance, read.billed) == (True, None, D("11500.5"))
        empty = base.RatingResult.from_details(None)
        assert (empty.quantity, empty.amount, empty.billed) == (D(0), D(0), D(0))
