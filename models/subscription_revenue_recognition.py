# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Deferred revenue: one row per deferred invoice line and service month.

A posted subscription invoice puts the revenue of a line whose service period
runs past the invoice's month on the deferred revenue account; its rows
(``core.recognition.schedule``) say how much of it each month earns. The
recognition entries (Dr deferred revenue / Cr income) post the rows: the
scheduled action at each month end, or all at once when the invoice is posted
(the company's setting). A credit note of a deferred line is deferred the same
way with opposite rows, so the line's deferred balance comes back to zero and
the income left is what was earned.
"""

import json
import logging
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_date

from ..core import recognition
from ..tools import claim_rows, claimed_batches, exact_decimal

_logger = logging.getLogger(__name__)


class SubscriptionRevenueRecognition(models.Model):
    _name = "subscription.revenue.recognition"
    _description = "Revenue Recognition of a Subscription Invoice Line"
    _order = "date, move_line_id, id"
    _check_company_auto = True

    move_line_id = fields.Many2one(
        "account.move.line",
        string="Invoice Line",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    invoice_id = fields.Many2one(
        related="move_line_id.move_id", store=True, string="Invoice", index=True
    )
    move_date = fields.Date(
        related="move_line_id.move_id.date",
        store=True,
        string="Invoice Accounting Date",
    )
    company_id = fields.Many2one(
        related="move_line_id.company_id", store=True, index=True
    )
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    currency_id = fields.Many2one(
        related="move_line_id.currency_id", store=True, string="Invoice Currency"
    )
    partner_id = fields.Many2one(
        related="move_line_id.move_id.commercial_partner_id",
        store=True,
        string="Customer",
    )
    product_id = fields.Many2one(related="move_line_id.product_id", store=True)
    subscription_id = fields.Many2one(
        related="move_line_id.subscription_id", store=True
    )
    plan_id = fields.Many2one(
        related="move_line_id.subscription_id.plan_id", store=True, string="Plan"
    )
    month = fields.Date(
        string="Service Month",
        required=True,
        readonly=True,
        help="First day of the month of service this share is earned in.",
    )
    date = fields.Date(
        string="Recognition Date",
        required=True,
        readonly=True,
        help="Date of the recognition entry: the end of the service month; "
        "the invoice's date for the months before the invoice's; the end of "
        "the first open month when the month is locked.",
    )
    amount = fields.Monetary(
        currency_field="company_currency_id",
        readonly=True,
        help="Revenue recognised in the month, in the company's currency "
        "(negative for a credit note).",
    )
    amount_currency = fields.Monetary(
        string="Amount in Currency", currency_field="currency_id", readonly=True
    )
    account_id = fields.Many2one(
        "account.account",
        string="Income Account",
        required=True,
        readonly=True,
        help="The account the share is recognised on.",
    )
    deferred_account_id = fields.Many2one(
        "account.account", string="Deferred Revenue Account", required=True
    )
    analytic_distribution = fields.Json(readonly=True)
    state = fields.Selection(
        [("planned", "Planned"), ("posted", "Recognised")],
        required=True,
        default="planned",
        readonly=True,
        index=True,
    )
    recognition_move_id = fields.Many2one(
        "account.move",
        string="Recognition Entry",
        readonly=True,
        index="btree_not_null",
        ondelete="restrict",
    )

    _line_month_unique = models.Constraint(
        "UNIQUE(move_line_id, month)",
        "A line is recognised once per month.",
    )
    _planned_index = models.Index("(company_id, date, id) WHERE state = 'planned'")

    # === BUSINESS METHODS === #

    @api.model
    def _plan_for_lines(self, lines):
        """Write the rows of the deferred ``lines`` (posted now); return them."""
        vals_list = []
        for line in lines:
            shares = line._subscription_recognition_shares()
            credited = line._subscription_credited_rows(shares)
            if credited:
                shares = [
                    (
                        row.month,
                        exact_decimal(row.amount),
                        exact_decimal(row.amount_currency),
                    )
                    for row in credited.sorted("month")
                ]
            opening = recognition.month_start(line.move_id.date)
            for month, balance, amount_currency in shares:
                vals_list.append(
                    {
                        "move_line_id": line.id,
                        "month": month,
                        # Months before the document's: earned already,
                        # recognised on the document's date.
                        "date": recognition.month_end(month)
                        if month >= opening
                        else line.move_id.date,
                        "amount": float(-balance),
                        "amount_currency": float(-amount_currency),
                        "account_id": line.subscription_income_account_id.id,
                        "deferred_account_id": line.account_id.id,
                        "analytic_distribution": line.analytic_distribution,
                    }
                )
        return self.sudo().create(vals_list)

    @api.model
    def _cron_recognize(self, batch_size=5000):
        """Scheduled action: post the rows whose recognition date has come,
        in committed batches. Safe on several workers: each batch claims its
        rows with ``FOR UPDATE SKIP LOCKED``; a row is posted once."""
        self.env["ir.cron"]._commit_progress(0)
        self._recognize_due(
            fields.Date.context_today(self), batch_size=batch_size, commit=True
        )

    @api.model
    def _recognize_due(self, up_to, batch_size=5000, commit=False, company_ids=None):
        """Post every planned row dated ``up_to`` or before; returns the
        recognition entries. The batches take the rows in the order of their
        company and date: one entry per company, month and journal, unless
        the month has more rows than a batch (one entry per batch then)."""
        Rows = self.sudo()
        moves = self.env["account.move"]
        company_filter = (
            SQL(" AND company_id IN %s", tuple(company_ids)) if company_ids else SQL("")
        )

        def claim(retry):
            return Rows.browse(
                row[0]
                for row in claim_rows(
                    self.env,
                    SQL(
                        "SELECT id FROM subscription_revenue_recognition"
                        " WHERE state = 'planned' AND date <= %s%s"
                        " ORDER BY company_id, date, id LIMIT %s"
                        " FOR UPDATE SKIP LOCKED",
                        up_to,
                        company_filter,
                        batch_size,
                    ),
                    commit=retry,
                )
            )

        for batch in claimed_batches(self.env, claim, commit=commit):
            moves |= batch._post_recognition()
        return moves

    def _effective_date(self, journal, lock_dates):
        """The date of the entry of these rows (one date): their own, or the
        end of the first open month after the company's lock date."""
        company = self.company_id
        lock = lock_dates.get(company.id)
        if lock is None:
            lock = lock_dates[company.id] = company._get_user_fiscal_lock_date(journal)
        date = self[:1].date
        if date <= lock:
            return recognition.month_end(lock + timedelta(days=1))
        return date

    def _post_recognition(self):
        """Post these planned rows: one entry per company, date and journal,
        one pair of lines per income account, deferred account, currency and
        analytic distribution. Returns the entries."""
        rows = self.filtered(lambda r: r.state == "planned")
        groups = defaultdict(list)
        lock_dates = {}
        for row in rows:
            company = row.company_id
            journal = company._subscription_recognition_journal()
            if not journal:
                raise UserError(
                    self.env._(
                        "Company %(company)s has no miscellaneous journal for the "
                        "revenue recognition entries: set one in the Settings.",
                        company=company.display_name,
                    )
                )
            date = row._effective_date(journal, lock_dates)
            groups[company, journal, date].append(row.id)
        Move = self.env["account.move"].sudo()
        moves_vals = []
        group_rows = []
        for (company, journal, date), ids in groups.items():
            group = self.browse(ids)
            vals = group._recognition_move_vals(company, journal, date)
            if vals["line_ids"]:
                moves_vals.append(vals)
                group_rows.append(group)
            else:
                # Shares that net to zero (an invoice and its credit note).
                group.write({"state": "posted", "date": date})
        moves = Move.with_context(skip_invoice_sync=True).create(moves_vals)
        moves._post(soft=False)
        for move, group in zip(moves, group_rows, strict=True):
            group.write(
                {"state": "posted", "recognition_move_id": move.id, "date": move.date}
            )
        return moves

    def _recognition_move_vals(self, company, journal, date):
        totals = defaultdict(lambda: [0.0, 0.0])
        locked_months = set()
        for row in self:
            key = (
                row.account_id.id,
                row.deferred_account_id.id,
                row.currency_id.id,
                json.dumps(row.analytic_distribution or {}, sort_keys=True),
            )
            totals[key][0] += row.amount
            totals[key][1] += row.amount_currency
            if row.date != date:
                locked_months.add(recognition.month_start(row.date))
        lang_env = self.env(
            context=dict(self.env.context, lang=company.partner_id.lang)
        )
        month_label = format_date(lang_env, date, date_format="MMMM y")
        ref = self.env._("Revenue recognition %(month)s", month=month_label)
        if locked_months:
            ref = self.env._(
                "%(ref)s (includes locked month(s) %(months)s)",
                ref=ref,
                months=", ".join(
                    format_date(lang_env, month, date_format="MMMM y")
                    for month in sorted(locked_months)
                ),
            )
        line_vals = []
        company_currency = company.currency_id
        for (account, deferred, currency, analytic), (
            amount,
            amount_currency,
        ) in sorted(totals.items()):
            amount = company_currency.round(amount)
            amount_currency = (
                self.env["res.currency"].browse(currency).round(amount_currency)
            )
            if company_currency.is_zero(amount) and not amount_currency:
                continue
            distribution = json.loads(analytic) or False
            common = {
                "name": ref,
                "currency_id": currency,
                "analytic_distribution": distribution,
            }
            line_vals += [
                {
                    **common,
                    "account_id": deferred,
                    "balance": amount,
                    "amount_currency": amount_currency,
                },
                {
                    **common,
                    "account_id": account,
                    "balance": -amount,
                    "amount_currency": -amount_currency,
                },
            ]
        return {
            "move_type": "entry",
            "company_id": company.id,
            "journal_id": journal.id,
            "date": date,
            "ref": ref,
            "line_ids": [fields.Command.create(vals) for vals in line_vals],
        }
