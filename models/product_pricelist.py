# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models
from odoo.fields import Domain


def subscription_plan_of(kwargs):
    """The subscription plan a price is computed for, from the keyword
    arguments of the pricelist API (``subscription_plan``, or the plan of
    ``subscription_plan_line``); None for an ordinary price."""
    plan = kwargs.get("subscription_plan")
    if not plan and kwargs.get("subscription_plan_line"):
        plan = kwargs["subscription_plan_line"].plan_id
    return plan or None


class ProductPricelist(models.Model):
    """Rules for a subscription plan (``product.pricelist.item.plan_id``).

    A rule with a plan applies only when a line of that plan is priced
    (``subscription_plan`` or ``subscription_plan_line`` in the keyword
    arguments, as :meth:`subscription.plan.line._get_pricelist_price` passes
    them), before the rules without a plan; an ordinary price (a sale of the
    product alone) never sees them.
    """

    _inherit = "product.pricelist"

    def _get_applicable_rules_domain(self, products, date, **kwargs):
        domain = super()._get_applicable_rules_domain(
            products=products, date=date, **kwargs
        )
        plan = subscription_plan_of(kwargs)
        plan_domain = Domain("plan_id", "=", False)
        if plan:
            plan_domain |= Domain("plan_id", "=", plan.id)
        return Domain.AND([domain, plan_domain])

    def _get_applicable_rules(self, products, date, **kwargs):
        rules = super()._get_applicable_rules(products, date, **kwargs)
        if subscription_plan_of(kwargs):
            # The plan's own rules first, each group in Odoo's order (stable).
            rules = rules.sorted(lambda rule: not rule.plan_id)
        return rules
