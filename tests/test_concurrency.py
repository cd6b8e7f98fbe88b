# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Billing runs on several workers at once, with real, committed transactions.

These tests open their own database connections (as separate Odoo workers or
servers would), commit their data, and delete it afterwards.
"""

import threading
from contextlib import contextmanager, suppress
from datetime import date, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command, sql_db
from odoo.tests import tagged

from .common import CommittedCase, committed_env, db_name

UP_TO = date(2026, 3, 1)
START = "2026-01-01"  # three monthly periods due by UP_TO: catch-up included


def _product_and_plan(env, name, invoice_policy):
    product = env["product.product"].create(
        {"name": f"{name} service", "type": "service", "lst_price": 10.0}
    )
    plan = env["subscription.plan"].create(
        {
            "name": f"{name} plan",
            "invoice_policy": invoice_policy,
            "line_ids": [
                Command.create({"product_id": product.id, "price_unit": 10.0})
            ],
        }
    )
    return product, plan


def _run_in_two_workers(func):
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        try:
            with committed_env() as env:
                barrier.wait(timeout=30)
                func(env)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for __ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors


@contextmanager
def _subscriptions():
    """30 started subscriptions, committed; removed with their invoices after."""
    with committed_env() as env:
        product, plan = _product_and_plan(env, "Concurrency", "draft")
        partners = env["res.partner"].create(
            [{"name": f"Concurrent customer {i}"} for i in range(30)]
        )
        subs = env["subscription.subscription"].create(
            [
                {"partner_id": p.id, "plan_id": plan.id, "date_start": START}
                for p in partners
            ]
        )
        subs.action_start()
        ids = {
            "subs": subs.ids,
            "plan": plan.id,
            "product": product.id,
            "partners": partners.ids,
        }
    try:
        yield ids
    finally:
        with committed_env() as env:
            subs = env["subscription.subscription"].browse(ids["subs"])
            subs.period_ids.invoice_id.unlink()
            subs.unlink()
            env["subscription.plan"].browse(ids["plan"]).unlink()
            env["product.product"].browse(ids["product"]).unlink()
            env["res.partner"].browse(ids["partners"]).unlink()


def _billing_summary(sub_ids):
    with committed_env() as env:
        return [
            (row["subscription_id"][0], row["period_start"], row["invoice_id"][0])
            for row in env["subscription.period"].search_read(
                [("subscription_id", "in", sub_ids)],
                ["subscription_id", "period_start", "invoice_id"],
            )
        ]


def _assert_billed_once(sub_ids):
    rows = _billing_summary(sub_ids)
    per_sub = {}
    for sub_id, start, invoice_id in rows:
        per_sub.setdefault(sub_id, []).append((start, invoice_id))
    assert set(per_sub) == set(sub_ids)
    for periods in per_sub.values():
        starts = sorted(start for start, __ in periods)
        assert starts == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
        assert len({invoice for __, invoice in periods}) == 3
    with committed_env() as env:
        invoices = env["account.move"].search(
            [("subscription_period_ids.subscription_id", "in", sub_ids)]
        )
        assert len(invoices) == 90
        assert set(invoices.mapped("amount_untaxed")) == {10.0}


@tagged("post_install", "-at_install")
class TestConcurrentBilling(CommittedCase):
    def setUp(self):
        super().setUp()
        self.subscriptions = self.enterContext(_subscriptions())

    def test_two_workers_at_once_bill_each_period_once(self):
        subscriptions = self.subscriptions
        billed = []

        def bill(env):
            moves = env["subscription.subscription"]._generate_due_invoices(
                UP_TO, batch_size=4, commit=True
            )
            billed.append(len(moves))

        _run_in_two_workers(bill)
        assert sum(billed) == 90, billed
        _assert_billed_once(subscriptions["subs"])

    def test_locked_subscriptions_are_skipped_not_waited_for(self):
        """A worker skips the subscriptions another one holds, then bills them later."""
        subscriptions = self.subscriptions
        held = subscriptions["subs"][:5]
        with sql_db.db_connect(db_name()).cursor() as holder:
            holder.execute(
                "SELECT id FROM subscription_subscription"
                " WHERE id = ANY(%s) FOR UPDATE",
                [held],
            )
            with committed_env() as env:
                moves = env["subscription.subscription"]._generate_due_invoices(
                    UP_TO, batch_size=10, commit=True
                )
                assert len(moves) == 75
            holder.rollback()
        with committed_env() as env:
            moves = env["subscription.subscription"]._generate_due_invoices(
                UP_TO, batch_size=10, commit=True
            )
            assert len(moves) == 15
        _assert_billed_once(subscriptions["subs"])


@contextmanager
def _failing_charges():
    """20 posted subscription invoices whose saved method is declined."""
    with committed_env() as env:
        provider = env["payment.provider"].search(
            [("code", "=", "demo"), ("company_id", "=", env.company.id)], limit=1
        )
        journal = env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", env.company.id)], limit=1
        )
        provider.write({"state": "test", "journal_id": journal.id})
        product, plan = _product_and_plan(env, "Concurrent charge", "post")
        partners = env["res.partner"].create(
            [{"name": f"Concurrent payer {i}"} for i in range(20)]
        )
        tokens = env["payment.token"].create(
            [
                {
                    "provider_id": provider.id,
                    "payment_method_id": provider.payment_method_ids[:1].id,
                    "payment_details": "4242",
                    "partner_id": partner.id,
                    "provider_ref": "concurrency",
                    "demo_simulated_state": "error",
                }
                for partner in partners
            ]
        )
        subs = env["subscription.subscription"].create(
            [
                {
                    "partner_id": partner.id,
                    "plan_id": plan.id,
                    "date_start": START,
                    "payment_token_id": token.id,
                }
                for partner, token in zip(partners, tokens, strict=True)
            ]
        )
        subs.action_start()
        moves = subs._generate_due_invoices(date(2026, 1, 1))
        assert len(moves) == 20 and all(moves.mapped("subscription_to_charge"))
        ids = {
            "subs": subs.ids,
            "invoices": moves.ids,
            "plan": plan.id,
            "product": product.id,
            "partners": partners.ids,
            "tokens": tokens.ids,
        }
    try:
        yield ids
    finally:
        with committed_env() as env:
            invoices = env["account.move"].browse(ids["invoices"])
            env["payment.transaction"].search(
                [("invoice_ids", "in", invoices.ids)]
            ).unlink()
            invoices.button_draft()
            invoices.unlink()
            env["subscription.subscription"].browse(ids["subs"]).unlink()
            env["payment.token"].browse(ids["tokens"]).unlink()
            env["subscription.plan"].browse(ids["plan"]).unlink()
            env["product.product"].browse(ids["product"]).unlink()
            env["res.partner"].browse(ids["partners"]).unlink()


@tagged("post_install", "-at_install")
class TestConcurrentCharges(CommittedCase):
    def setUp(self):
        super().setUp()
        self.failing_charges = self.enterContext(_failing_charges())

    def test_two_workers_charge_and_retry_each_invoice_once(self):
        failing_charges = self.failing_charges

        def charges():
            with committed_env() as env:
                events = env["subscription.dunning.event"].search(
                    [("invoice_id", "in", failing_charges["invoices"])]
                )
                per_invoice = {}
                for event in events.filtered("attempt_number"):
                    per_invoice.setdefault(event.invoice_id.id, []).append(
                        event.attempt_number
                    )
                transactions = env["payment.transaction"].search_count(
                    [("invoice_ids", "in", failing_charges["invoices"])]
                )
                dunnings = env["subscription.dunning"].search_count(
                    [("invoice_id", "in", failing_charges["invoices"])]
                )
                return per_invoice, transactions, dunnings

        def run(env):
            env["subscription.dunning"]._cron_process(batch_size=3)

        with freeze_time("2026-01-01", tick=True):
            _run_in_two_workers(run)
        per_invoice, transactions, dunnings = charges()
        assert transactions == 20 and dunnings == 20
        assert all(numbers == [1] for numbers in per_invoice.values())
        assert len(per_invoice) == 20
        with freeze_time("2026-01-04", tick=True):  # the day-3 retry
            _run_in_two_workers(run)
        per_invoice, transactions, dunnings = charges()
        assert transactions == 40 and dunnings == 20
        assert all(sorted(numbers) == [1, 2] for numbers in per_invoice.values())


@contextmanager
def _overdue_customers():
    """3 customers with 3 overdue invoices each, paid without a saved
    method: 9 follow-ups opened, committed; removed after."""
    with committed_env() as env:
        product, plan = _product_and_plan(env, "Concurrent reminder", "post")
        partners = env["res.partner"].create(
            [{"name": f"Reminded customer {i}"} for i in range(3)]
        )
        subs = env["subscription.subscription"].create(
            [
                {"partner_id": partner.id, "plan_id": plan.id, "date_start": START}
                for partner in partners
                for __ in range(3)
            ]
        )
        subs.action_start()
        moves = subs._generate_due_invoices(date(2026, 1, 1))
        assert len(moves) == 9 and set(moves.mapped("state")) == {"posted"}
        due = max(moves.mapped("invoice_date_due"))
        env["subscription.dunning"]._open_overdue(due + timedelta(days=1))
        dunnings = env["subscription.dunning"].search([("invoice_id", "in", moves.ids)])
        assert len(dunnings) == 9
        ids = {
            "subs": subs.ids,
            "invoices": moves.ids,
            "plan": plan.id,
            "product": product.id,
            "partners": partners.ids,
            "reminder_day": due + timedelta(days=7),
        }
    try:
        yield ids
    finally:
        with committed_env() as env:
            invoices = env["account.move"].browse(ids["invoices"])
            invoices.button_draft()
            invoices.unlink()
            env["subscription.subscription"].browse(ids["subs"]).unlink()
            env["subscription.plan"].browse(ids["plan"]).unlink()
            env["product.product"].browse(ids["product"]).unlink()
            env["res.partner"].browse(ids["partners"]).unlink()


@tagged("post_install", "-at_install")
class TestConcurrentReminders(CommittedCase):
    def setUp(self):
        super().setUp()
        self.overdue_customers = self.enterContext(_overdue_customers())

    def test_two_workers_remind_each_customer_once(self):
        """Batches cut through customers; the workers meet right after their
        first claim, so that each claims while the other holds its batch."""
        overdue_customers = self.overdue_customers
        with committed_env() as env:
            Dunning = type(env["subscription.dunning"])
        original = Dunning._claim
        met = threading.Barrier(2)
        local = threading.local()

        def claim(self, query, model, commit=False):
            rows = original(self, query, model, commit)
            if not getattr(local, "claimed", False):
                local.claimed = True
                # A worker with nothing to claim stops waiting after 10 s.
                with suppress(threading.BrokenBarrierError):
                    met.wait(timeout=10)
            return rows

        def remind(env):
            env["subscription.dunning"]._run_due(
                overdue_customers["reminder_day"], batch_size=2, commit=True
            )

        with patch.object(Dunning, "_claim", claim):
            _run_in_two_workers(remind)
        with committed_env() as env:
            events = env["subscription.dunning.event"].search(
                [
                    ("invoice_id", "in", overdue_customers["invoices"]),
                    ("kind", "=", "reminder"),
                ]
            )
            assert len(events) == 9, "each follow-up reminded once"
            for partner in env["res.partner"].browse(overdue_customers["partners"]):
                mine = events.filtered(lambda e, p=partner: e.partner_id == p)
                assert len(mine) == 3
                sent = mine.filtered(lambda e: e.result == "sent")
                assert len(sent.message_id) == 1, (partner.name, mine.mapped("result"))
                assert len(mine.message_id) == 1, "one message per customer and step"


@contextmanager
def _overdue_invoices():
    """3 overdue subscription invoices of one customer without a saved
    method, not followed up yet, committed; removed after."""
    with committed_env() as env:
        product, plan = _product_and_plan(env, "Concurrent overdue", "post")
        partner = env["res.partner"].create({"name": "Overdue customer"})
        subs = env["subscription.subscription"].create(
            [
                {"partner_id": partner.id, "plan_id": plan.id, "date_start": START}
                for __ in range(3)
            ]
        )
        subs.action_start()
        moves = subs._generate_due_invoices(date(2026, 1, 1))
        assert len(moves) == 3 and set(moves.mapped("state")) == {"posted"}
        ids = {
            "subs": subs.ids,
            "invoices": moves.ids,
            "plan": plan.id,
            "product": product.id,
            "partner": partner.id,
            "day": max(moves.mapped("invoice_date_due")) + timedelta(days=1),
        }
    try:
        yield ids
    finally:
        with committed_env() as env:
            invoices = env["account.move"].browse(ids["invoices"])
            invoices.button_draft()
            invoices.unlink()
            env["subscription.subscription"].browse(ids["subs"]).unlink()
            env["subscription.plan"].browse(ids["plan"]).unlink()
            env["product.product"].browse(ids["product"]).unlink()
            env["res.partner"].browse(ids["partner"]).unlink()


@tagged("post_install", "-at_install")
class TestConcurrentFollowUps(CommittedCase):
    def setUp(self):
        super().setUp()
        self.overdue_invoices = self.enterContext(_overdue_invoices())

    def test_overdue_invoice_held_by_another_worker_is_skipped(self):
        """Opening follow-ups claims the overdue invoices: one that another
        worker holds is left to it (never followed up twice), then opened by the
        next run."""
        overdue_invoices = self.overdue_invoices
        held, *others = overdue_invoices["invoices"]

        def followed_up(env):
            dunnings = env["subscription.dunning"].search(
                [("invoice_id", "in", overdue_invoices["invoices"])]
            )
            return set(dunnings.invoice_id.ids)

        with sql_db.db_connect(db_name()).cursor() as holder:
            holder.execute(
                "SELECT id FROM account_move WHERE id = %s FOR NO KEY UPDATE", [held]
            )
            with committed_env() as env:
                env.cr.execute("SET LOCAL lock_timeout = '10s'")
                env["subscription.dunning"]._open_overdue(overdue_invoices["day"])
                assert followed_up(env) == set(others)
            holder.rollback()
        with committed_env() as env:
            env["subscription.dunning"]._open_overdue(overdue_invoices["day"])
            assert followed_up(env) == {held, *others}
