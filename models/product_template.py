# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models

# The states of a subscription that is running (billed or about to be).
RUNNING_STATES = ("trial", "active", "paused", "suspended")


class ProductTemplate(models.Model):
    _inherit = "product.template"

    subscription_plan_line_ids = fields.Many2many(
        "subscription.plan.line",
        string="Subscription Prices",
        compute="_compute_subscription_plan_line_ids",
        compute_sudo=True,
        help="The plans that offer this product and its price per period on "
        "each: the plans' lines themselves (change a price on its plan). A "
        "pricelist may price the plan differently (a rule for the plan).",
    )
    subscription_metric_ids = fields.Many2many(
        "subscription.metric",
        string="Usage Metrics",
        compute="_compute_subscription_plan_line_ids",
        compute_sudo=True,
        help="What the plans rate when they bill this product by usage "
        "(metered product).",
    )
    is_subscription_product = fields.Boolean(
        string="Subscription Product",
        compute="_compute_subscription_plan_line_ids",
        compute_sudo=True,
        search="_search_is_subscription_product",
        help="Offered by at least one active subscription plan.",
    )
    subscription_plan_count = fields.Integer(
        string="Plans",
        compute="_compute_subscription_plan_line_ids",
        compute_sudo=True,
    )
    subscription_count = fields.Integer(
        string="Subscriptions", compute="_compute_subscription_count", compute_sudo=True
    )

    def _subscription_plan_line_domain(self):
        return [
            ("product_id.product_tmpl_id", "in", self.ids),
            ("plan_id.active", "=", True),
        ]

    def _subscription_domain(self):
        """Running subscriptions with a line of these products, still billed."""
        today = fields.Date.context_today(self)
        return [
            ("state", "in", RUNNING_STATES),
            (
                "line_ids",
                "any",
                [
                    ("product_id.product_tmpl_id", "in", self.ids),
                    "|",
                    ("date_end", "=", False),
                    ("date_end", ">=", today),
                ],
            ),
        ]

    @api.depends("product_variant_ids")
    def _compute_subscription_plan_line_ids(self):
        # Computed as superuser (the field is written in sudo), searched as
        # the user: a user who cannot read plans (a salesman) sees none, a
        # user of one company the plans of that company.
        PlanLine = self.env(su=False)["subscription.plan.line"]
        lines = PlanLine
        if self._origin.ids and PlanLine.has_access("read"):
            lines = PlanLine.search(self._origin._subscription_plan_line_domain())
        lines = lines.sudo()
        PlanLine = PlanLine.sudo()
        by_template = lines.grouped(lambda line: line.product_id.product_tmpl_id)
        for template in self:
            own = by_template.get(template._origin, PlanLine)
            template.subscription_plan_line_ids = own
            template.subscription_metric_ids = own.filtered(
                lambda line: line.line_type == "usage"
            ).metric_id
            template.is_subscription_product = bool(own)
            template.subscription_plan_count = len(own.plan_id)

    def _search_is_subscription_product(self, operator, value):
        if operator != "in":
            return NotImplemented
        lines = (
            self.env["subscription.plan.line"]
            .sudo()
            ._search([("plan_id.active", "=", True)])
        )
        return [("product_variant_ids", "in", lines.subselect("product_id"))]

    def _compute_subscription_count(self):
        Subscription = self.env(su=False)["subscription.subscription"]
        counts = {}
        if self._origin.ids and Subscription.has_access("read"):
            for template in self:
                counts[template._origin.id] = Subscription.search_count(
                    template._origin._subscription_domain()
                )
        for template in self:
            template.subscription_count = counts.get(template._origin.id, 0)

    def action_view_subscription_plans(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "subscription_billing.subscription_plan_action"
        )
        action["domain"] = [
            ("line_ids.product_id.product_tmpl_id", "=", self.id),
        ]
        return action

    def action_view_subscriptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "subscription_billing.subscription_subscription_action"
        )
        action["domain"] = self._subscription_domain()
        action["context"] = {}
        return action
