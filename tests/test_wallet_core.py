# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Prepaid credit allocation (``core/wallet``): unittest, no database, no Odoo."""

from datetime import date
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from ..core import wallet as wl
from .core_case import CoreCase

money = st.decimals(min_value=0, max_value=10**9, places=2)
wallet_st = st.builds(
    wl.Wallet,
    key=st.integers(1, 10**6),
    balance=money,
    priority=st.integers(0, 5),
    expiry=st.none() | st.dates(date(2026, 1, 1), date(2026, 12, 31)),
    policy=st.sampled_from(wl.POLICIES),
)


class TestWalletAllocation(CoreCase):
    def test_a_wallet_of_50_covers_an_invoice_of_30(self):
        """50.00 of credit, 30.00 due: 30.00 paid (0.00 due, 20.00 left)."""
        assert wl.allocate(D("30.00"), [wl.Wallet(1, D("50.00"))]) == [(1, D("30.00"))]

    def test_a_wallet_of_20_pays_20_of_30(self):
        """20.00 left, 30.00 due: 20.00 paid, 10.00 still due."""
        assert wl.allocate(D("30.00"), [wl.Wallet(1, D("20.00"))]) == [(1, D("20.00"))]

    def test_priority_then_earliest_expiry(self):
        """Priority 1 pays first (10.00), then of the two priority-5 wallets
        the one expiring first (15.00), then the other (5.00 of 100.00)."""
        wallets = [
            wl.Wallet("late", D("100"), 5, date(2026, 9, 1)),
            wl.Wallet("never", D("100"), 5, None),
            wl.Wallet("first", D("10"), 1, None),
            wl.Wallet("soon", D("15"), 5, date(2026, 6, 1)),
        ]
        assert wl.allocate(D("30"), wallets) == [
            ("first", D("10")),
            ("soon", D("15")),
            ("late", D("5")),
        ]

    def test_expired_wallet_is_skipped(self):
        """Expired on 31 March, invoice of 1 April: not used; usable on 31 March."""
        wallet = wl.Wallet(1, D("50"), expiry=date(2026, 3, 31))
        assert wl.allocate(D("30"), [wallet], on=date(2026, 4, 1)) == []
        assert wl.allocate(D("30"), [wallet], on=date(2026, 3, 31)) == [(1, D("30"))]

    def test_usage_wallet_pays_usage_lines_only(self):
        """70.00 due of which 12.50 usage: the usage wallet (priority 1) pays
        12.50; the any-line wallet pays the other 57.50."""
        wallets = [
            wl.Wallet("usage", D("100"), 1, policy=wl.USAGE),
            wl.Wallet("any", D("100"), 2),
        ]
        assert wl.allocate(D("70"), wallets, usage_due=D("12.50")) == [
            ("usage", D("12.50")),
            ("any", D("57.50")),
        ]

    def test_any_wallet_pays_other_lines_first(self):
        """70.00 due, 12.50 usage: an any-line wallet of 60.00 first pays the
        57.50 of other lines and 2.50 of usage; the usage wallet the last 10.00."""
        wallets = [
            wl.Wallet("any", D("60"), 1),
            wl.Wallet("usage", D("100"), 2, policy=wl.USAGE),
        ]
        assert wl.allocate(D("70"), wallets, usage_due=D("12.50")) == [
            ("any", D("60")),
            ("usage", D("10.00")),
        ]

    def test_bad_amounts_are_refused(self):
        for bad in (D("NaN"), D("Infinity"), D("-1"), 30.0):
            with self.assertRaises(wl.WalletError):
                wl.allocate(bad, [wl.Wallet(1, D("5"))])
        with self.assertRaises(wl.WalletError):
            wl.allocate(D("5"), [wl.Wallet(1, D("-5"))])
        with self.assertRaises(wl.WalletError):
            wl.allocate(D("5"), [], usage_due=D("6"))

    @settings(max_examples=300, deadline=None)
    @given(
        due=money,
        usage_share=st.decimals(min_value=0, max_value=1, places=2),
        wallets=st.lists(wallet_st, max_size=6, unique_by=lambda w: w.key),
        on=st.none() | st.dates(date(2026, 1, 1), date(2026, 12, 31)),
    )
    def test_allocation_invariants(self, due, usage_share, wallets, on):
        usage_due = (due * usage_share).quantize(D("0.01"))
        result = wl.allocate(due, wallets, usage_due=usage_due, on=on)
        by_key = {w.key: w for w in wallets}
        paid = sum((amount for __, amount in result), D(0))
        # Never more than due; never more than a balance; exact sum.
        assert paid <= due
        usage_paid = sum((a for k, a in result if by_key[k].policy == wl.USAGE), D(0))
        assert usage_paid <= usage_due
        for key, amount in result:
            assert D(0) < amount <= by_key[key].balance
            assert wl.usable(by_key[key], on)
            assert amount.as_tuple().exponent >= -2
        # Priority order respected: the result follows the paying order.
        keys = [k for k, __ in result]
        ordered = [w.key for w in wl.order(wallets) if w.key in keys]
        assert keys == ordered
        # Any-line wallets alone: the due is covered as far as their balances go.
        if all(w.policy == wl.ANY for w in wallets):
            available = sum((w.balance for w in wallets if wl.usable(w, on)), D(0))
            assert paid == min(due, available)

    def test_two_wallets_by_priority_pay_an_invoice_of_11_50(self):
        """Priority 1 holds 5.00, priority 2 holds 100.00; 11.50 due (10.00 +
        15 % tax): 5.00 from the first, 11.50 - 5.00 = 6.50 from the second."""
        wallets = [wl.Wallet("p2", D("100.00"), 2), wl.Wallet("p1", D("5.00"), 1)]
        assert wl.allocate(D("11.50"), wallets) == [
            ("p1", D("5.00")),
            ("p2", D("6.50")),
        ]

    @settings(max_examples=200, deadline=None)
    @given(
        due=money, wallets=st.lists(wallet_st, max_size=6, unique_by=lambda w: w.key)
    )
    def test_sum_allocated_is_min_of_balance_and_due(self, due, wallets):
        """Any-line wallets: sum allocated = min(total usable balance, due)."""
        wallets = [w for w in wallets if w.policy == wl.ANY]
        result = wl.allocate(due, wallets)
        total = sum((w.balance for w in wallets), D(0))
        assert sum((a for __, a in result), D(0)) == min(total, due)
