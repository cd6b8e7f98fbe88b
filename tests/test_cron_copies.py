# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Copies of a scheduled action share its run: a run with more than one batch
of work wakes every active copy of itself (the claims keep them apart)."""

from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import tagged

from ..tools import claimed_batches, cron_method
from .common import SubscriptionCommon


@tagged("post_install", "-at_install")
class TestCronCopies(SubscriptionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Cron = cls.env["ir.cron"].sudo()
        cls.billing_cron = cls.env.ref("subscription_billing.ir_cron_generate_invoices")
        cls.copy_on = cls.billing_cron.sudo().copy({"active": True})
        cls.copy_off = cls.billing_cron.sudo().copy({"active": False})
        cls.dunning_cron = cls.env.ref("subscription_billing.ir_cron_dunning")

    def _triggers(self, cron):
        return (
            self.env["ir.cron.trigger"].sudo().search_count([("cron_id", "=", cron.id)])
        )

    def _bill(self, batch_size, cron=None):
        Sub = self.env["subscription.subscription"]
        if cron:
            Sub = Sub.with_context(cron_id=cron.id)
        with patch.object(
            type(self.env["ir.cron"]), "_commit_progress", return_value=float("inf")
        ):
            return Sub._generate_due_invoices(
                self._date("2026-03-01"), batch_size=batch_size, commit=True
            )

    def _due(self, count):
        with freeze_time("2026-03-01"):
            subs = self.env["subscription.subscription"]
            for __ in range(count):
                subs |= self._create_subscription()
            subs.action_start()
        return subs

    def test_billing_run_of_several_batches_wakes_its_active_copies(self):
        subs = self._due(3)
        before = {
            c: self._triggers(c)
            for c in (self.copy_on, self.copy_off, self.dunning_cron)
        }
        with freeze_time("2026-03-01"):
            moves = self._bill(batch_size=1, cron=self.billing_cron)
        self.assertEqual(len(moves), 3)
        self.assertEqual(len(subs.invoice_ids), 3)
        self.assertEqual(self._triggers(self.copy_on), before[self.copy_on] + 1)
        # Not the inactive copy, nor another action.
        self.assertEqual(self._triggers(self.copy_off), before[self.copy_off])
        self.assertEqual(self._triggers(self.dunning_cron), before[self.dunning_cron])

    def test_one_batch_or_no_cron_wakes_nobody(self):
        self._due(2)
        before = self._triggers(self.copy_on)
        with freeze_time("2026-03-01"):
            # All of it in one batch: nothing to share.
            self.assertEqual(len(self._bill(batch_size=10, cron=self.billing_cron)), 2)
        self.assertEqual(self._triggers(self.copy_on), before)
        self._due(3)
        with freeze_time("2026-03-01"):
            # Not in a scheduled action (the API, the wizard): nobody to wake.
            self.assertEqual(len(self._bill(batch_size=1)), 3)
        self.assertEqual(self._triggers(self.copy_on), before)

    def test_claimed_batches_wake_copies_of_the_running_action(self):
        copy = self.dunning_cron.sudo().copy({"active": True})
        env = self.env(context=dict(self.env.context, cron_id=self.dunning_cron.id))
        work = [[1, 2], [3], []]
        seen = []
        with patch.object(
            type(self.env["ir.cron"]), "_commit_progress", return_value=float("inf")
        ):
            for batch in claimed_batches(env, lambda retry: work.pop(0), commit=True):
                seen.append(batch)
        self.assertEqual(seen, [[1, 2], [3]])
        self.assertEqual(self._triggers(copy), 1)
        self.assertEqual(self._triggers(self.copy_on), 0)

    def test_a_copy_with_other_arguments_is_woken_another_method_is_not(self):
        code = self.billing_cron.code
        self.assertEqual(cron_method(code), "_cron_generate_invoices")
        self.assertEqual(
            cron_method("model._cron_generate_invoices(batch_size=50)"),
            "_cron_generate_invoices",
        )
        self.assertIsNone(cron_method("records.write({})"))
        self.assertIsNone(cron_method("model._a()\nmodel._b()"))
        smaller = self.billing_cron.sudo().copy(
            {"active": True, "code": "model._cron_generate_invoices(batch_size=50)"}
        )
        other = self.billing_cron.sudo().copy(
            {"active": True, "code": "model._cron_generate_invoices_report()"}
        )
        self._due(3)
        with freeze_time("2026-03-01"):
            self.assertEqual(len(self._bill(batch_size=1, cron=self.billing_cron)), 3)
        self.assertEqual(self._triggers(smaller), 1)
        self.assertEqual(self._triggers(other), 0)
        self.assertEqual(self._triggers(self.copy_on), 1)
