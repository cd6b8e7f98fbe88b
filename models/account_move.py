# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..const import OPEN_PAYMENT_STATES


class AccountMove(models.Model):
    _inherit = "account.move"

    subscription_period_ids = fields.One2many(
        "subscription.period", "invoice_id", string="Billed Periods", readonly=True
    )
    subscription_ids = fields.Many2many(
        "subscription.subscription",
        string="Subscriptions",
        compute="_compute_subscription_ids",
        search="_search_subscription_ids",
    )
    subscription_count = fields.Integer(compute="_compute_subscription_ids")
    subscription_usage_charge_ids = fields.Many2many(
        "subscription.usage.charge",
        compute="_compute_subscription_usage_charge_ids",
        string="Rated Usage",
    )
    subscription_to_charge = fields.Boolean(
        readonly=True,
        copy=False,
        help="Posted, waiting for the automatic payment with the subscription's "
        "saved payment method.",
    )
    subscription_dunning_ids = fields.One2many(
        "subscription.dunning", "invoice_id", string="Payment Follow-ups", readonly=True
    )
    subscription_dunning_event_ids = fields.One2many(
        "subscription.dunning.event",
        "invoice_id",
        string="Payment Attempts and Reminders",
        readonly=True,
    )
    subscription_dunning_count = fields.Integer(
        compute="_compute_subscription_dunning_count"
    )
    subscription_can_retry_payment = fields.Boolean(
        string="Payment Retry Possible",
        compute="_compute_subscription_can_retry_payment",
        help="The subscription's saved payment method can be charged now: an "
        "open invoice, a usable saved method, no payment being processed.",
    )

    subscription_wallet_purchase_id = fields.Many2one(
        "subscription.wallet",
        string="Credit Bought For",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The wallet credited when this invoice is paid.",
    )
    subscription_wallet_transaction_ids = fields.One2many(
        "subscription.wallet.transaction",
        "invoice_id",
        string="Prepaid Credit Movements",
        readonly=True,
    )

    _subscription_to_charge_index = models.Index("(id) WHERE subscription_to_charge")

    @api.depends("subscription_period_ids", "invoice_line_ids.subscription_id")
    def _compute_subscription_ids(self):
        for move in self:
            move.subscription_ids = (
                move.subscription_period_ids.subscription_id
                | move.invoice_line_ids.subscription_id
            )
            move.subscription_count = len(move.subscription_ids)

    @api.depends("subscription_dunning_ids")
    def _compute_subscription_dunning_count(self):
        for move in self:
            move.subscription_dunning_count = len(move.subscription_dunning_ids)

    @api.depends("subscription_period_ids.usage_charge_ids")
    def _compute_subscription_usage_charge_ids(self):
        for move in self:
            move.subscription_usage_charge_ids = (
                move.subscription_period_ids.usage_charge_ids
            )

    def _compute_subscription_can_retry_payment(self):
        for move in self:
            move.subscription_can_retry_payment = not move._subscription_retry_blocker()

    def _search_subscription_ids(self, operator, value):
        return [("invoice_line_ids.subscription_id", operator, value)]

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        # Prepaid credit pays first, like a payment: the automatic charge only
        # takes what is left.
        self.env["subscription.wallet"]._apply_to_invoices(
            posted.filtered(
                lambda m: (
                    m.move_type == "out_invoice"
                    and m.invoice_line_ids.subscription_id
                    and not m.currency_id.is_zero(m.amount_residual)
                )
            )
        )
        to_charge = posted.filtered(
            lambda m: (
                m.move_type == "out_invoice"
                and not m.currency_id.is_zero(m.amount_residual)
                and m.invoice_line_ids.subscription_id
                and m._subscription_payment_token()
            )
        )
        if to_charge:
            to_charge.subscription_to_charge = True
            cron = self.env.ref(
                "subscription_billing.ir_cron_dunning", raise_if_not_found=False
            )
            if cron:
                cron.sudo()._trigger()
        return posted

    def button_draft(self):
        result = super().button_draft()
        self.filtered("subscription_to_charge").subscription_to_charge = False
        self.env["subscription.dunning"].sudo()._stop_for_invoices(self)
        return result

    def button_cancel(self):
        result = super().button_cancel()
        self.env["subscription.wallet"].sudo()._refund_invoices(self)
        self.filtered("subscription_to_charge").subscription_to_charge = False
        self.env["subscription.dunning"].sudo()._stop_for_invoices(self)
        return result

    def _invoice_paid_hook(self):
        result = super()._invoice_paid_hook()
        for move in self.sudo().filtered(
            lambda m: m.subscription_wallet_purchase_id and m.move_type == "out_invoice"
        ):
            move.subscription_wallet_purchase_id._record_purchase(move)
        self.env["subscription.dunning"].sudo()._stop_for_invoices(self)
        return result

    # ------------------------------------------------------------------
    # Automatic payment of subscription invoices
    # ------------------------------------------------------------------

    def _subscription_payment_token(self):
        """The saved payment method that pays this invoice, if any."""
        self.ensure_one()
        for sub in self.invoice_line_ids.subscription_id:
            if sub.payment_token_id and sub._payment_token_is_usable(
                sub.payment_token_id, self
            ):
                return sub.payment_token_id
        return self.env["payment.token"]

    def _subscription_is_open(self):
        self.ensure_one()
        return (
            self.state == "posted"
            and self.move_type == "out_invoice"
            and self.payment_state in OPEN_PAYMENT_STATES
            and not self.currency_id.is_zero(self.amount_residual)
        )

    def _subscription_check_chargeable(self):
        """Refuse a payment attempt on an invoice that is not open."""
        self.ensure_one()
        if not self._subscription_is_open():
            raise UserError(
                self.env._(
                    "Invoice %(inv)s cannot be charged: it is %(state)s, not a "
                    "posted customer invoice waiting for payment.",
                    inv=self.display_name,
                    state=(
                        dict(self._fields["state"]._description_selection(self.env))[
                            self.state
                        ]
                        if self.state != "posted"
                        else dict(
                            self._fields["payment_state"]._description_selection(
                                self.env
                            )
                        )[self.payment_state]
                    ),
                )
            )

    @api.model
    def _subscription_lock_sql(self, invoice_id):
        return SQL(
            "SELECT id FROM account_move WHERE id = %s FOR NO KEY UPDATE", invoice_id
        )

    def _subscription_start_charge(self):
        """First automatic payment of this (claimed) invoice: the attempt is
        written now, sent once committed."""
        self.ensure_one()
        self.subscription_to_charge = False
        Event = self.env["subscription.dunning.event"]
        if not self._subscription_is_open() or Event.search_count(
            [("invoice_id", "=", self.id), ("attempt_number", "!=", False)], limit=1
        ):
            return Event
        token = self._subscription_payment_token()
        if not token:
            return Event
        return Event._create_charge(self, token)

    def _subscription_record_charge_error(self, error):
        self.ensure_one()
        self.subscription_to_charge = False
        self.message_post(
            body=self.env._(
                "Automatic payment or payment follow-up not started: %(error)s",
                error=error,
            )
        )

    def _subscription_retry_blocker(self):
        """Why the saved payment method cannot be charged now (a message), or
        an empty string when it can: what Retry Payment refuses is what hides
        its button (``subscription_can_retry_payment``)."""
        self.ensure_one()
        if not self._subscription_is_open():
            try:
                self._subscription_check_chargeable()
            except UserError as error:
                return str(error)
        if not self.subscription_ids:
            return self.env._(
                "Invoice %(inv)s does not bill a subscription.", inv=self.display_name
            )
        token = self._subscription_payment_token()
        if not token:
            return self.env._(
                "Invoice %(inv)s has no saved payment method to charge: the "
                "customer pays by transfer or in the portal.",
                inv=self.display_name,
            )
        if token.sudo().provider_id.state not in ("enabled", "test"):
            return self.env._(
                "The payment method %(token)s cannot be charged: its provider is "
                "disabled.",
                token=token.display_name,
            )
        pending = (
            self.env["subscription.dunning.event"]
            .sudo()
            .search(
                [("invoice_id", "=", self.id), ("result", "in", ("queued", "pending"))],
                limit=1,
            )
            .transaction_id
            or self.sudo().transaction_ids.filtered(
                lambda tx: tx.state in ("pending", "authorized")
            )[:1]
        )
        if pending:
            return self.env._(
                "A payment of invoice %(inv)s is still being processed "
                "(transaction %(tx)s): wait for its result before trying again.",
                inv=self.display_name,
                tx=pending.reference,
            )
        return ""

    def action_subscription_retry_payment(self):
        """Retry the automatic payment now (staff): queued, then sent by the
        scheduled action, triggered at once."""
        for invoice in self:
            blocker = invoice._subscription_retry_blocker()
            if blocker:
                raise UserError(blocker)
            dunning = invoice.subscription_dunning_ids.filtered(
                lambda d: d.state == "open"
            )
            if dunning:
                dunning.action_retry_now()
                continue
            self.env["subscription.dunning.event"]._create_charge(
                invoice, invoice._subscription_payment_token()
            )
        return self.env["subscription.dunning.event"]._notify_queued()

    def action_view_subscription_dunning(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "subscription_billing.subscription_dunning_action"
        )
        action["domain"] = [("invoice_id", "=", self.id)]
        return action

    @api.ondelete(at_uninstall=False)
    def _unlink_rewind_subscriptions(self):
        """Deleting a subscription invoice frees its periods for the next run."""
        periods = self.sudo().subscription_period_ids
        if not periods:
            return
        earliest = {}
        for period in periods:
            key = (period.subscription_id, period.kind)
            earliest[key] = min(
                period.period_start, earliest.get(key, period.period_start)
            )
        # Their usage events become unbilled again (charge_id is set null).
        periods.unlink()
        for (sub, kind), start in earliest.items():
            sub = sub.with_env(self.env)._as_engine()
            field = "invoiced_until" if kind == "service" else "usage_invoiced_until"
            if sub[field] and sub[field] >= start:
                sub[field] = (
                    start - timedelta(days=1) if start > sub._billing_start() else False
                )
        for sub in {sub for sub, __ in earliest}:
            sub.with_env(self.env)._update_next_invoice_date()

    def action_view_subscriptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "subscription_billing.subscription_subscription_action"
        )
        action["domain"] = [("id", "in", self.subscription_ids.ids)]
        if len(self.subscription_ids) == 1:
            action["views"] = [(False, "form")]
            action["res_id"] = self.subscription_ids.id
        return action
