# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The billing of subscriptions: one run, from the claim to the posted invoice.

Every billing run goes through :meth:`_run_billing` (the scheduled action, the
API's ``action_generate_due_invoices`` and the wizard); the README's
"Development" section lists its steps in order. The preview
(:meth:`preview_next_invoice`) is a dry run of the same preparation: nothing
is claimed nor written.
"""

import logging
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, formatLang

from ..const import BILLABLE_STATES, INVOICE_CREATE_CONTEXT
from ..core import invoicing, periods
from ..core.periods import ARREARS
from ..tools import (
    BilledPeriod,
    BillingProgress,
    BillingResult,
    InvoiceGroup,
    exact_decimal,
    format_day,
    format_days,
)

_logger = logging.getLogger(__name__)


class SubscriptionSubscription(models.Model):
    _inherit = "subscription.subscription"

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------

    @api.model
    def _cron_generate_invoices(self, batch_size=200):
        """Scheduled action: the billing run of today, in committed batches.

        Safe to run on several workers at once: each batch claims its
        subscriptions (rows another worker holds are skipped), and the
        uniqueness of (subscription, period start) makes a second invoice
        impossible.
        """
        self._run_billing(
            fields.Date.context_today(self), batch_size=batch_size, commit=True
        )

    @api.model
    def action_generate_due_invoices(self, up_to=None):
        """Invoice every period due until ``up_to`` (default today); API entry point.

        Returns the ids of the invoices created. Subscriptions that fail keep
        the error on their record; the others are invoiced.
        """
        up_to = (
            self._clean_change_date("up_to", up_to)
            if up_to
            else fields.Date.context_today(self)
        )
        self.check_access("write")
        # Only the companies the user works in (the scheduled action bills
        # every company).
        return self._run_billing(up_to, company_ids=self.env.companies.ids).ids

    @api.model
    def _run_billing(self, up_to, batch_size=200, commit=False, company_ids=None):
        """The billing run up to ``up_to``; returns the invoices created.

        The one entry point of the scheduled action, the API and the wizard
        (``subscription.invoice.wizard``), so all three bill the same way:
        trials (reminders, conversions, expiries) and renewal reminders first,
        then the scheduled changes due (a change effective before a period
        shapes its invoice), the invoices, and the closing of what ended.
        With ``commit``, each batch is committed (scheduled action);
        ``company_ids``: only these companies' changes and invoices (default:
        every company).

        The wizard goes through ``action_generate_due_invoices`` (the API:
        its access check, the user's companies) by decision: it used to call
        :meth:`_generate_due_invoices` alone, so a change scheduled before
        its date was invoiced on the old terms and an unconfirmed trial that
        had ended failed instead of expiring.
        """
        self._process_trials(up_to)
        self._process_renewal_reminders(up_to)
        self.env["subscription.change"]._apply_due(
            up_to, batch_size=batch_size, commit=commit, company_ids=company_ids
        )
        moves = self._generate_due_invoices(
            up_to, batch_size=batch_size, commit=commit, company_ids=company_ids
        )
        self._close_ended()
        return moves

    def action_invoice_now(self):
        """Invoice every period due today (catching up missed ones)."""
        self.check_access("write")
        self._lock_for_billing()
        today = fields.Date.context_today(self)
        self.env["subscription.change"]._apply_due(today, subscriptions=self)
        not_due = self.filtered(
            lambda s: (
                s.state not in BILLABLE_STATES
                or not s.next_invoice_date
                or s.next_invoice_date > today
            )
        )
        if len(not_due) == 1 and not_due.next_invoice_date:
            raise UserError(
                self.env._(
                    "Nothing is due today on %(sub)s: its next invoice is on %(date)s.",
                    sub=not_due.display_name,
                    date=format_day(self.env, not_due.next_invoice_date),
                )
            )
        if not_due:
            raise UserError(
                self.env._(
                    "Nothing is due today on %(subs)s: the next invoice of a "
                    "subscription is on its next invoice date.",
                    subs=", ".join(not_due.mapped("display_name")),
                )
            )
        result = self._bill_due_periods(today, isolate=False)
        return self._invoice_now_notification(result.moves)

    def _invoice_now_notification(self, moves):
        """What *Invoice now* did: the invoices created (opened with the
        notification's button), or when the next invoice falls."""
        if moves:
            message = self.env._(
                "%(count)s invoice created: %(names)s",
                count=len(moves),
                names=", ".join(moves.mapped("display_name")),
            )
            if len(moves) > 1:
                message = self.env._(
                    "%(count)s invoices created: %(names)s",
                    count=len(moves),
                    names=", ".join(moves.mapped("display_name")),
                )
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "success",
                    "title": self.env._("Invoiced"),
                    "message": message,
                    "next": self._action_view_moves(moves),
                },
            }
        dates = [
            format_day(self.env, sub.next_invoice_date)
            for sub in self
            if sub.next_invoice_date
        ]
        message = (
            self.env._("Nothing to invoice: next invoice on %(date)s.", date=dates[0])
            if len(dates) == 1
            else self.env._("Nothing to invoice.")
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "title": self.env._("Nothing to invoice"),
                "message": message,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # ------------------------------------------------------------------
    # After invoicing: closing what ended
    # ------------------------------------------------------------------

    @api.model
    def _close_ended(self):
        """Close subscriptions whose end date has passed and that are fully billed."""
        today = fields.Date.context_today(self)
        ended = self.search(
            [
                ("state", "in", ("trial", "active", "paused")),
                ("date_end", "<", today),
                ("next_invoice_date", "=", False),
            ]
        )
        ended = ended.filtered(lambda s: not s._renews())
        if not ended:
            return
        reason = self.env.ref("subscription_billing.close_reason_term_ended")
        without_reason = ended.filtered(lambda s: not s.close_reason_id)
        without_reason._as_engine().close_reason_id = reason
        ended._end_lines()
        ended._as_engine().state = "closed"

    # ------------------------------------------------------------------
    # Preparation
    # ------------------------------------------------------------------

    def _bill_due_periods(self, up_to, isolate=True):
        """Invoice the due periods of these (locked) subscriptions.

        Everything is prepared first, then written in one batch: periods,
        invoices, subscription dates. When the batch fails, each invoice group
        is retried alone in a savepoint, so one bad subscription is rolled back
        alone and gets the error on its record (``isolate``); otherwise the
        error is raised.
        """
        groups, failed, progress = self._prepare_billing(up_to, isolate)
        moves = self.env["account.move"]
        if groups:
            try:
                with self.env.cr.savepoint():
                    moves = self._write_billing(groups)
            except Exception as error:
                if not isolate:
                    raise
                _logger.info("Billing batch failed (%s); retrying one by one", error)
                moves = self.env["account.move"]
                for group in groups:
                    try:
                        with self.env.cr.savepoint():
                            moves |= self._write_billing([group])
                    except Exception as group_error:  # noqa: BLE001
                        failed |= group.subscriptions._record_billing_error(group_error)
        billed = self - failed
        billed._advance_billing(
            {sub: values for sub, values in progress.items() if sub in billed}
        )
        billed.filtered("billing_error").billing_error = False
        return BillingResult(moves, failed)

    def _check_billable(self):
        """Raise a UserError naming what prevents invoicing this subscription."""
        self.ensure_one()
        if (
            self.state == "trial"
            and self.plan_id.trial_conversion == "manual"
            and not self.trial_converted
            and self.trial_end_date < fields.Date.context_today(self)
        ):
            raise UserError(
                self.env._(
                    "Subscription %(sub)s: its trial ended on %(date)s without "
                    "confirmation. Confirm the trial to bill it.",
                    sub=self.display_name,
                    date=self.trial_end_date,
                )
            )
        if not self.line_ids:
            raise UserError(
                self.env._(
                    "Subscription %(sub)s has no lines to invoice: add at least one "
                    "line (or add lines to its plan %(plan)s before creating "
                    "subscriptions on it).",
                    sub=self.display_name,
                    plan=self.plan_id.display_name,
                )
            )
        for line in self.line_ids:
            product = line.product_id.with_company(self.company_id)
            if not product._get_product_accounts()["income"]:
                raise UserError(
                    self.env._(
                        "Subscription %(sub)s: the product %(product)s has no "
                        "income account. Set one on the product or its category "
                        "(Accounting tab), or a default income account on the "
                        "company.",
                        sub=self.display_name,
                        product=product.display_name,
                    )
                )

    def _prepare_billing(self, up_to, isolate):
        """Invoice groups for the due periods: ``(groups, failed, progress)``.

        A group (:class:`InvoiceGroup`) is one invoice: its service periods,
        its usage periods (usage is due the day after its period ends, on the
        invoice of that date) and its lines. ``progress`` maps each
        subscription to its :class:`BillingProgress`.
        """
        existing = self._billed_period_starts()
        progress = {}
        groups = {}
        failed = self.browse()
        journals = {}

        def group_for(sub, invoice_date, journal):
            key = sub._invoice_grouping_key(invoice_date, journal)
            group = groups.get(key)
            if group is None:
                group = groups[key] = InvoiceGroup(
                    self.browse(), sub._prepare_invoice_vals(invoice_date, journal)
                )
            return group

        for sub in self:
            try:
                sub._check_billable()
                renewed_end = sub._renewed_end(up_to)
                schedule = sub._get_schedule(end=renewed_end)
                if not schedule:
                    continue
                journal = journals.get(sub.plan_id.id)
                if journal is None:
                    journal = journals[sub.plan_id.id] = sub.plan_id._get_sale_journal()
                state = BillingProgress(renewed_end)
                # Service periods on the plan's timing; usage always in arrears.
                streams = [
                    ("service", sub.plan_id.billing_timing, sub._next_unbilled_day())
                ]
                if sub.has_usage:
                    streams.append(("usage", ARREARS, sub._next_usage_day()))
                for kind, timing, since in streams:
                    for period in schedule.due_periods(timing, up_to, since, clip=True):
                        progress[sub] = state
                        if kind == "service":
                            state.until = period.end
                        else:
                            state.usage_until = period.end
                        if (sub.id, kind, period.start) in existing:
                            continue
                        group = group_for(sub, period.due_date(timing), journal)
                        group.subscriptions |= sub
                        if kind == "usage":
                            group.usage_periods.append(BilledPeriod(sub, period))
                            continue
                        group.periods.append(BilledPeriod(sub, period))
                        group.add_lines(sub._prepare_service_line_vals(period))
            except (UserError, ValidationError, periods.PeriodError) as error:
                if not isolate:
                    raise
                failed |= sub._record_billing_error(error)
        failed |= self._rate_usage_periods(
            [group for group in groups.values() if group.usage_periods], isolate
        )
        # Drop the groups of failed subscriptions (a consolidated invoice is
        # written whole or not at all).
        for group in groups.values():
            if group.subscriptions & failed:
                failed |= group.subscriptions
        groups = [
            group for group in groups.values() if not group.subscriptions & failed
        ]
        self._add_pending_changes(groups)
        return groups, failed, progress

    def _billed_period_starts(self):
        """(subscription, kind, start) billed after the billed-until days."""
        if not self:
            return set()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT p.subscription_id, p.kind, p.period_start
                  FROM subscription_period p
                  JOIN subscription_subscription s ON s.id = p.subscription_id
                 WHERE s.id = ANY(%s)
                   AND CASE WHEN p.kind = 'usage'
                            THEN s.usage_invoiced_until IS NULL
                                 OR p.period_start > s.usage_invoiced_until
                            ELSE s.invoiced_until IS NULL
                                 OR p.period_start > s.invoiced_until
                       END
                """,
                self.ids,
            )
        )
        return {(sub_id, kind, start) for sub_id, kind, start in rows}

    def _get_invoice_grouping_keys(self):
        """The fields of a subscription that split the consolidated invoice of
        a customer (who consolidates its invoices): subscriptions that differ
        in one of them are invoiced apart. The invoice date, the sale journal
        and the plan's invoice policy always split (one invoice has one date,
        one journal, and is posted or not as a whole). Override to add
        fields."""
        return [
            "company_id",
            "partner_invoice_id",
            "currency_id",
            "payment_term_id",
            "fiscal_position_id",
        ]

    def _invoice_grouping_key(self, invoice_date, journal):
        """The invoice this subscription's period of ``invoice_date`` goes on:
        its own, or its customer's consolidated one
        (:meth:`_get_invoice_grouping_keys`)."""
        self.ensure_one()
        customer = self.partner_invoice_id.commercial_partner_id
        if not customer.subscription_consolidate_invoices:
            return ("single", self.id, invoice_date)
        values = []
        for name in self._get_invoice_grouping_keys():
            value = self[name]
            values.append(value.id if isinstance(value, models.BaseModel) else value)
        return (
            "consolidated",
            invoice_date,
            journal.id,
            self.plan_id.invoice_policy,
            *values,
        )

    def _prepare_invoice_vals(self, invoice_date, journal):
        self.ensure_one()
        vals = {
            "move_type": "out_invoice",
            "partner_id": self.partner_invoice_id.id,
            "company_id": self.company_id.id,
            "currency_id": self.currency_id.id,
            "journal_id": journal.id,
            "invoice_date": invoice_date,
            "invoice_payment_term_id": self.payment_term_id.id,
            "fiscal_position_id": self.fiscal_position_id.id,
            "invoice_user_id": self.user_id.id,
            "invoice_origin": self.name,
            "invoice_line_ids": [],
        }
        if not self.payment_term_id:
            # Due on the invoice date (Odoo would take today: a catch-up
            # invoice of March would fall due in June).
            vals["invoice_date_due"] = invoice_date
        return vals

    def _prepare_service_line_vals(self, period):
        """Invoice line values of a service ``period``: one per recurring line
        billed in it (:meth:`subscription.line._prepare_invoice_line_vals`)."""
        self.ensure_one()
        vals_list = []
        for line in self.line_ids.filtered(lambda line: line.line_type == "fixed"):
            vals = line._prepare_invoice_line_vals(period)
            if vals:
                vals_list.append(vals)
        return vals_list

    def _add_pending_changes(self, groups):
        """Prorated amounts left for the next invoice go on each subscription's
        first invoice of this run."""
        pending = self.env["subscription.change"].search(
            [("subscription_id", "in", self.ids), ("proration_state", "=", "pending")],
            order="effective_date, id",
        )
        if not pending:
            return
        first_group = {}
        for group in sorted(groups, key=lambda g: g.invoice_date):
            for sub in group.subscriptions:
                first_group.setdefault(sub, group)
        for change in pending:
            group = first_group.get(change.subscription_id)
            if group is None:
                continue
            group.changes.append(change)
            group.add_lines(
                [change._move_line_vals(line) for line in change.proration_lines]
            )

    def _rate_usage_periods(self, groups, isolate):
        """Rate the usage periods of ``groups``; add their lines; return failures.

        ``subscription.usage.charge`` rates (see its ``_rate_items``); usage
        that arrived after its period was invoiced (late) is rated again with
        the first usage period billed now.
        """
        failed = self.browse()
        if not groups:
            return failed
        Charge = self.env["subscription.usage.charge"]
        items = Charge._usage_items(
            self,
            [
                (group, billed.subscription, billed.period)
                for group in groups
                for billed in group.usage_periods
            ],
        )
        rated, failed = Charge._rate_items(self, items, isolate)
        self._add_usage_lines(groups, rated, failed)
        return failed

    def _add_usage_lines(self, groups, rated, failed):
        """Add the rated usage (and true-up) lines to the invoices (``rated``:
        the ``tools.RatedUsage`` of each usage period, see
        ``tools.UsageItem.key``)."""
        Charge = self.env["subscription.usage.charge"]
        for group in groups:
            for sub, period in group.usage_periods:
                if sub in failed:
                    continue
                charges = rated.get((id(group), sub, period.start), [])
                group.charges += charges
                group.add_lines([charge.line_vals for charge in charges])
                true_up = Charge._prepare_true_up_line_vals(sub, period, charges)
                if true_up:
                    group.add_lines([true_up])

    # ------------------------------------------------------------------
    # Writing
    # ------------------------------------------------------------------

    def _write_billing(self, groups):
        """Create the invoices, period rows and rated usage of ``groups``.

        Returns the moves. A group without any line (the first period of a
        usage-only plan billed in advance) records its periods without an
        invoice, as does a group with nothing due on plans that skip 0.00
        invoices (:meth:`_is_nothing_due`; its periods say why, its rated
        usage is stored without an invoice line). The usage events rated are
        marked with their charge, in one statement, so no event is ever rated
        twice.
        """
        zero = [
            group for group in groups if group.has_lines and self._is_nothing_due(group)
        ]
        invoiced = [group for group in groups if group.has_lines and group not in zero]
        moves = (
            self.env["account.move"]
            .with_context(**INVOICE_CREATE_CONTEXT)
            .create([group.move_vals for group in invoiced])
        )
        move_of = {id(group): move for group, move in zip(invoiced, moves, strict=True)}
        period_vals = []
        for group in groups:
            move = move_of.get(id(group))
            for kind, billed_periods in (
                ("service", group.periods),
                ("usage", group.usage_periods),
            ):
                for sub, period in billed_periods:
                    period_vals.append(
                        {
                            "subscription_id": sub.id,
                            "kind": kind,
                            "period_start": period.start,
                            "period_end": period.end,
                            "invoice_date": group.invoice_date,
                            "billed_days": period.days,
                            "period_days": period.full_days,
                            "invoice_id": move.id if move else False,
                            "no_invoice_reason": "zero" if group in zero else False,
                        }
                    )
        # Billed periods are written by the billing process only.
        period_rows = self.env["subscription.period"].sudo().create(period_vals)
        self._write_usage_charges(groups, move_of, period_rows)
        for group in groups:
            if group.changes and id(group) in move_of:
                changes = self.env["subscription.change"].union(*group.changes)
                changes.move_id = move_of[id(group)]
        if moves:
            self._finalize_moves(
                moves,
                [group.subscriptions[:1].plan_id.invoice_policy for group in invoiced],
            )
            self._log_billing(invoiced, move_of)
        if zero:
            self._log_nothing_due(zero)
        return moves

    def _is_nothing_due(self, group):
        """Whether ``group`` is billed without an invoice: every plan on it
        skips 0.00 invoices and every line comes to 0.00 (exactly, as
        ``core.invoicing.nothing_due`` rounds it), so the whole invoice is
        0.00 (a consolidated one too). Lines that an invoice line records
        (one-time lines, one-off charges, order lines, prorated changes) are
        always invoiced."""
        plans = group.subscriptions.plan_id
        if group.changes or not all(plans.mapped("skip_zero_invoices")):
            return False
        lines = [command[2] for command in group.move_vals["invoice_line_ids"]]
        if any(
            vals.get("subscription_charge_id")
            or vals.get("sale_line_ids")
            or vals.get("display_type")
            or (
                vals.get("subscription_line_id")
                and not vals.get("subscription_period_start")
            )
            for vals in lines
        ):
            return False
        currency = group.subscriptions[:1].currency_id
        return invoicing.nothing_due(
            (
                (
                    exact_decimal(vals.get("quantity", 1.0)),
                    exact_decimal(vals.get("price_unit")),
                    exact_decimal(vals.get("discount")),
                )
                for vals in lines
            ),
            repr(currency.rounding),
        )

    def _log_nothing_due(self, groups):
        """Say on each subscription billed with nothing due that no invoice
        was issued (one batched log)."""
        bodies = defaultdict(list)
        for group in groups:
            for kind, billed_periods in (
                ("service", group.periods),
                ("usage", group.usage_periods),
            ):
                for sub, period in billed_periods:
                    values = {
                        "period": format_days(self.env, period.start, period.end),
                        "amount": formatLang(
                            self.env, 0.0, currency_obj=sub.currency_id
                        ),
                    }
                    bodies[sub.id].append(
                        self.env._(
                            "Period %(period)s billed: nothing due (%(amount)s), "
                            "no invoice issued.",
                            **values,
                        )
                        if kind == "service"
                        else self.env._(
                            "Usage of %(period)s billed: nothing due "
                            "(%(amount)s), no invoice issued.",
                            **values,
                        )
                    )
        self.browse(bodies)._message_log_batch(
            bodies={
                sub_id: Markup("<br/>").join(texts) for sub_id, texts in bodies.items()
            }
        )

    def _log_billing(self, groups, move_of):
        """Say in the chatter where each invoice comes from, and log it on its
        subscriptions (link, amount, periods): two batched logs, whatever the
        number of invoices (no message per record, no notification)."""
        move_bodies = {}
        sub_bodies = defaultdict(list)
        for group in groups:
            move = move_of[id(group)]
            parts = defaultdict(list)
            for sub, period in group.periods:
                parts[sub].append(
                    self.env._(
                        "the period %(period)s",
                        period=format_days(self.env, period.start, period.end),
                    )
                )
            for sub, period in group.usage_periods:
                parts[sub].append(
                    self.env._(
                        "the usage of %(period)s",
                        period=format_days(self.env, period.start, period.end),
                    )
                )
            lines = move.invoice_line_ids
            sources = []
            for sub in group.subscriptions:
                periods_text = ", ".join(parts[sub])
                sources.append(
                    self.env._(
                        "Created by the billing of %(subscription)s for %(periods)s.",
                        subscription=sub._get_html_link(title=sub.name),
                        periods=periods_text,
                    )
                )
                own = lines.filtered(lambda line, s=sub: line.subscription_id == s)
                amount = (
                    move.amount_total
                    if len(group.subscriptions) == 1
                    else sum(own.mapped("price_total"))
                )
                sub_bodies[sub.id].append(
                    self.env._(
                        "Invoice %(invoice)s created: %(amount)s for %(periods)s.",
                        invoice=move._get_html_link(),
                        amount=formatLang(
                            self.env, amount, currency_obj=move.currency_id
                        ),
                        periods=periods_text,
                    )
                )
            move_bodies[move.id] = Markup("<br/>").join(sources)
        moves = self.env["account.move"].browse(move_bodies)
        moves._message_log_batch(bodies=move_bodies)
        subs = self.browse(sub_bodies)
        subs._message_log_batch(
            bodies={
                sub_id: Markup("<br/>").join(bodies)
                for sub_id, bodies in sub_bodies.items()
            }
        )

    def _write_usage_charges(self, groups, move_of, period_rows):
        """Store the rated usage with its billed period and invoice line."""
        if not any(group.charges for group in groups):
            return
        period_id = {
            (row.subscription_id.id, row.period_start): row.id
            for row in period_rows
            if row.kind == "usage"
        }
        charge_vals = []
        for group in groups:
            move = move_of.get(id(group))
            lines = (
                {
                    (
                        line.subscription_line_id.id,
                        line.subscription_period_start,
                    ): line.id
                    for line in move.invoice_line_ids
                }
                if move
                else {}
            )
            for charge in group.charges:
                vals = charge.charge_vals
                vals["period_id"] = period_id[
                    (vals["subscription_id"], charge.period.start)
                ]
                vals["invoice_line_id"] = lines.get(
                    (vals["subscription_line_id"], vals["usage_start"])
                )
                charge_vals.append(vals)
        self.env["subscription.usage.charge"]._create_rated(charge_vals)

    def _finalize_moves(self, moves, policies):
        """Post (and send) new documents as their plans ask (``policies``:
        each move's plan ``invoice_policy``)."""
        to_post = self.env["account.move"]
        to_send = self.env["account.move"]
        for move, policy in zip(moves, policies, strict=True):
            if policy in ("post", "send"):
                to_post |= move
            if policy == "send":
                to_send |= move
        if to_post:
            to_post.action_post()
        # Paid in full by prepaid credit: sent only if the plans say so.
        to_send = to_send.filtered(
            lambda m: (
                not m.currency_id.is_zero(m.amount_residual)
                or not m.subscription_wallet_transaction_ids
                or all(m.subscription_ids.plan_id.mapped("send_covered_invoices"))
            )
        )
        if to_send:
            to_send.sending_data = {
                "author_user_id": self.env.user.id,
                "author_partner_id": self.env.user.partner_id.id,
                # Sent by our scheduled action, not Odoo's (see
                # account_move_subscription_send.py).
                "subscription_billing": True,
            }
            cron = self.env.ref("subscription_billing.ir_cron_send_invoices", False)
            if cron:
                cron.sudo()._trigger()

    def _record_billing_error(self, error):
        """Keep the error on the subscriptions: message, activity, field."""
        message = str(error)
        activity_type = self.env.ref(
            "subscription_billing.mail_activity_type_billing_error"
        )
        for sub in self:
            sub.billing_error = message
            sub.message_post(
                body=self.env._("Billing failed: %(error)s", error=message),
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
            if not sub.activity_ids.filtered(
                lambda a, t=activity_type: a.activity_type_id == t
            ):
                sub.activity_schedule(
                    activity_type_id=activity_type.id,
                    note=message,
                    user_id=sub.user_id.id or self.env.uid,
                )
        return self

    # ------------------------------------------------------------------
    # Advancing dates
    # ------------------------------------------------------------------

    def _advance_billing(self, progress):
        """Move billed subscriptions past the periods now covered
        (``progress``: their :class:`BillingProgress`).

        Writes are grouped by value (one UPDATE per distinct date), renewals
        are recorded, trials that reached billing become active.
        """
        by_date = defaultdict(lambda: self.browse())
        by_usage_date = defaultdict(lambda: self.browse())
        for sub, state in progress.items():
            renewed_end = state.renewed_end
            if renewed_end and renewed_end != sub.date_end:
                sub._as_engine().date_end = renewed_end
                sub.message_post(
                    body=self.env._(
                        "Term renewed until %(end)s.",
                        end=format_day(self.env, renewed_end),
                    )
                )
            until = state.until
            if until and (not sub.invoiced_until or until > sub.invoiced_until):
                by_date[until] |= sub
            usage_until = state.usage_until
            if usage_until and (
                not sub.usage_invoiced_until or usage_until > sub.usage_invoiced_until
            ):
                by_usage_date[usage_until] |= sub
        for until, subs in by_date.items():
            subs._as_engine().invoiced_until = until
        for until, subs in by_usage_date.items():
            subs._as_engine().usage_invoiced_until = until
        touched = self.browse([sub.id for sub in progress])
        touched.filtered(lambda s: s.state == "trial")._activate_after_trial()
        touched._update_next_invoice_date()

    def _renewed_end(self, up_to):
        """End date after renewing a fixed term that ends before ``up_to``.

        ``None`` when nothing renews: open-ended plans, terms that do not
        renew, subscriptions being closed.
        """
        self.ensure_one()
        plan = self.plan_id
        if not self._renews():
            return None
        end = self.date_end
        if not end or end >= up_to:
            return None
        while end < up_to:
            end = periods.add_interval(
                end + timedelta(days=1), plan.term_interval, plan.term_unit
            ) - timedelta(days=1)
        return end
