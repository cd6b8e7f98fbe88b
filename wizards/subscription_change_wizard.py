# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import formatLang

from ..const import CHANGE_POLICIES, OPERATIONS
from ..tools import format_quantity, html_table

INPUT_FIELDS = (
    "date",
    "policy",
    "new_plan_id",
    "line_id",
    "plan_line_id",
    "quantity",
    "price_unit",
    "bill_during_pause",
    "resume_date",
    "close_reason_id",
)


class SubscriptionChangeWizard(models.TransientModel):
    """One change of a subscription, with its amounts shown before confirming."""

    _name = "subscription.change.wizard"
    _description = "Change a Subscription"

    subscription_id = fields.Many2one(
        "subscription.subscription", required=True, readonly=True
    )
    operation = fields.Selection(OPERATIONS, required=True, readonly=True)
    plan_id = fields.Many2one(related="subscription_id.plan_id")
    company_id = fields.Many2one(related="subscription_id.company_id")
    currency_id = fields.Many2one(related="subscription_id.currency_id")
    pricelist_id = fields.Many2one(related="subscription_id.pricelist_id")
    date = fields.Date(
        required=True,
        default=fields.Date.context_today,
        help="The day asked for; the policy may move it to the end of the period.",
    )
    policy = fields.Selection(
        CHANGE_POLICIES,
        help="Empty: the plan's policy for this kind of change.",
    )
    new_plan_id = fields.Many2one(
        "subscription.plan",
        # Another currency: the subscription's pricelist prices the plan.
        domain="[('id', '!=', plan_id), ('company_id', 'in', (company_id, False))]"
        " + ([] if pricelist_id else [('currency_id', '=', currency_id)])",
    )
    # Remove an option lists only the options (lines of optional plan lines).
    line_id = fields.Many2one(
        "subscription.line",
        domain="[('subscription_id', '=', subscription_id), "
        "('line_type', '=', 'fixed'), ('date_end', '=', False)] + "
        "([('plan_line_id.is_optional', '=', True)] "
        "if operation == 'remove_option' else [])",
    )
    plan_line_id = fields.Many2one(
        "subscription.plan.line",
        string="Option",
        domain="[('plan_id', '=', plan_id), ('is_optional', '=', True)]",
    )
    quantity = fields.Float(
        digits="Product Unit",
        compute="_compute_quantity",
        store=True,
        readonly=False,
        precompute=True,
    )
    price_unit = fields.Monetary(
        string="New Unit Price",
        compute="_compute_price_unit",
        store=True,
        readonly=False,
        precompute=True,
    )
    bill_during_pause = fields.Boolean(
        compute="_compute_bill_during_pause",
        store=True,
        readonly=False,
        precompute=True,
    )
    resume_date = fields.Date(help="Empty: until resumed by hand.")
    close_reason_id = fields.Many2one("subscription.close.reason", string="Reason")
    effective_date = fields.Date(
        string="Takes Effect",
        compute="_compute_simulation",
        help="The first day under the new terms, from the policy.",
    )
    effective_policy = fields.Selection(
        CHANGE_POLICIES,
        string="Policy Applied",
        compute="_compute_simulation",
    )
    mrr_before = fields.Monetary(string="MRR Before", compute="_compute_simulation")
    mrr_after = fields.Monetary(string="MRR After", compute="_compute_simulation")
    amount_credit = fields.Monetary(string="Credit", compute="_compute_simulation")
    amount_charge = fields.Monetary(string="Charge", compute="_compute_simulation")
    amount_fee = fields.Monetary(
        string="Termination Fee", compute="_compute_simulation"
    )
    amount_net = fields.Monetary(string="Net", compute="_compute_simulation")
    summary = fields.Html(compute="_compute_simulation", sanitize=False)
    error = fields.Text(compute="_compute_simulation")

    @api.depends("line_id", "plan_line_id")
    def _compute_quantity(self):
        for wizard in self:
            if wizard.line_id:
                wizard.quantity = wizard.line_id.quantity
            elif wizard.plan_line_id:
                wizard.quantity = wizard.plan_line_id.quantity
            elif not wizard.quantity:
                wizard.quantity = 1.0

    @api.depends("line_id")
    def _compute_price_unit(self):
        for wizard in self:
            if wizard.line_id:
                wizard.price_unit = wizard.line_id.price_unit

    @api.depends("subscription_id")
    def _compute_bill_during_pause(self):
        for wizard in self:
            wizard.bill_during_pause = wizard.subscription_id.plan_id.pause_billing

    @api.depends(*INPUT_FIELDS, "operation", "subscription_id")
    def _compute_simulation(self):
        for wizard in self:
            wizard.update(
                {
                    "effective_date": False,
                    "effective_policy": False,
                    "mrr_before": 0.0,
                    "mrr_after": 0.0,
                    "amount_credit": 0.0,
                    "amount_charge": 0.0,
                    "amount_fee": 0.0,
                    "amount_net": 0.0,
                    "summary": False,
                    "error": False,
                }
            )
            if (
                not wizard.subscription_id
                or not wizard.operation
                or wizard._missing_input()
            ):
                continue
            try:
                result = wizard._run(simulate=True)
            except UserError as error:
                wizard.error = str(error)
                continue
            wizard.update(
                {
                    "effective_date": result["effective_date"],
                    "effective_policy": result["policy"],
                    "mrr_before": result["mrr_before"],
                    "mrr_after": result["mrr_after"],
                    "amount_credit": result["credit"],
                    "amount_charge": result["charge"],
                    "amount_fee": result["fee"],
                    "amount_net": result["net"],
                    "summary": wizard._render_lines(result["lines"]),
                }
            )

    def _missing_input(self):
        """The wizard waits for its required choice (the form asks for it)
        before simulating: no error is shown for a field not filled yet."""
        self.ensure_one()
        required = {
            "change_plan": self.new_plan_id,
            "change_quantity": self.line_id,
            "change_price": self.line_id,
            "remove_option": self.line_id,
            "add_option": self.plan_line_id,
        }
        return self.operation in required and not required[self.operation]

    def action_confirm(self):
        self.ensure_one()
        if self.error:
            # The button is hidden while the simulation refuses the change.
            raise UserError(self.error)
        result = self._run()
        if result["document_id"]:
            return self.subscription_id._action_view_moves(
                self.env["account.move"].browse(result["document_id"])
            )
        return {"type": "ir.actions.act_window_close"}

    def _run(self, simulate=False):
        sub = self.subscription_id
        values = {
            "date": self.date,
            "policy": self.policy or None,
        }
        op = self.operation
        if op == "change_plan":
            values["new_plan_id"] = self.new_plan_id.id
        elif op in ("change_quantity", "change_price", "remove_option"):
            values["line_id"] = self.line_id.id
            if op == "change_quantity":
                values["quantity"] = self.quantity
            if op == "change_price":
                values["price_unit"] = self.price_unit
        elif op == "add_option":
            values.update(plan_line_id=self.plan_line_id.id, quantity=self.quantity)
        elif op == "pause":
            values.pop("policy")
            values.update(
                bill_during_pause=self.bill_during_pause, resume_date=self.resume_date
            )
        elif op == "cancel":
            values["close_reason_id"] = self.close_reason_id.id
        else:
            values.pop("policy")
        return sub._change(op, values, simulate=simulate)

    def _render_lines(self, lines):
        if not lines:
            return Markup("<p>%s</p>") % self.env._(
                "Nothing to invoice or credit for this change."
            )
        headers = [self.env._("Description")]
        headers += [self.env._("Quantity"), self.env._("Unit Price")]
        return html_table(
            headers,
            [
                (
                    line["description"],
                    format_quantity(self.env, line["quantity"]),
                    formatLang(
                        self.env,
                        float(line["price_unit"]),
                        currency_obj=self.currency_id,
                    ),
                )
                for line in lines
            ],
        )
