# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Upsell: a quotation that sells more of a running subscription.

The quotation lists the subscription's recurring lines (quantity 0: the
salesperson raises what the customer buys more of) and the plan's options not
subscribed yet, each priced by the change engine (simulated) for the rest of
the period already invoiced. Confirming it applies the changes through the
engine (``sale.order`` in ``sale_order_upsell.py``).
"""

from odoo import Command, fields, models
from odoo.exceptions import UserError


class SubscriptionSubscription(models.Model):
    _inherit = "subscription.subscription"

    def action_upsell(self):
        """Create the upsell quotation of this subscription and open it."""
        self._ensure_one_subscription()
        self.check_access("read")
        self._check_upsell_allowed()
        order = self.env["sale.order"].create(self._prepare_upsell_order_vals())
        order.order_line._set_upsell_description()
        if order.currency_id != self.currency_id:
            # Raising rolls the quotation back: nothing is created.
            raise UserError(
                self.env._(
                    "Subscription %(sub)s is billed in %(currency)s, but its "
                    "quotation would be in %(order_currency)s (pricelist "
                    "%(pricelist)s): set a pricelist in %(currency)s on the "
                    "subscription first.",
                    sub=self.display_name,
                    currency=self.currency_id.name,
                    order_currency=order.currency_id.name,
                    pricelist=order.pricelist_id.display_name or "-",
                )
            )
        order.message_post_with_source(
            "mail.message_origin_link",
            render_values={"self": order, "origin": self},
            subtype_xmlid="mail.mt_note",
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "sale.order",
            "res_id": order.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def _check_upsell_allowed(self):
        """Refuse, with the reason, an upsell of a subscription that is not
        running (draft, closed) or whose state allows no change."""
        self.ensure_one()
        if self.state == "draft":
            raise UserError(
                self.env._(
                    "Subscription %(sub)s is not started: an upsell sells more of "
                    "a running subscription. Edit its lines, then start it.",
                    sub=self.display_name,
                )
            )
        if self.state == "closed":
            raise UserError(
                self.env._(
                    "Subscription %(sub)s is closed: an upsell sells more of a "
                    "running subscription. Reactivate it first, or sell a new "
                    "subscription.",
                    sub=self.display_name,
                )
            )
        change = (
            self.env["subscription.change"]
            .sudo()
            .new({"subscription_id": self.id, "operation": "change_quantity"})
        )
        change._check_transition(change._state_for_check())

    def _upsell_lines(self, day):
        """``(running lines, options not subscribed)`` an upsell on ``day``
        offers: the fixed lines billed that day and the plan's optional lines
        with no running line."""
        self.ensure_one()
        running = (
            self._lines_on(day)
            .filtered(lambda line: line.line_type == "fixed")
            .sorted(lambda line: (line.sequence, line.id))
        )
        options = self.plan_id.line_ids.filtered(
            lambda pl: (
                pl.is_optional
                and pl.line_type == "fixed"
                and pl not in running.plan_line_id
            )
        )
        return running, options

    def _prepare_upsell_order_vals(self):
        self.ensure_one()
        day = fields.Date.context_today(self)
        running, options = self._upsell_lines(day)
        lines = [
            Command.create(
                {
                    "product_id": line.product_id.id,
                    "product_uom_qty": 0.0,
                    "subscription_line_id": line.id,
                    "sequence": line.sequence,
                }
            )
            for line in running
        ]
        lines += [
            Command.create(
                {
                    "product_id": option.product_id.id,
                    "product_uom_qty": 0.0,
                    "sequence": 1000 + option.sequence,
                }
            )
            for option in options
        ]
        vals = {
            "partner_id": self.partner_id.id,
            "partner_invoice_id": self.partner_invoice_id.id,
            "company_id": self.company_id.id,
            "pricelist_id": self.pricelist_id.id,
            "payment_term_id": self.payment_term_id.id,
            "fiscal_position_id": self.fiscal_position_id.id,
            "subscription_plan_id": self.plan_id.id,
            "subscription_id": self.id,
            "subscription_order_kind": "upsell",
            "subscription_upsell_date": day,
            "origin": self.name,
            "order_line": lines,
        }
        if self.user_id:
            vals["user_id"] = self.user_id.id
        return vals

    def _upsell_simulate(self, values, day):
        """The change engine's simulation of an upsell change on ``day``
        (``(change, effect)``, nothing written): the figures of the change
        wizard. Runs as superuser: a salesperson reads the subscription, the
        quotation's confirmation is the right to change it."""
        self.ensure_one()
        # A simulation while an order is duplicated (its prices recomputed)
        # copies subscription lines: not the ones the duplication has seen.
        context = {
            key: value
            for key, value in self.env.context.items()
            if key != "__copy_data_seen"
        }
        env = self.env(context=context, su=True)
        return env["subscription.change"]._request(
            self.with_env(env), {**values, "date": day}, simulate=True
        )
