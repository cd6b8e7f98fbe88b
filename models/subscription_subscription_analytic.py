# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Analytic distribution of the invoice lines that no single subscription
line bills (a discount taken off several lines, a termination fee)."""

from odoo import models

from ..core import invoicing


class SubscriptionSubscription(models.Model):
    _inherit = "subscription.subscription"

    def _analytic_precision(self):
        return self.env["decimal.precision"].precision_get("Percentage Analytic")

    def _merge_analytic_distributions(self, parts):
        """The distribution of an amount spread over ``parts``
        (``(distribution, amount)``, see ``core.invoicing``); the plan's
        default when the parts have none."""
        self.ensure_one()
        merged = invoicing.merge_distributions(parts, self._analytic_precision())
        return merged or self.plan_id.analytic_distribution or False

    def _analytic_distribution_of(self, lines):
        """The distribution of an amount spread over subscription ``lines``
        in proportion to their amount per period."""
        self.ensure_one()
        return self._merge_analytic_distributions(
            [(line.analytic_distribution, repr(line.price_subtotal)) for line in lines]
        )
