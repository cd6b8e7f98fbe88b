# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The customer's side of a subscription: the portal's self-service within
the plan's policies, the statement (invoices, payments, running balance) and
the saved payment method charged automatically."""

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError


class SubscriptionSubscription(models.Model):
    _inherit = "subscription.subscription"

    # ------------------------------------------------------------------
    # Portal access
    # ------------------------------------------------------------------

    def _compute_access_url(self):
        result = super()._compute_access_url()
        for sub in self:
            sub.access_url = f"/my/subscriptions/{sub.id}"
        return result

    # ------------------------------------------------------------------
    # Customer portal: self-service within the plan's policies
    # ------------------------------------------------------------------

    # Close reasons the processes set; customers pick among the others.
    SYSTEM_CLOSE_REASONS = (
        "subscription_billing.close_reason_term_ended",
        "subscription_billing.close_reason_trial_not_converted",
        "subscription_billing.close_reason_unpaid",
    )

    def _portal_close_reasons(self):
        system = [
            self.env.ref(x, raise_if_not_found=False) for x in self.SYSTEM_CLOSE_REASONS
        ]
        return self.env["subscription.close.reason"].search(
            [("id", "not in", [r.id for r in system if r])]
        )

    def _portal_actions(self):
        """What the customer may do now: ``{operation: allowed}``."""
        self.ensure_one()
        plan = self.plan_id
        running = self.state in ("trial", "active")
        pending = self._pending_cancellation()
        return {
            "change_quantity": running and plan.portal_change_quantity and not pending,
            "change_plan": running
            and plan.portal_change_plan
            and bool(plan.portal_plan_ids)
            and not pending,
            "options": running and plan.portal_manage_options and not pending,
            "cancel": self.state in ("trial", "active", "paused")
            and plan.portal_cancel
            and not pending,
            "reactivate": bool(pending) and plan.portal_cancel,
        }

    def _portal_payment_tokens(self):
        """The saved methods the customer may choose for this subscription."""
        self.ensure_one()
        return (
            self.env["payment.token"]
            .sudo()
            .search(
                [
                    ("partner_id", "child_of", self.commercial_partner_id.id),
                    ("company_id", "in", [self.company_id.id, False]),
                ]
            )
        )

    def _portal_available_options(self):
        self.ensure_one()
        current = self.line_ids.filtered("is_current").plan_line_id
        return self.plan_id.line_ids.filtered(
            lambda line: line.is_optional and line not in current
        )

    def _portal_can_change(self):
        """Whether the current user may change this subscription in the
        portal: one of the customer's own users (its commercial entity), not
        a shared link, nor staff of the seller acting through the portal."""
        self.ensure_one()
        user = self.env.user
        return (
            not user._is_public()
            and user.partner_id.commercial_partner_id == self.commercial_partner_id
        )

    def _portal_check_change_right(self):
        if not self._portal_can_change():
            raise AccessError(
                self.env._(
                    "Only the users of %(customer)s may change subscription "
                    "%(sub)s in the portal.",
                    customer=self.commercial_partner_id.display_name,
                    sub=self.name,
                )
            )

    def _portal_set_payment_token(self, token):
        """The customer chooses one of its saved methods for the automatic
        payment."""
        self.ensure_one()
        self._portal_check_change_right()
        if token not in self._portal_payment_tokens() or self.state in (
            "draft",
            "closed",
        ):
            raise UserError(self.env._("Choose one of your saved payment methods."))
        self._set_payment_token(token)

    def _portal_change(self, operation, params, simulate=True):
        """Run a change asked in the portal (``params``: the form's strings),
        after checking the user's right and the plan's policies; a simulation
        writes nothing. Raises ``UserError`` with the reason otherwise."""
        self.ensure_one()
        self._portal_check_change_right()
        actions = self._portal_actions()
        key = "options" if operation in ("add_option", "remove_option") else operation
        if not actions.get(key):
            raise UserError(
                self.env._("This change is not available for your subscription.")
            )
        if operation == "change_quantity":
            line = self._portal_line(params.get("line_id"))
            try:
                quantity = float(params.get("quantity"))
            except (TypeError, ValueError) as error:
                raise UserError(self.env._("Enter a quantity.")) from error
            if quantity == line.quantity:
                raise UserError(self.env._("The quantity is unchanged."))
            return self.change_quantity(line.id, quantity, simulate=simulate)
        if operation == "change_plan":
            plan = self.plan_id.portal_plan_ids.filtered(
                lambda p: str(p.id) == str(params.get("plan_id"))
            )
            if not plan:
                raise UserError(self.env._("Choose one of the plans offered."))
            return self.change_plan(plan.id, simulate=simulate)
        if operation == "add_option":
            option = self._portal_available_options().filtered(
                lambda line: str(line.id) == str(params.get("plan_line_id"))
            )
            if not option:
                raise UserError(self.env._("Choose one of the options offered."))
            return self.add_option(option.id, simulate=simulate)
        if operation == "remove_option":
            line = self._portal_line(params.get("line_id"))
            if not line.plan_line_id.is_optional:
                raise UserError(self.env._("Only options can be removed."))
            return self.remove_option(line.id, simulate=simulate)
        if operation == "cancel":
            reason = self._portal_close_reasons().filtered(
                lambda r: str(r.id) == str(params.get("reason_id"))
            )
            if not reason:
                raise UserError(self.env._("Tell us why you cancel."))
            return self.cancel(
                policy="end_of_period", reason_id=reason.id, simulate=simulate
            )
        if operation == "reactivate":
            return self.reactivate(simulate=simulate)
        raise UserError(self.env._("Unknown change."))

    def _portal_line(self, line_id):
        line = self.line_ids.filtered(
            lambda line: (
                line.is_current
                and line.line_type == "fixed"
                and str(line.id) == str(line_id)
            )
        )
        if not line:
            raise UserError(self.env._("This line is not part of your subscription."))
        return line

    def _portal_preview(self):
        """The next invoice for the portal page; empty when it cannot be
        computed now (the page shows the rest)."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                return self.preview_next_invoice()
        except UserError:
            return {"invoice_date": False, "lines": [], "usage": [], "amount_total": 0}

    # ------------------------------------------------------------------
    # Statement
    # ------------------------------------------------------------------

    def _get_period_phrase(self):
        """The billing period after a price, in the customer's language: "per
        month", "every 3 months" (for the emails)."""
        self.ensure_one()
        return self.plan_id._get_period_phrase(lang=self.partner_id.lang)

    def _get_report_base_filename(self):
        self.ensure_one()
        return self.env._("Statement %(name)s", name=self.name).replace("/", "-")

    def _statement_moves(self):
        self.ensure_one()
        # With the credit notes that reverse its invoices (made from the
        # invoice: their lines do not name the subscription).
        documents = self.invoice_ids | self.invoice_ids.reversal_move_ids
        return documents.filtered(
            lambda m: (
                m.state == "posted" and m.move_type in ("out_invoice", "out_refund")
            )
        ).sorted(lambda m: (m.invoice_date, m.id))

    def _statement_lines(self):
        """The lines of the statement: today's lines; while paused, the lines
        the pause ended too (a pause ends the lines, the resume brings them
        back), so a paused subscription still shows what it bills."""
        self.ensure_one()
        lines = self.line_ids.filtered("is_current")
        if self.state == "paused":
            pause = self.env["subscription.change"].search(
                [
                    ("subscription_id", "=", self.id),
                    ("operation", "=", "pause"),
                    ("state", "=", "applied"),
                ],
                order="effective_date desc, id desc",
                limit=1,
            )
            lines |= pause.ended_line_ids
        return lines.sorted(lambda line: (line.sequence, line.id))

    def _statement_rows(self):
        """Invoices, credit notes and payments, by date, with the running
        balance (for the statement).

        Each row has ``invoiced`` (an invoice), ``credited`` (a credit note,
        negative), ``paid`` (a payment received; negative for a refund paid
        back) and ``balance``. A credit note reconciled with an invoice is
        listed once, as a credit note, never as a payment of the invoice.
        """
        self.ensure_one()
        entries = []
        moves = self._statement_moves()
        listed = set(moves.ids)
        for move in moves:
            refund = move.move_type == "out_refund"
            entries.append(
                (
                    move.invoice_date,
                    0,
                    move.name,
                    0.0 if refund else move.amount_total,
                    -move.amount_total if refund else 0.0,
                    0.0,
                )
            )
            for payment in (move.invoice_payments_widget or {}).get("content", []):
                # Exchange differences are no payment; a credit note (or, on
                # a credit note, the invoice it settles) has its own row.
                if payment.get("is_exchange") or payment.get("move_id") in listed:
                    continue
                label = payment.get("ref") or payment.get("name") or ""
                if payment.get("is_refund") and not refund:
                    # Another credit note settles this invoice: a credit.
                    entries.append(
                        (payment["date"], 1, label, 0.0, -payment["amount"], 0.0)
                    )
                    continue
                amount = -payment["amount"] if refund else payment["amount"]
                entries.append((payment["date"], 1, label, 0.0, 0.0, amount))
        rows, balance = [], 0.0
        for day, __, document, invoiced, credited, paid in sorted(
            entries, key=lambda e: e[:2]
        ):
            balance = self.currency_id.round(balance + invoiced + credited - paid)
            rows.append(
                {
                    "date": day,
                    "document": document,
                    "invoiced": invoiced,
                    "credited": credited,
                    "paid": paid,
                    "balance": balance,
                }
            )
        return rows

    def _statement_balance(self):
        """What the customer owes: the invoices left to pay, less the credit
        notes left to use."""
        self.ensure_one()
        moves = self._statement_moves()
        due = sum(
            moves.filtered(lambda m: m.move_type == "out_invoice").mapped(
                "amount_residual"
            )
        )
        credit = sum(
            moves.filtered(lambda m: m.move_type == "out_refund").mapped(
                "amount_residual"
            )
        )
        return self.currency_id.round(due - credit)

    # ------------------------------------------------------------------
    # Payment method (saved by the customer, dropped after a hard decline)
    # ------------------------------------------------------------------

    payment_token_id = fields.Many2one(
        "payment.token",
        string="Payment Method",
        check_company=True,
        tracking=True,
        copy=False,
        domain="[('partner_id', 'child_of', commercial_partner_id)]",
        help="Saved payment method charged automatically when an invoice is "
        "posted (for example saved by the customer while paying in the "
        "portal). Empty: the customer pays by transfer or in the portal.",
    )

    @api.constrains("payment_token_id", "partner_id", "company_id")
    def _check_payment_token(self):
        for sub in self.filtered("payment_token_id"):
            token = sub.payment_token_id.sudo()
            if not sub._payment_token_is_usable(token):
                raise ValidationError(
                    self.env._(
                        "The payment method %(token)s cannot pay subscription "
                        "%(sub)s: it must be an active method saved by %(customer)s "
                        "(or one of its contacts) with a payment provider of "
                        "%(company)s.",
                        token=token.display_name,
                        sub=sub.display_name,
                        customer=sub.commercial_partner_id.display_name,
                        company=sub.company_id.display_name,
                    )
                )

    def _payment_token_is_usable(self, token, invoice=None):
        """``token`` belongs to this customer and company, and is active."""
        self.ensure_one()
        token = token.sudo()
        partner = (invoice or self).commercial_partner_id
        return bool(
            token.active
            and token.partner_id.commercial_partner_id == partner
            and token.company_id in (self.company_id, self.env["res.company"])
        )

    def _set_payment_token(self, token):
        for sub in self:
            sub.payment_token_id = token
            sub.message_post(
                body=self.env._(
                    "Payment method %(token)s saved for the automatic payment of "
                    "the next invoices.",
                    token=token.display_name,
                )
            )

    def _drop_payment_token(self, reason):
        """The method was declined for good: the customer must give a new one."""
        for sub in self:
            sub.message_post(
                body=self.env._(
                    "Payment method %(token)s removed after a hard decline "
                    "(%(reason)s): the customer is asked for a new one.",
                    token=sub.payment_token_id.display_name,
                    reason=reason or "-",
                )
            )
        self.payment_token_id = False
