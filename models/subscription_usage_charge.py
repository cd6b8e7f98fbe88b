# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models

from .subscription_line_mixin import exact_decimal


class SubscriptionUsageCharge(models.Model):
    """The rated usage of one usage line for one period, as invoiced.

    Keeps what explains the invoice line: the quantity, the allowance
    (included, carried in, used, expired, carried out), the billed units and
    ``details``: the tiers and the exact amounts as decimal strings (the
    float columns are for lists and reports; computations read ``details``).
    """

    _name = "subscription.usage.charge"
    _description = "Rated Usage"
    _order = "subscription_id, usage_start desc, id"
    _rec_name = "explanation"

    period_id = fields.Many2one(
        "subscription.period",
        string="Billed With",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    subscription_id = fields.Many2one(
        "subscription.subscription", required=True, index=True, readonly=True
    )
    company_id = fields.Many2one(related="subscription_id.company_id", store=True)
    subscription_line_id = fields.Many2one(
        "subscription.line",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    metric_id = fields.Many2one("subscription.metric", required=True, readonly=True)
    usage_start = fields.Date(string="Usage From", required=True, readonly=True)
    usage_end = fields.Date(string="Usage To", required=True, readonly=True)
    is_late = fields.Boolean(
        string="Late Usage",
        readonly=True,
        help="Usage received after its period was invoiced, billed with a later one.",
    )
    event_count = fields.Integer(string="Events", readonly=True)
    quantity = fields.Float(digits=(20, 6), readonly=True)
    included = fields.Float(digits=(20, 6), readonly=True)
    carried_in = fields.Float(digits=(20, 6), readonly=True)
    allowance_used = fields.Float(string="Used", digits=(20, 6), readonly=True)
    expired = fields.Float(digits=(20, 6), readonly=True)
    carried_out = fields.Float(digits=(20, 6), readonly=True)
    billed_units = fields.Float(string="Billed", digits=(20, 6), readonly=True)
    carry_buckets = fields.Json(readonly=True)
    currency_id = fields.Many2one(related="subscription_id.currency_id")
    amount = fields.Monetary(readonly=True)
    explanation = fields.Char(readonly=True)
    details = fields.Json(
        readonly=True,
        help="The computation, tier by tier, with the exact (unrounded) amount.",
    )
    invoice_line_id = fields.Many2one(
        "account.move.line", index="btree_not_null", ondelete="set null", readonly=True
    )
    invoice_id = fields.Many2one(related="period_id.invoice_id")

    _line_period_unique = models.Constraint(
        "UNIQUE(period_id, subscription_line_id, usage_start)",
        "This usage is already rated on this invoice.",
    )

    # ------------------------------------------------------------------
    # Display: exact figures (from ``details``) with the metric's precision
    # ------------------------------------------------------------------

    def _display(self):
        """:meth:`_display_figures` of this charge."""
        self.ensure_one()
        return self._display_figures(self.metric_id, self.details or {})

    @api.model
    def _display_figures(self, metric, details):
        """``{figure: text}`` of a charge's ``details`` (decimal strings),
        each with ``metric``'s precision (``quantity``, ``included``,
        ``carried_in``, ``used``, ``billed``)."""
        allowance = details.get("allowance") or {}
        quantity = details.get("quantity") or "0"
        used = details.get("included_units_used") or "0"
        values = {
            "quantity": quantity,
            "included": allowance.get("included", "0"),
            "carried_in": allowance.get("carried_in", "0"),
            "used": allowance.get("used", used),
            "billed": allowance.get(
                "billed", str(exact_decimal(quantity) - exact_decimal(used))
            ),
        }
        return {
            name: metric._format_quantity(exact_decimal(value))
            for name, value in values.items()
        }
