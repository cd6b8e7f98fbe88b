# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


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
    no_invoice_reason = fields.Selection(
        [("zero", "No invoice (0.00)")],
        string="No Invoice",
        readonly=True,
        help="Why the period has no invoice. No invoice (0.00): billed with "
        "nothing due, on a plan that skips 0.00 invoices.",
    )
    invoice_state = fields.Selection(related="invoice_id.state")
    payment_state = fields.Selection(related="invoice_id.payment_state")
    amount_untaxed = fields.Monetary(
        related="invoice_id.amount_untaxed_signed", string="Invoice Untaxed"
    )
    amount_period = fields.Monetary(
        string="Amount",
        compute="_compute_amount_period",
        help="Untaxed amount of this period's lines on the invoice (an invoice "
        "may bill several periods, of several subscriptions).",
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

    @api.depends(
        "invoice_id.invoice_line_ids.balance",
        "usage_charge_ids.invoice_line_id",
    )
    def _compute_amount_period(self):
        """Service: the recurring lines of the subscription whose service
        days fall in the period. Usage: the lines of its rated usage (late
        usage included) and its minimum spend true-up."""
        for period in self:
            lines = period.invoice_id.invoice_line_ids.filtered(
                lambda line, p=period: line.subscription_id == p.subscription_id
            )
            if period.kind == "service":
                own = lines.filtered(
                    lambda line, p=period: (
                        line.subscription_line_id.line_type == "fixed"
                        and line.subscription_period_start
                        and p.period_start
                        <= line.subscription_period_start
                        <= p.period_end
                    )
                )
            else:
                own = period.usage_charge_ids.invoice_line_id | lines.filtered(
                    lambda line, p=period: (
                        not line.subscription_line_id
                        and not line.subscription_billed_days
                        and line.subscription_period_start == p.period_start
                        and line.subscription_period_end == p.period_end
                    )
                )
            # Company currency, signed as the invoice's untaxed amount.
            period.amount_period = -sum(own.mapped("balance"))

    def _compute_display_name(self):
        for period in self:
            period.display_name = f"{period.period_start} → {period.period_end}"
