# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Customer emails: sent at the right moment, by the right process."""

from freezegun import freeze_time

from odoo.tests import tagged

from .common import SubscriptionCommon


@tagged("post_install", "-at_install")
class TestMailTemplates(SubscriptionCommon):
    def _sent(self, sub, subject_part):
        return sub.message_ids.filtered(
            lambda m: (
                m.subtype_id == self.env.ref("mail.mt_comment")
                and subject_part in (m.subject or "")
            )
        )

    def test_welcome_when_the_subscription_starts(self):
        with freeze_time("2026-05-01"):
            sub = self._create_subscription(start="2026-05-01")
            self.assertFalse(self._sent(sub, "Welcome"))
            sub.action_start()
        message = self._sent(sub, "Welcome")
        self.assertEqual(len(message), 1)
        self.assertEqual(message.partner_ids, self.customer)
        self.assertIn("Pro monthly", message.body)
        self.assertIn("/my/subscriptions/", message.body)

    def test_cancellation_confirmed(self):
        with freeze_time("2026-05-01"):
            sub = self._create_subscription(start="2026-05-01")
            sub.action_start()
            self._run_billing()
        with freeze_time("2026-05-10"):
            sub.cancel(simulate=True)
            self.assertFalse(
                self._sent(sub, "Cancellation"), "a simulation sends nothing"
            )
            sub.cancel(policy="end_of_period")
        message = self._sent(sub, "Cancellation")
        self.assertEqual(len(message), 1)
        self.assertIn("05/31/2026", message.body)

    def test_renewal_reminder_once_per_term(self):
        plan = self._create_plan(
            "Yearly term",
            price=20.0,
            term_type="fixed",
            term_interval=12,
            term_unit="month",
            auto_renew=True,
            renewal_reminder_days=30,
        )
        with freeze_time("2026-01-01"):
            sub = self._create_subscription(plan=plan, start="2026-01-01")
            sub.action_start()
        self.assertEqual(str(sub.date_end), "2026-12-31")
        with freeze_time("2026-11-30"):
            self._run_billing()
        self.assertFalse(self._sent(sub, "renews"), "31 days before: not yet")
        with freeze_time("2026-12-01"):
            self._run_billing()
            self._run_billing()
        message = self._sent(sub, "renews")
        self.assertEqual(len(message), 1, "once per term")
        self.assertIn("01/01/2027", message.subject)
        self.assertEqual(sub.renewal_reminder_sent_for, sub.date_end)

    def test_every_template_renders_for_preview(self):
        """Each customer email renders (what its preview shows)."""
        with freeze_time("2026-05-01"):
            sub = self._create_subscription(start="2026-05-01")
            sub.action_start()
        for xmlid in (
            "mail_template_welcome",
            "mail_template_trial_ending",
            "mail_template_renewal_upcoming",
            "mail_template_cancellation_confirmed",
        ):
            template = self.env.ref(f"subscription_billing.{xmlid}")
            with self.subTest(template=xmlid):
                body = template._render_field("body_html", sub.ids)[sub.id]
                self.assertIn(self.customer.name, body)
