# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The preview of the next invoice: a dry run of the billing's preparation
(:meth:`_prepare_billing`); nothing is claimed nor written."""

from markupsafe import Markup

from odoo import fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import formatLang

from ..const import BILLABLE_STATES, INVOICE_CREATE_CONTEXT
from ..core import periods
from ..core.periods import ARREARS
from ..tools import (
    format_day,
    format_quantity,
    html_table,
)


class SubscriptionSubscription(models.Model):
    _inherit = "subscription.subscription"

    # ------------------------------------------------------------------
    # Preview of the next invoice (a dry run of the billing)
    # ------------------------------------------------------------------

    def preview_next_invoice(self):
        """What the next invoice would contain now; writes nothing (API).

        Returns a dict: ``invoice_date``, ``currency``, ``lines`` (description,
        quantity, unit price, discount, subtotal, taxes), ``usage`` (rated
        usage with its allowance and details), ``amount_untaxed``,
        ``amount_tax`` and ``amount_total``; usage is counted up to now.
        """
        self._ensure_one_subscription()
        self.check_access("read")
        result = {
            "subscription": self.name,
            "invoice_date": False,
            "currency": self.currency_id.name,
            "lines": [],
            "usage": [],
            "amount_untaxed": 0.0,
            "amount_tax": 0.0,
            "amount_total": 0.0,
        }
        if self.state not in BILLABLE_STATES or not self.next_invoice_date:
            return result
        groups = self._preview_groups(self.next_invoice_date)
        if not groups and self.has_usage:
            # A usage-only plan billed in advance has nothing to invoice at
            # the start of a period: its next invoice bills the current usage.
            schedule = self._get_schedule(open_ended=self._renews())
            day = max(fields.Date.context_today(self), self._next_usage_day())
            later = schedule and schedule.next_due_date(ARREARS, day)
            if later and later > self.next_invoice_date:
                groups = self._preview_groups(later)
        if not groups:
            return result
        group = min(groups, key=lambda g: g.invoice_date)
        move = (
            self.env["account.move"]
            .with_context(**INVOICE_CREATE_CONTEXT)
            .new(group.move_vals)
        )
        result.update(
            invoice_date=fields.Date.to_string(move.invoice_date),
            lines=[
                {
                    "description": line.name,
                    "product": line.product_id.display_name,
                    "quantity": line.quantity,
                    "price_unit": line.price_unit,
                    "discount": line.discount,
                    "subtotal": line.price_subtotal,
                    "taxes": line.tax_ids.mapped("name"),
                }
                for line in move.invoice_line_ids
            ],
            usage=[
                {
                    "metric": charge.line.metric_id.code,
                    "description": charge.line.name,
                    "amount": float(charge.rounded),
                    # Exact figures with the metric's precision, for display.
                    "display": self.env["subscription.usage.charge"]._display_figures(
                        charge.line.metric_id, charge.charge_vals["details"]
                    ),
                    **{
                        key: charge.charge_vals.get(key, 0.0)
                        for key in (
                            "usage_start",
                            "usage_end",
                            "is_late",
                            "event_count",
                            "quantity",
                            "included",
                            "carried_in",
                            "allowance_used",
                            "expired",
                            "carried_out",
                            "billed_units",
                            "explanation",
                            "details",
                        )
                    },
                }
                for charge in group.charges
                if charge.line.subscription_id == self
            ],
        )
        # A new (unsaved) move has no journal items to total: add its lines.
        untaxed = sum(move.invoice_line_ids.mapped("price_subtotal"))
        total = sum(move.invoice_line_ids.mapped("price_total"))
        result.update(
            amount_untaxed=self.currency_id.round(untaxed),
            amount_tax=self.currency_id.round(total - untaxed),
            amount_total=self.currency_id.round(total),
        )
        for usage in result["usage"]:
            for key in ("usage_start", "usage_end"):
                usage[key] = fields.Date.to_string(usage[key])
        return result

    def _preview_groups(self, up_to):
        groups, __, __ = self._prepare_billing(up_to, isolate=False)
        return [group for group in groups if group.has_lines]

    def _render_preview(self):
        """The preview as HTML for the form; errors are shown, not raised."""
        self.ensure_one()
        if not self.id or self.state not in BILLABLE_STATES:
            return False
        try:
            with self.env.cr.savepoint(flush=False):
                preview = self.preview_next_invoice()
        except (UserError, ValidationError, periods.PeriodError) as error:
            return Markup("<p class='text-danger'>%s</p>") % str(error)
        if not preview["lines"]:
            return Markup("<p>%s</p>") % self.env._("Nothing to invoice.")
        currency = self.currency_id

        def money(amount):
            return formatLang(self.env, amount, currency_obj=currency)

        headers = [self.env._("Description")]
        headers += [self.env._("Quantity"), self.env._("Amount")]
        return Markup("<p><strong>%s</strong> %s</p>%s") % (
            self.env._("Invoice date:"),
            format_day(self.env, fields.Date.to_date(preview["invoice_date"])),
            html_table(
                headers,
                [
                    (
                        line["description"],
                        format_quantity(self.env, line["quantity"]),
                        money(line["subtotal"]),
                    )
                    for line in preview["lines"]
                ],
                [
                    (self.env._("Untaxed"), money(preview["amount_untaxed"])),
                    (self.env._("Taxes"), money(preview["amount_tax"])),
                    (
                        Markup("<strong>%s</strong>") % self.env._("Total"),
                        Markup("<strong>%s</strong>") % money(preview["amount_total"]),
                    ),
                ],
            ),
        )

    def action_preview_next_invoice(self):
        """Open the form on its preview page."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Preview of the Next Invoice"),
            "res_model": "subscription.preview.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_subscription_id": self.id},
        }
