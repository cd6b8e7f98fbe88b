# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""One-time lines: a price billed once (a setup fee), not every period."""

from odoo import fields, models


class SubscriptionLineMixin(models.AbstractModel):
    _inherit = "subscription.line.mixin"

    line_type = fields.Selection(
        selection_add=[("one_time", "One-time")],
        ondelete={"one_time": "set default"},
    )
    charge_timing = fields.Selection(
        [("start", "At start"), ("trial_end", "At the end of the trial")],
        string="Billed",
        default="start",
        help="One-time lines only. At start: on the subscription's first invoice "
        "(after a free trial, the invoice that follows it). At the end of the "
        "trial: on the first invoice after the trial; never billed on a "
        "subscription without a trial. Billed once, at its full price (not "
        "prorated), never again after a change of plan or a renewal.",
    )

    def _compute_price_subtotal(self):
        # "Amount per Period": a one-time line adds nothing to each period
        # (nor to the recurring amount or the MRR).
        one_time = self.filtered(lambda line: line.line_type == "one_time")
        one_time.price_subtotal = 0.0
        return super(SubscriptionLineMixin, self - one_time)._compute_price_subtotal()
