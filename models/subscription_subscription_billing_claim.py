# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The claims of a billing run: which subscriptions are due, claimed in
bounded batches with ``FOR UPDATE SKIP LOCKED`` (see ``tools.claim_ids``), so
that several workers share one run and none bills a subscription twice."""

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..const import BILLABLE_STATES
from ..tools import (
    claim_ids,
    claimed_batches,
)


class SubscriptionSubscription(models.Model):
    _inherit = "subscription.subscription"

    # ------------------------------------------------------------------
    # Claims
    # ------------------------------------------------------------------

    @api.model
    def _generate_due_invoices(
        self, up_to, batch_size=200, commit=False, company_ids=None
    ):
        """Invoice every period due on or before ``up_to``; return the moves.

        With ``commit``, each batch is committed through ``_commit_progress``
        (scheduled action); without, everything stays in the caller's
        transaction (the API, the wizard). ``company_ids``: only these
        companies' (default: every company).
        """
        up_to = fields.Date.to_date(up_to)
        moves = []
        skipped = []
        if commit:
            # Nothing pending before a claim that may restart the transaction.
            self.env["ir.cron"]._commit_progress(0)
        for subs in claimed_batches(
            self.env,
            lambda retry: self._claim_due(
                up_to, batch_size, skipped, commit=retry, company_ids=company_ids
            ),
            commit=commit,
            remaining=lambda: self._count_due(up_to, skipped, company_ids),
        ):
            result = subs._bill_due_periods(up_to, isolate=True)
            moves.extend(result.moves.ids)
            skipped.extend(result.failed.ids)
            # A subscription still due after its billing would be claimed again
            # and again: report it instead (never expected; a safety net).
            stuck = (subs - result.failed).filtered(
                lambda s: (
                    s.state in BILLABLE_STATES
                    and s.next_invoice_date
                    and s.next_invoice_date <= up_to
                )
            )
            if stuck:
                stuck._record_billing_error(
                    self.env._(
                        "Billing did not move past %(date)s; check the billed "
                        "periods of this subscription.",
                        date=up_to,
                    )
                )
                skipped.extend(stuck.ids)
        return self.env["account.move"].browse(moves)

    @api.model
    def _due_domain_sql(
        self, up_to, skipped, alias="subscription_subscription", company_ids=None
    ):
        """Subscriptions due by ``up_to``, except the ``skipped`` ids; of
        ``company_ids`` only, when given."""
        return SQL(
            "%(state)s IN %(states)s AND %(date)s <= %(up_to)s "
            "AND %(id)s != ALL(%(skip)s) "
            "AND (%(all_companies)s OR %(company)s = ANY(%(companies)s))",
            state=SQL.identifier(alias, "state"),
            states=BILLABLE_STATES,
            date=SQL.identifier(alias, "next_invoice_date"),
            up_to=up_to,
            id=SQL.identifier(alias, "id"),
            skip=list(skipped) or [0],
            all_companies=company_ids is None,
            company=SQL.identifier(alias, "company_id"),
            companies=list(company_ids or [0]),
        )

    @api.model
    def _count_due(self, up_to, skipped, company_ids=None):
        rows = self.env.execute_query(
            SQL(
                "SELECT COUNT(*) FROM subscription_subscription WHERE %s",
                self._due_domain_sql(up_to, skipped, company_ids=company_ids),
            )
        )
        return rows[0][0]

    @api.model
    def _claim_due(self, up_to, limit, skipped, commit=False, company_ids=None):
        """Lock and return up to ``limit`` due subscriptions no one else holds.

        The subscriptions of customers who want one consolidated invoice are
        claimed together, so their invoice gathers all of them.
        """
        subs = self.browse(
            claim_ids(
                self.env,
                SQL(
                    "SELECT id FROM subscription_subscription WHERE %s "
                    "ORDER BY next_invoice_date, partner_invoice_id, id",
                    self._due_domain_sql(up_to, skipped, company_ids=company_ids),
                ),
                limit=limit,
                commit=commit,
            )
        )
        consolidating = subs.partner_invoice_id.commercial_partner_id.filtered(
            "subscription_consolidate_invoices"
        )
        if consolidating:
            more = claim_ids(
                self.env,
                SQL(
                    """
                    SELECT s.id FROM subscription_subscription s
                      JOIN res_partner p ON p.id = s.partner_invoice_id
                     WHERE %s
                       AND COALESCE(p.commercial_partner_id, p.id) = ANY(%s)
                    """,
                    # Not the failed ones of this run either: they would fail again.
                    self._due_domain_sql(
                        up_to,
                        [*skipped, *subs.ids],
                        alias="s",
                        company_ids=company_ids,
                    ),
                    consolidating.ids,
                ),
                of="s",
                # Never retried in a new transaction: that would release the
                # subscriptions just claimed.
                commit=False,
            )
            subs |= self.browse(more)
        return subs

    def _lock_for_billing(self):
        """Lock these subscriptions, or explain that a billing run holds them."""
        if not self:
            return
        locked = claim_ids(
            self.env,
            SQL(
                "SELECT id FROM subscription_subscription WHERE id = ANY(%s)", self.ids
            ),
        )
        if len(locked) != len(self):
            raise UserError(
                self.env._(
                    "A billing run is invoicing some of these subscriptions right "
                    "now; try again in a minute."
                )
            )
