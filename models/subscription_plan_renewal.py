# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Renewal as a quotation: the plan's option (see ``sale_order_renewal``)."""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

# A quotation more than ten years ahead of its term's end is a typing error.
MAX_QUOTATION_DAYS = 3650


class SubscriptionPlan(models.Model):
    _inherit = "subscription.plan"

    renewal_quotation = fields.Boolean(
        help="Fixed terms that renew: the billing run sends the customer a "
        "quotation of the next term, priced with the renewal indexation, "
        "some days before the end. Accepted, the term renews on its prices; "
        "declined, the subscription ends with its term; cancelled or left "
        "unanswered, the term renews on the current prices as without a "
        "quotation.",
    )
    renewal_quotation_days = fields.Integer(
        string="Quotation (days before the end)",
        compute="_compute_renewal_quotation_days",
        store=True,
        readonly=False,
        precompute=True,
        help="Days before the end of the term when the renewal quotation is "
        "sent; the quotation is valid until the term's last day.",
    )

    @api.depends("renewal_reminder_days")
    def _compute_renewal_quotation_days(self):
        for plan in self:
            plan.renewal_quotation_days = (
                plan.renewal_quotation_days or plan.renewal_reminder_days or 30
            )

    @api.constrains(
        "renewal_quotation", "renewal_quotation_days", "term_type", "auto_renew"
    )
    def _check_renewal_quotation(self):
        for plan in self.filtered("renewal_quotation"):
            if plan.term_type != "fixed" or not plan.auto_renew:
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s: a renewal quotation renews a fixed term; "
                        "choose a fixed term that renews automatically, or turn "
                        "the renewal quotation off.",
                        plan=plan.display_name,
                    )
                )
            if not 1 <= plan.renewal_quotation_days <= MAX_QUOTATION_DAYS:
                raise ValidationError(
                    self.env._(
                        "Plan %(plan)s: the renewal quotation is sent between 1 "
                        "and %(max)s days before the end of the term, not "
                        "%(days)s.",
                        plan=plan.display_name,
                        max=MAX_QUOTATION_DAYS,
                        days=plan.renewal_quotation_days,
                    )
                )
