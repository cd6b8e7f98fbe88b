# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date, timedelta

from odoo import api, fields, models
from odoo.tools import format_date, formatLang

from ..core import recognition
from ..tools import html_table


class SubscriptionRevenueScheduleWizard(models.TransientModel):
    """The revenue schedule beside the general ledger: at a date, the
    deferred balance the schedule says and the balance of the deferred
    revenue account, month by month."""

    _name = "subscription.revenue.schedule.wizard"
    _description = "Revenue Schedule"

    date = fields.Date(string="At", required=True, default=fields.Date.context_today)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    deferred_account_id = fields.Many2one(
        related="company_id.subscription_deferred_account_id"
    )
    ledger_balance = fields.Monetary(
        string="General Ledger Balance",
        compute="_compute_balances",
        help="Credit balance of the deferred revenue account at the date, "
        "posted entries only.",
    )
    schedule_balance = fields.Monetary(
        string="Schedule Deferred Balance",
        compute="_compute_balances",
        help="Revenue of posted invoices not recognised at the date.",
    )
    difference = fields.Monetary(compute="_compute_balances")
    recognized_total = fields.Monetary(
        string="Recognised to Date", compute="_compute_balances"
    )
    months_html = fields.Html(
        string="Per Month", compute="_compute_balances", sanitize=False
    )

    def _schedule_balance(self, day):
        groups = self.env["subscription.revenue.recognition"]._read_group(
            [
                ("company_id", "=", self.company_id.id),
                ("move_date", "<=", day),
                "|",
                ("state", "=", "planned"),
                ("date", ">", day),
            ],
            [],
            ["amount:sum"],
        )
        return groups[0][0] or 0.0

    def _recognized(self, start, end):
        groups = self.env["subscription.revenue.recognition"]._read_group(
            [
                ("company_id", "=", self.company_id.id),
                ("state", "=", "posted"),
                ("date", ">=", start),
                ("date", "<=", end),
            ],
            [],
            ["amount:sum"],
        )
        return groups[0][0] or 0.0

    def _ledger_balance(self, day):
        if not self.deferred_account_id:
            return 0.0
        groups = self.env["account.move.line"]._read_group(
            [
                ("company_id", "=", self.company_id.id),
                ("account_id", "=", self.deferred_account_id.id),
                ("parent_state", "=", "posted"),
                ("date", "<=", day),
            ],
            [],
            ["balance:sum"],
        )
        return -(groups[0][0] or 0.0)

    @api.depends("date", "company_id")
    def _compute_balances(self):
        for wizard in self:
            currency = wizard.currency_id
            wizard.ledger_balance = currency.round(wizard._ledger_balance(wizard.date))
            wizard.schedule_balance = currency.round(
                wizard._schedule_balance(wizard.date)
            )
            wizard.difference = currency.round(
                wizard.ledger_balance - wizard.schedule_balance
            )
            wizard.recognized_total = currency.round(
                wizard._recognized(date.min, wizard.date)
            )
            wizard.months_html = wizard._months_table()

    def _months_table(self):
        first = self.env["subscription.revenue.recognition"].search(
            [("company_id", "=", self.company_id.id)], order="move_date", limit=1
        )
        if not first:
            return False
        month = recognition.month_start(first.move_date)
        end = recognition.month_start(self.date)
        rows = []
        money = lambda amount: formatLang(  # noqa: E731
            self.env, amount, currency_obj=self.currency_id
        )
        while month <= end and len(rows) < 120:
            last = min(recognition.month_end(month), self.date)
            ledger = self._ledger_balance(last)
            schedule = self._schedule_balance(last)
            rows.append(
                (
                    format_date(self.env, month, date_format="MMMM y"),
                    money(self._recognized(month, last)),
                    money(schedule),
                    money(ledger),
                    money(self.currency_id.round(ledger - schedule)),
                )
            )
            month = last + timedelta(days=1)
        return html_table(
            [
                self.env._("Month"),
                self.env._("Recognised"),
                self.env._("Deferred (schedule)"),
                self.env._("Deferred (general ledger)"),
                self.env._("Difference"),
            ],
            rows,
        )

    def action_open_schedule(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "subscription_billing.subscription_revenue_recognition_action"
        )
        action["domain"] = [("company_id", "=", self.company_id.id)]
        return action
