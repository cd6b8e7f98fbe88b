# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A subscription order paid online: the payment pays its first invoice.

Odoo confirms a quotation paid online in the transaction's post-processing
(``_check_amount_and_confirm_order``): the subscription is created and
started, the card saved with the payment becomes its payment method. The
order's first invoice (the first period and the one-time lines, issued by the
billing engine) is then linked to the transaction *before* the payment is
created, so that the payment reconciles it:

* also when the setting *Automatic Invoice* (``sale.automatic_invoice``) is
  off: a payment left unreconciled next to a separate invoice of the same
  first period would be charged or reminded again;
* the invoice already issued (by the salesperson, or the billing run) when the
  customer pays the order afterwards (a payment link);
* never a down payment invoice (Odoo's for a partial payment of a confirmed
  order): it could not be deducted from the first invoice, which the partial
  payment pays in part instead.
"""

from odoo import Command, models

from ..const import OPEN_PAYMENT_STATES


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _subscription_sale_orders(self):
        """The confirmed orders of this transaction that started a
        subscription."""
        return self.sale_order_ids.filtered(
            lambda order: (
                order.state == "sale"
                and order.subscription_order_kind == "new"
                and order.subscription_id
            )
        )

    def _check_amount_and_confirm_order(self):
        confirmed = super()._check_amount_and_confirm_order()
        self.filtered(
            lambda tx: tx.state == "done" and tx.operation != "validation"
        )._subscription_invoice_orders()
        return confirmed

    def _invoice_sale_orders(self):
        """Odoo's invoicing of paid orders (*Automatic Invoice*) leaves the
        subscription orders to :meth:`_subscription_invoice_orders`."""
        others = self.filtered(lambda tx: not tx._subscription_sale_orders())
        return super(PaymentTransaction, others)._invoice_sale_orders()

    def _subscription_invoice_orders(self):
        """Link to these done transactions the first invoices of their
        subscription orders, issued now by the billing engine if not yet:
        posting the payment reconciles them."""
        for tx in self.filtered(lambda t: not t.invoice_ids):
            orders = tx._subscription_sale_orders()
            if not orders:
                continue
            tx = tx.with_company(tx.company_id)
            created = orders.with_context(
                raise_if_nothing_to_invoice=False
            )._create_invoices(final=True)
            issued = orders.invoice_ids.filtered(
                lambda move: (
                    move.move_type == "out_invoice"
                    and move.state == "posted"
                    and move.payment_state in OPEN_PAYMENT_STATES
                )
            )
            invoices = created | issued
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
