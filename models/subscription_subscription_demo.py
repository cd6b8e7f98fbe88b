# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The demo scenario, dated relative to today (called from the demo data)."""

from odoo import api, fields, models

# Days the demo's overdue invoices are past due: one follow-up at each
# reminder of the standard policy (days 7, 14 and 21, the last one with the
# suspension), and one paid today after its first reminder (10 days).
DEMO_OVERDUE_DAYS = (8, 15, 22, 10)


class SubscriptionSubscription(models.Model):
    _inherit = "subscription.subscription"

    @api.model
    def _sb_demo_prepare_company(self, company_id):
        """The demo company: the generic chart of accounts in euros, French
        installed (with the translations of the installed modules), the
        administrator working in it."""
        company = self.env["res.company"].browse(company_id)
        if not company.chart_template:
            self.env["account.chart.template"]._load("generic_coa", company, False)
            # The generic chart's taxes and fiscal positions are not French:
            # the demo data brings its own.
            self.env["account.tax"].search(
                [("company_id", "=", company.id)]
            ).active = False
            self.env["account.fiscal.position"].search(
                [("company_id", "=", company.id)]
            ).unlink()
        company.account_fiscal_country_id = company.country_id
        euro = self.env.ref("base.EUR")
        if company.currency_id != euro:
            euro.active = True
            company.currency_id = euro
        self.env["res.lang"]._activate_lang("fr_FR")
        modules = self.env["ir.module.module"].search(
            [("state", "in", ("installed", "to install", "to upgrade"))]
        )
        self.env["ir.module.module"]._load_module_terms(
            modules.mapped("name"), ["fr_FR"]
        )
        admin = self.env.ref("base.user_admin")
        admin.write({"company_ids": [fields.Command.link(company.id)]})
        admin.company_id = company

    @api.model
    def _sb_demo_translate(self, translations):
        """The French names of demo records: ``translations`` is a list of
        ``(model, id, field, French value)``."""
        for model, record_id, field, value in translations:
            self.env[model].browse(record_id).with_context(lang="fr_FR").write(
                {field: value}
            )

    @api.model
    def _sb_load_demo(self, subscription_ids, paused_ids, overdue_ids, paid_ids=()):
        """Start the demo subscriptions, bill their past periods with the
        engine, pay the invoices of the past except those of ``overdue_ids``
        (one per day of :data:`DEMO_OVERDUE_DAYS`), run the payment
        follow-ups, pay the invoices of ``paid_ids`` today (recovered
        follow-ups), and pause ``paused_ids``."""
        subscriptions = self.browse(subscription_ids)
        overdue = self.browse(overdue_ids)
        today = fields.Date.context_today(self)
        company = subscriptions.company_id[:1]
        company.account_sale_tax_id = (
            subscriptions.line_ids.product_id.taxes_id.filtered(
                lambda t: t.company_id == company and t.amount
            )[:1]
        )
        subscriptions.filtered(lambda s: s.state == "draft").action_start()
        self._run_billing(today)
        invoices = (subscriptions - overdue).invoice_ids.filtered(
            lambda m: (
                m.state == "posted"
                and m.move_type == "out_invoice"
                and m.payment_state == "not_paid"
                and m.invoice_date_due < today
            )
        )
        for invoice in invoices.sorted("invoice_date"):
            self._sb_demo_pay(invoice, invoice.invoice_date_due)
        Dunning = self.env["subscription.dunning"]
        Event = self.env["subscription.dunning.event"]
        Dunning._open_overdue(today)
        Dunning._run_due(today)
        Event._send_queued()
        Dunning._run_due(today)
        Event._send_notices()
        for invoice in self.browse(paid_ids).invoice_ids.filtered(
            lambda m: m.state == "posted" and m.payment_state == "not_paid"
        ):
            self._sb_demo_pay(invoice, today)
        self.browse(paused_ids).filtered(lambda s: s.state == "active").pause()

    @api.model
    def _sb_demo_pay(self, invoice, day):
        """Register the payment of ``invoice`` in full on ``day``."""
        self.env["account.payment.register"].with_company(
            invoice.company_id
        ).with_context(active_model="account.move", active_ids=invoice.ids).create(
            {"payment_date": day}
        )._create_payments()
