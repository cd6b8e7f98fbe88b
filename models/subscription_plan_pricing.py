# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class SubscriptionPlan(models.Model):
    """A plan billed in another currency than its own, through a pricelist."""

    _inherit = "subscription.plan"

    def _currency_error(self, currency, pricelist, sub):
        """Why ``sub`` cannot bill this plan in ``currency`` with ``pricelist``
        (a message), or None when it can.

        In the plan's currency, always. In another currency, a pricelist
        prices the plan's recurring lines (its rules, or the plan's prices
        converted at the day's rate); usage prices (tiers, prices per unit,
        minimum spend) stay in the plan's currency: a plan that rates usage
        is billed in its own currency only.
        """
        if not self or self.currency_id == currency:
            return None
        if not pricelist:
            return self.env._(
                "Subscription %(sub)s is in %(currency)s but its plan "
                "%(plan)s is priced in %(plan_currency)s: choose a plan in "
                "%(currency)s.",
                sub=sub.display_name,
                currency=currency.name,
                plan=self.display_name,
                plan_currency=self.currency_id.name,
            )
        if any(line.line_type == "usage" for line in self.line_ids):
            return self.env._(
                "The plan %(plan)s rates usage at prices in %(plan_currency)s: "
                "subscription %(sub)s, billed in %(currency)s (pricelist "
                "%(pricelist)s), needs a plan in %(currency)s or a pricelist in "
                "%(plan_currency)s.",
                plan=self.display_name,
                plan_currency=self.currency_id.name,
                sub=sub.display_name,
                currency=currency.name,
                pricelist=pricelist.display_name,
            )
        return None
