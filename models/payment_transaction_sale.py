# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A subscription quotation paid online: its first invoice is paid by it.

Odoo confirms a quotation paid online in the transaction's post-processing
(``_check_amount_and_confirm_order``): the subscription is created and
started, the card saved with the payment becomes its payment method. The
order's invoice (the first period and the one-time lines, issued by the
billing engine) is then created and linked to the transaction *before* the
payment is created, so that the payment reconciles it: also when the setting
*Automatic Invoice* (``sale.automatic_invoice``) is off, since a payment left
unreconciled next to a separate invoice of the same first period would be
charged or reminded again.
"""

from odoo import Command, models
from odoo.tools import str2bool


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _check_amount_and_confirm_order(self):
        confirmed = super()._check_amount_and_confirm_order()
        auto_invoice = str2bool(
            self.env["ir.config_parameter"].sudo().get_param("sale.automatic_invoice")
        )
        if not auto_invoice:
            # With the setting on, Odoo's post-processing invoices them next.
            self.filtered(
                lambda tx: tx.state == "done" and tx.operation != "validation"
            )._subscription_invoice_orders()
        return confirmed

    def _subscription_invoice_orders(self):
        """Invoice the subscription orders these done transactions paid in
        full (their first period, by the billing engine) and link the invoices
        to the transactions, which reconcile them when posting the payment."""
        for tx in self.filtered(lambda t: t.sale_order_ids and not t.invoice_ids):
            tx = tx.with_company(tx.company_id)
            orders = tx.sale_order_ids.filtered(
                lambda order: (
                    order.state == "sale"
                    and order.subscription_order_kind == "new"
                    and order.subscription_id
                    and order._is_paid()
                )
            )
            if not orders:
                continue
            invoices = orders.with_context(
                raise_if_nothing_to_invoice=False
            )._create_invoices(final=True)
            for invoice in invoices:
                invoice._portal_ensure_token()
            if invoices:
                tx.invoice_ids = [Command.set(invoices.ids)]

    def _post_process(self):
        result = super()._post_process()
        # The first invoice was posted before the payment reconciled it: it
        # waits for no automatic charge.
        self.invoice_ids.filtered(
            lambda move: (
                move.subscription_to_charge and not move._subscription_is_open()
            )
        ).subscription_to_charge = False
        return result
