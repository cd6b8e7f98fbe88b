# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models

from ..tools import DocumentFormat


class SubscriptionLine(models.Model):
    _inherit = "subscription.line"

    one_time_charge_ids = fields.One2many(
        "subscription.charge", "subscription_line_id", string="One-time Billing"
    )

    def _one_time_day(self):
        """The day a one-time line is due: the subscription's first billed
        day (its start, or the day after its trial); ``None`` when the line
        is not to bill (recurring, at the end of a trial the subscription
        does not have, not running on that day)."""
        self.ensure_one()
        sub = self.subscription_id
        if self.line_type != "one_time":
            return None
        if self.charge_timing == "trial_end" and not sub.trial_end_date:
            return None
        day = sub._billing_start()
        return day if self._is_active_on(day) else None

    def _prepare_one_time_invoice_line_vals(self, period):
        """Invoice line values of this one-time line when ``period`` (a
        service period) holds its due day and it was never billed; else
        ``None``. Its whole price, not prorated."""
        self.ensure_one()
        day = self._one_time_day()
        if not day or not period.start <= day <= period.end:
            return None
        if self.sudo().one_time_charge_ids:
            return None
        sub = self.subscription_id
        fmt = DocumentFormat.for_partner(self.env, sub.partner_invoice_id)
        return {
            "product_id": self.product_id.id,
            "name": self.with_env(fmt.env).name,
            "quantity": self.quantity,
            "price_unit": self.price_unit,
            "discount": self.discount,
            "subscription_id": sub.id,
            "subscription_line_id": self.id,
            "analytic_distribution": self.analytic_distribution or False,
        }
