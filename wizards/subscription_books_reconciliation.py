# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Books that agree: for a month, what was billed, what was recognised,
the deferred revenue balance, and the MRR of the snapshots, with the
differences explained, so that an accountant sees why MRR and revenue
differ."""

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, formatLang

from ..tools import html_table

KINDS = ("recurring", "proration", "discount", "usage", "one_time", "other")

# The kind of a subscription invoice line (``aml``, its subscription line
# ``sl``): a discount, a one-time charge (plan one-time line or manual
# charge), usage, a recurring line for its whole period, a part of a period
# (proration of a start, a change, a termination), anything else.
LINE_KIND = SQL(
    """CASE
        WHEN aml.subscription_discount_id IS NOT NULL THEN 'discount'
        WHEN aml.subscription_charge_id IS NOT NULL
          OR sl.line_type = 'one_time' THEN 'one_time'
        WHEN sl.line_type = 'usage' THEN 'usage'
        WHEN sl.line_type = 'fixed'
         AND COALESCE(aml.subscription_billed_days, 0)
             >= COALESCE(aml.subscription_period_days, 0) THEN 'recurring'
        WHEN aml.subscription_period_start IS NOT NULL THEN 'proration'
        ELSE 'other'
    END"""
)


def _last_month(today):
    return today.replace(day=1) - relativedelta(months=1)


class SubscriptionBooksReconciliation(models.TransientModel):
    _name = "subscription.books.reconciliation"
    _description = "Books Reconciliation"

    month = fields.Date(
        required=True,
        default=lambda self: _last_month(fields.Date.context_today(self)),
        help="Any day of the month to reconcile.",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        domain=lambda self: [("id", "in", self.env.companies.ids)],
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    billed = fields.Monetary(
        string="Billed (untaxed)",
        compute="_compute_books",
        help="Subscription invoices less credit notes dated in the month, untaxed.",
    )
    recognized = fields.Monetary(
        string="Recognised",
        compute="_compute_books",
        help="Subscription revenue on the income accounts in the month: lines "
        "not deferred, and the recognition entries of the month.",
    )
    deferred_balance = fields.Monetary(
        string="Deferred Balance at Month End", compute="_compute_books"
    )
    mrr = fields.Monetary(
        string="MRR at Month End",
        compute="_compute_books",
        help="Sum of the MRR snapshots of the month, in the company currency.",
    )
    unexplained = fields.Monetary(compute="_compute_books")
    snapshot_missing = fields.Boolean(compute="_compute_books")
    books_html = fields.Html(
        string="Reconciliation", compute="_compute_books", sanitize=False
    )

    # === QUERIES === #

    def _bounds(self):
        start = self.month.replace(day=1)
        return start, start + relativedelta(months=1, days=-1)

    def _subscription_lines(self, date_column, start, end):
        """The product lines of posted subscription invoices and credit
        notes of the company with ``date_column`` in ``[start, end]``."""
        return SQL(
            """
              FROM account_move_line aml
              JOIN account_move m ON m.id = aml.move_id
              LEFT JOIN subscription_line sl ON sl.id = aml.subscription_line_id
             WHERE m.company_id = %(company)s
               AND m.state = 'posted'
               AND m.move_type IN ('out_invoice', 'out_refund')
               AND aml.display_type = 'product'
               AND %(date)s BETWEEN %(start)s AND %(end)s
               AND EXISTS (SELECT 1 FROM account_move_line x
                            WHERE x.move_id = m.id AND x.subscription_id IS NOT NULL)
            """,
            company=self.company_id.id,
            date=date_column,
            start=start,
            end=end,
        )

    def _recognized_rows(self, start, end):
        """``(kind, subscription, currency, amount)`` of the revenue
        recognised in ``[start, end]``: lines not deferred by their accounting
        date, and deferred lines' recognition rows by their entry's date."""
        return SQL(
            """
            SELECT %(kind)s AS kind, aml.subscription_id, aml.currency_id,
                   -aml.balance AS amount
              %(lines)s
               AND NOT EXISTS (SELECT 1 FROM subscription_revenue_recognition r
                                WHERE r.move_line_id = aml.id)
            UNION ALL
            SELECT %(kind)s, aml.subscription_id, aml.currency_id, r.amount
              FROM subscription_revenue_recognition r
              JOIN account_move_line aml ON aml.id = r.move_line_id
              LEFT JOIN subscription_line sl ON sl.id = aml.subscription_line_id
             WHERE r.company_id = %(company)s AND r.state = 'posted'
               AND r.date BETWEEN %(start)s AND %(end)s
            """,
            kind=LINE_KIND,
            lines=self._subscription_lines(SQL("m.date"), start, end),
            company=self.company_id.id,
            start=start,
            end=end,
        )

    def _billed_by_kind(self, start, end):
        rows = self.env.execute_query(
            SQL(
                "SELECT %s, SUM(-aml.balance) %s GROUP BY 1",
                LINE_KIND,
                self._subscription_lines(SQL("m.invoice_date"), start, end),
            )
        )
        return dict(rows)

    def _recognized_by_kind(self, start, end):
        rows = self.env.execute_query(
            SQL(
                "SELECT kind, SUM(amount) FROM (%s) rec GROUP BY kind",
                self._recognized_rows(start, end),
            )
        )
        return dict(rows)

    def _deferred_movements(self, start, end):
        """``(opening, deferred in, recognised out, closing)`` of the
        deferred revenue account (credit balances, posted entries)."""
        account = self.company_id.subscription_deferred_account_id
        if not account:
            return 0.0, 0.0, 0.0, 0.0
        [row] = self.env.execute_query(
            SQL(
                """
                SELECT COALESCE(SUM(-l.balance) FILTER (WHERE l.date < %(start)s), 0),
                       COALESCE(SUM(-l.balance) FILTER (
                           WHERE l.date >= %(start)s AND m.move_type IN
                                 ('out_invoice', 'out_refund')), 0),
                       COALESCE(SUM(l.balance) FILTER (
                           WHERE l.date >= %(start)s AND m.move_type NOT IN
                                 ('out_invoice', 'out_refund')), 0),
                       COALESCE(SUM(-l.balance), 0)
                  FROM account_move_line l
                  JOIN account_move m ON m.id = l.move_id
                 WHERE l.company_id = %(company)s AND l.account_id = %(account)s
                   AND l.parent_state = 'posted' AND l.date <= %(end)s
                """,
                company=self.company_id.id,
                account=account.id,
                start=start,
                end=end,
            )
        )
        return row

    def _mrr_differences(self, start, end):
        """``(snapshots, mrr, not recognised, without mrr, timing, currency)``:
        the recurring revenue recognised against the MRR, subscription by
        subscription. The MRR is net of the discounts running: the discount
        lines count with the recurring lines."""
        [row] = self.env.execute_query(
            SQL(
                """
                WITH rec AS (
                    SELECT subscription_id, MIN(currency_id) AS currency_id,
                           SUM(amount) AS amount
                      FROM (%(recognized)s) rows
                     WHERE kind IN ('recurring', 'discount')
                     GROUP BY subscription_id
                ),
                snap AS (
                    SELECT subscription_id, subscription_currency_id, mrr
                      FROM subscription_mrr_snapshot
                     WHERE company_id = %(company)s AND month = %(month)s
                ),
                joined AS (
                    SELECT COALESCE(s.subscription_currency_id, r.currency_id)
                               <> %(currency)s AS foreign_currency,
                           s.subscription_id IS NOT NULL AS snapped,
                           COALESCE(s.mrr, 0) AS mrr, r.amount
                      FROM rec r
                      FULL JOIN snap s ON s.subscription_id = r.subscription_id
                )
                SELECT COUNT(*) FILTER (WHERE snapped),
                       COALESCE(SUM(mrr), 0),
                       COALESCE(SUM(-mrr) FILTER (
                           WHERE amount IS NULL AND NOT foreign_currency), 0),
                       COALESCE(SUM(amount) FILTER (
                           WHERE mrr = 0 AND NOT foreign_currency), 0),
                       COALESCE(SUM(amount - mrr) FILTER (
                           WHERE mrr <> 0 AND amount IS NOT NULL
                             AND NOT foreign_currency), 0),
                       COALESCE(SUM(COALESCE(amount, 0) - mrr) FILTER (
                           WHERE foreign_currency), 0)
                  FROM joined
                """,
                recognized=self._recognized_rows(start, end),
                company=self.company_id.id,
                month=start,
                currency=self.currency_id.id,
            )
        )
        return row

    # === COMPUTE === #

    @api.depends("month", "company_id")
    def _compute_books(self):
        for wizard in self:
            if wizard.company_id not in self.env.user.company_ids:
                raise UserError(
                    self.env._(
                        "You have no access to the company %(company)s.",
                        company=wizard.company_id.display_name,
                    )
                )
            wizard._compute_books_one()

    def _compute_books_one(self):
        self.env.flush_all()
        start, end = self._bounds()
        round_ = self.currency_id.round
        billed = self._billed_by_kind(start, end)
        recognized = self._recognized_by_kind(start, end)
        opening, deferred_in, recognized_out, closing = self._deferred_movements(
            start, end
        )
        (snapshots, mrr, not_recognized, without_mrr, timing, currency_effect) = (
            self._mrr_differences(start, end)
        )
        recognized_total = round_(sum(recognized.values()))
        explained = [
            (self.env._("MRR at month end (snapshots)"), mrr),
            (
                self.env._(
                    "MRR without a whole period recognised in the month "
                    "(prorated, billed in another month and recognised at "
                    "once, or not billed yet)"
                ),
                not_recognized,
            ),
            (
                self.env._(
                    "Recurring revenue without MRR at month end (ended in the "
                    "month, or no snapshot)"
                ),
                without_mrr,
            ),
            (
                self.env._(
                    "Recurring revenue above or below MRR (periods that are not "
                    "a calendar month, by-days recognition)"
                ),
                timing,
            ),
            (
                self.env._(
                    "Subscriptions in another currency (MRR at the month-end "
                    "rate, revenue at the invoice rate)"
                ),
                currency_effect,
            ),
            (
                self.env._("Proration and changes (not in MRR)"),
                recognized.get("proration", 0.0),
            ),
            (
                self.env._("Usage billed in arrears (not in MRR)"),
                recognized.get("usage", 0.0),
            ),
            (
                self.env._("One-time charges (not in MRR)"),
                recognized.get("one_time", 0.0),
            ),
            (self.env._("Other lines"), recognized.get("other", 0.0)),
        ]
        unexplained = round_(recognized_total - sum(amount for __, amount in explained))
        self.billed = round_(sum(billed.values()))
        self.recognized = recognized_total
        self.deferred_balance = round_(closing)
        self.mrr = round_(mrr)
        self.unexplained = unexplained
        self.snapshot_missing = not snapshots
        labels = self._kind_labels()
        money = lambda amount: formatLang(  # noqa: E731
            self.env, round_(amount), currency_obj=self.currency_id
        )
        section = lambda title: (  # noqa: E731
            f"— {title} —",
            "",
        )
        rows = [section(self.env._("Billed in the month (untaxed, by invoice date)"))]
        rows += [
            (labels[kind], money(billed.get(kind, 0.0)))
            for kind in KINDS
            if billed.get(kind)
        ]
        rows.append((self.env._("Billed"), money(self.billed)))
        rows.append(section(self.env._("Recognised in the month")))
        rows += [
            (labels[kind], money(recognized.get(kind, 0.0)))
            for kind in KINDS
            if recognized.get(kind)
        ]
        rows.append((self.env._("Recognised"), money(recognized_total)))
        rows.append(section(self.env._("Deferred revenue (general ledger)")))
        rows += [
            (self.env._("Balance at month start"), money(opening)),
            (
                self.env._("Deferred in (invoices and credit notes)"),
                money(deferred_in),
            ),
            (
                self.env._("Recognised out (recognition entries)"),
                money(-recognized_out),
            ),
            (self.env._("Balance at month end"), money(closing)),
            (
                self.env._("Billed − recognised − deferred movement"),
                money(self.billed - recognized_total - (closing - opening)),
            ),
        ]
        rows.append(section(self.env._("From MRR to recognised revenue")))
        rows += [(label, money(amount)) for label, amount in explained]
        rows.append((self.env._("Recognised"), money(recognized_total)))
        rows.append((self.env._("Unexplained"), money(unexplained)))
        self.books_html = html_table([self.env._("Row"), self.env._("Amount")], rows)

    def _kind_labels(self):
        return {
            "recurring": self.env._("Recurring (whole periods)"),
            "proration": self.env._("Proration and changes"),
            "discount": self.env._("Discounts"),
            "usage": self.env._("Usage"),
            "one_time": self.env._("One-time charges"),
            "other": self.env._("Other lines"),
        }
