# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class SubscriptionPeriod(models.Model):
    """One billed period of a subscription.

    The row is the proof that a period was invoiced: ``UNIQUE(subscription_id,
    kind, period_start)`` makes a second invoice for the same period impossible,
    whatever retries, crashes or concurrent workers do.
    """

    _name = "subscription.period"
    _description = "Billed Subscription Period"
    _order = "subscription_id, period_start"
    _rec_name = "period_start"

    subscription_id = fields.Many2one(
        "subscription.subscription",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    company_id = fields.Many2one(
        related="subscription_id.company_id", store=True, index=True
    )
    partner_id = fields.Many2one(related="subscription_id.partner_id")
    kind = fields.Selection(
        [("service", "Service"), ("usage", "Usage")],
        required=True,
        default="service",
        readonly=True,
        help="Service: the recurring lines of the period. Usage: the usage of "
        "the period, rated once it has ended.",
    )
    period_start = fields.Date(required=True, readonly=True)
    period_end = fields.Date(required=True, readonly=True)
    invoice_date = fields.Date(readonly=True)
    billed_days = fields.Integer(readonly=True)
    period_days = fields.Integer(
        readonly=True, help="Days of the whole period that this one belongs to."
    )
    invoice_id = fields.Many2one(
        "account.move", index=True, ondelete="cascade", readonly=True
    )
    invoice_state = fields.Selection(related="invoice_id.state")
    payment_state = fields.Selection(related="invoice_id.payment_state")
    amount_untaxed = fields.Monetary(
        related="invoice_id.amount_untaxed_signed", string="Invoice Untaxed"
    )
    currency_id = fields.Many2one(related="invoice_id.company_currency_id")

    usage_charge_ids = fields.One2many(
        "subscription.usage.charge", "period_id", string="Rated Usage", readonly=True
    )

    _subscription_period_unique = models.Constraint(
        "UNIQUE(subscription_id, kind, period_start)",
        "This period of the subscription is already invoiced.",
    )
    _period_dates = models.Constraint(
        "CHECK(period_end >= period_start)",
        "A billed period cannot end before it starts.",
    )

    def _compute_display_name(self):
        for period in self:
            period.display_name = f"{period.period_start} → {period.period_end}"
