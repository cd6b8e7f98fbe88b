# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL
from odoo.tools.misc import format_amount, format_date, formatLang

from ..core.periods import quantize
from ..core.rating.base import to_decimal
from ..models.subscription_mrr_movement_mixin import MOVEMENT_FIELDS


class SubscriptionKpiDashboard(models.TransientModel):
    """Subscription analytics over a date range, from the monthly snapshots.

    Every figure is an aggregate of ``subscription.mrr.snapshot`` rows
    (``_read_group`` and SQL over the filtered rows), month by month; nothing
    loops over subscriptions in Python.

    * MRR and ARR (company currency, month-end rate), usage shown apart;
      active subscriptions and customers, ARPU = MRR ÷ active customers.
    * Movements: starting MRR + new + expansion + contraction + churn +
      reactivation + currency effect = ending MRR (the *Check* column is 0).
    * Logo churn = customers active at the start of the month and not at its
      end ÷ customers active at its start (a customer is active with some MRR,
      or with a subscription paused without billing); revenue churn =
      −(churn + contraction) ÷ starting MRR (a pause without billing is a
      contraction, its resume an expansion).
    * Over the range: NRR = ending MRR of the customers active at its start ÷
      their starting MRR; GRR the same with each customer's MRR capped at its
      start; LTV = average ARPU ÷ average monthly revenue churn.
    * Trial conversion: trials ended in the month that went on to billing ÷
      trials ended; dunning recovery: recovered ÷ failed, by failure month.
    """

    _name = "subscription.kpi.dashboard"
    _description = "Subscription Analytics"

    date_from = fields.Date(
        string="From",
        required=True,
        default=lambda self: (
            fields.Date.context_today(self).replace(day=1) - relativedelta(months=12)
        ),
    )
    date_to = fields.Date(
        string="To",
        required=True,
        default=lambda self: (
            fields.Date.context_today(self).replace(day=1) - relativedelta(days=1)
        ),
    )
    company_ids = fields.Many2many("res.company", string="Companies")
    plan_ids = fields.Many2many("subscription.plan", string="Plans")
    product_ids = fields.Many2many("product.product", string="Products")
    user_ids = fields.Many2many("res.users", string="Salespersons")
    country_ids = fields.Many2many("res.country", string="Customer Countries")
    category_ids = fields.Many2many("res.partner.category", string="Customer Tags")
    currency_id = fields.Many2one(
        "res.currency", default=lambda self: self.env.company.currency_id
    )
    line_ids = fields.One2many(
        "subscription.kpi.dashboard.line", "dashboard_id", readonly=True
    )
    mrr = fields.Monetary(string="MRR", readonly=True)
    arr = fields.Monetary(string="ARR", readonly=True)
    usage_amount = fields.Monetary(string="Usage MRR", readonly=True)
    active_subscriptions = fields.Integer(readonly=True)
    active_customers = fields.Integer(readonly=True)
    arpu = fields.Monetary(string="ARPU", readonly=True)
    nrr = fields.Float(string="NRR (%)", digits=(16, 2), readonly=True)
    grr = fields.Float(string="GRR (%)", digits=(16, 2), readonly=True)
    logo_churn = fields.Float(
        string="Logo Churn (%/month)", digits=(16, 2), readonly=True
    )
    revenue_churn = fields.Float(
        string="Revenue Churn (%/month)", digits=(16, 2), readonly=True
    )
    ltv = fields.Monetary(string="Lifetime Value", readonly=True)
    trial_conversion = fields.Float(
        string="Trial Conversion (%)", digits=(16, 2), readonly=True
    )
    recovery = fields.Float(
        string="Dunning Recovery (%)", digits=(16, 2), readonly=True
    )

    @api.model
    def get_dashboard_data(self, months=12, filters=None):
        """The figures of the dashboard (client action
        ``subscription_billing.kpi_dashboard``): the last ``months`` closed
        months, optionally filtered (``{"plan_ids": [id], "user_ids": ...}``,
        the fields of the filters). Each KPI has its value and its text; a
        KPI without a base has ``None`` for both (shown *not available*)."""
        if not self.env.user.has_group("subscription_billing.group_subscription_user"):
            raise AccessError(
                self.env._(
                    "Only subscription users can see the subscription analytics."
                )
            )
        months, filters = self._check_dashboard_args(months, filters)
        today = fields.Date.context_today(self)
        choices = self._filter_choices()
        chosen = {}
        for name, records in choices.items():
            wanted = set(filters.get(name) or ())
            chosen[name] = records.filtered(lambda r, w=wanted: r.id in w)
        all_labels = self._filter_all_labels()
        dashboard = self.new(
            {
                "date_from": today.replace(day=1) - relativedelta(months=months),
                "date_to": today.replace(day=1) - relativedelta(days=1),
                **{name: [Command.set(recs.ids)] for name, recs in chosen.items()},
            }
        )
        figures = dashboard._figures()
        currency = dashboard.currency_id
        lines = figures.pop("lines")

        def amount(value):
            return None if value is None else format_amount(self.env, value, currency)

        def pct(value):
            return None if value is None else f"{formatLang(self.env, value)} %"

        def count(value):
            return formatLang(self.env, value, digits=0)

        kpis = self._dashboard_kpis(amount, pct, count)
        stale = self.env["subscription.mrr.snapshot"]._stale_month(self.env.company)
        return {
            "months": months,
            "filters": [
                {
                    "name": name,
                    "label": self._fields[name].get_description(self.env)["string"],
                    "all": all_labels[name],
                    "selected": chosen[name].ids,
                    "choices": [
                        {"id": record.id, "name": record.display_name}
                        for record in records.sorted(lambda r: r.display_name or "")
                    ],
                }
                for name, records in choices.items()
                if records
            ],
            "period": self.env._(
                "%(start)s to %(end)s",
                start=format_date(self.env, dashboard.date_from, date_format="MMMM y"),
                end=format_date(self.env, dashboard.date_to, date_format="MMMM y"),
            ),
            "has_data": bool(lines),
            "stale": self.env._(
                "Changes dated in the past reach back to %(month)s: the snapshots "
                "of that month and after are taken again at the next run of the "
                "snapshot action.",
                month=format_date(self.env, stale, date_format="MMMM y"),
            )
            if stale
            else False,
            "kpis": [
                {
                    "key": key,
                    "label": label,
                    "value": figures[key],
                    "display": formatter(figures[key]),
                    "help": help_text,
                    "unavailable": unavailable,
                }
                for key, label, formatter, help_text, unavailable in kpis
            ],
            "lines": [
                {
                    "label": line["month_label"],
                    "short": format_date(self.env, line["month"], date_format="MMM y"),
                    **{
                        name: line[name]
                        for name in ("starting_mrr", *MOVEMENT_FIELDS, "mrr")
                    },
                    "display": {
                        **{
                            name: amount(line[name])
                            for name in ("starting_mrr", *MOVEMENT_FIELDS, "mrr")
                        },
                        "logo_churn": pct(line["logo_churn"]),
                        "revenue_churn": pct(line["revenue_churn"]),
                    },
                }
                for line in lines
            ],
        }

    @api.model
    @api.model
    def _check_dashboard_args(self, months, filters):
        """``months`` a whole number from 1 to 60 (12 when not given), and
        ``filters`` ``{filter field: [record id, ...]}``: a clear error for
        anything else (a string, a float, NaN, a list instead of a dict)."""
        if months in (None, False):
            months = 12
        if isinstance(months, bool) or not isinstance(months, int):
            raise UserError(self.env._("months must be a whole number from 1 to 60."))
        if filters in (None, False):
            filters = {}
        if not isinstance(filters, dict):
            raise UserError(
                self.env._("filters must be an object of record id lists, by filter.")
            )
        known = self._filter_all_labels()
        for name, ids in filters.items():
            if name not in known:
                raise UserError(
                    self.env._("Unknown dashboard filter: %(name)s.", name=name)
                )
            if ids is None or ids is False:
                continue
            if not isinstance(ids, list) or any(
                isinstance(i, bool) or not isinstance(i, int) for i in ids
            ):
                raise UserError(
                    self.env._(
                        "The filter %(name)s takes a list of record ids.",
                        name=name,
                    )
                )
        return min(max(months, 1), 60), filters

    def _dashboard_kpis(self, amount, pct, count):
        """The cards of the dashboard: ``(field, label, formatter,
        explanation, why it may be not available)``."""

        def kpi(*parts):
            # A named call, not a bare tuple: the translation extractor
            # takes a tuple's first string after a translated one for a term.
            return parts

        return [
            kpi(
                "mrr",
                self.env._("MRR"),
                amount,
                self.env._("Monthly recurring revenue, at month end."),
                "",
            ),
            kpi(
                "arr",
                self.env._("ARR"),
                amount,
                self.env._("Annual recurring revenue: MRR × 12."),
                "",
            ),
            kpi(
                "active_subscriptions",
                self.env._("Active Subscriptions"),
                count,
                self.env._("Subscriptions with some MRR at month end."),
                "",
            ),
            kpi(
                "active_customers",
                self.env._("Active Customers"),
                count,
                self.env._("Customers with an active or paused subscription."),
                "",
            ),
            kpi(
                "arpu",
                self.env._("ARPA"),
                amount,
                self.env._("Average revenue per account: MRR ÷ active customers."),
                self.env._("No active customer."),
            ),
            kpi(
                "nrr",
                self.env._("NRR"),
                pct,
                self.env._(
                    "Net revenue retention: MRR at the end of the period of the "
                    "customers active at its start ÷ their MRR then."
                ),
                self.env._("No customer with MRR at the start of the period."),
            ),
            kpi(
                "grr",
                self.env._("GRR"),
                pct,
                self.env._("Gross revenue retention: as NRR, expansion left out."),
                self.env._("No customer with MRR at the start of the period."),
            ),
            kpi(
                "logo_churn",
                self.env._("Logo Churn"),
                pct,
                self.env._(
                    "Customers lost ÷ customers at the start, per month (average)."
                ),
                self.env._("No customer at the start of any month."),
            ),
            kpi(
                "revenue_churn",
                self.env._("Revenue Churn"),
                pct,
                self.env._(
                    "Churn and contraction ÷ starting MRR, per month (average)."
                ),
                self.env._("No MRR at the start of any month."),
            ),
            kpi(
                "ltv",
                self.env._("Lifetime Value"),
                amount,
                self.env._("Average ARPA ÷ average revenue churn."),
                self.env._("No revenue churn to divide by."),
            ),
            kpi(
                "usage_amount",
                self.env._("Usage MRR"),
                amount,
                self.env._("Usage billed for the periods ended in the last month."),
                "",
            ),
            kpi(
                "trial_conversion",
                self.env._("Trial Conversion"),
                pct,
                self.env._("Trials ended that went on to billing ÷ trials ended."),
                self.env._("No trial ended in the period."),
            ),
            kpi(
                "recovery",
                self.env._("Payment Recovery"),
                pct,
                self.env._(
                    "Recovered ÷ failed amounts of the follow-ups of the period."
                ),
                self.env._("No failed payment in the period."),
            ),
        ]

    @api.model
    def _filter_choices(self):
        """``{filter field: records to choose from}``: the plans, and the
        salespersons, customer countries and tags met in the snapshots."""
        Snapshot = self.env["subscription.mrr.snapshot"]

        def met(field):
            return self.env[Snapshot._fields[field].comodel_name].union(
                *(record for [record] in Snapshot._read_group([], [field]))
            )

        return {
            "plan_ids": self.env["subscription.plan"].search([]),
            "user_ids": met("user_id"),
            "country_ids": met("country_id"),
            "category_ids": met("partner_id").category_id,
        }

    def _filter_all_labels(self):
        return {
            "plan_ids": self.env._("All plans"),
            "user_ids": self.env._("All salespersons"),
            "country_ids": self.env._("All countries"),
            "category_ids": self.env._("All customer tags"),
        }

    @api.model_create_multi
    def create(self, vals_list):
        dashboards = super().create(vals_list)
        dashboards.action_refresh()
        return dashboards

    def _compute_display_name(self):
        for dashboard in self:
            dashboard.display_name = self.env._("Subscription Analytics")

    def _snapshot_domain(self):
        self.ensure_one()
        domain = [
            ("month", ">=", self.date_from.replace(day=1)),
            ("month", "<=", self.date_to),
        ]
        for field, values in (
            ("company_id", self.company_ids),
            ("plan_id", self.plan_ids),
            ("user_id", self.user_ids),
            ("country_id", self.country_ids),
            ("partner_id.category_id", self.category_ids),
            ("subscription_id.line_ids.product_id", self.product_ids),
        ):
            if values:
                domain.append((field, "in", values.ids))
        return domain

    def action_refresh(self):
        for dashboard in self:
            dashboard._refresh()
        return True

    def _refresh(self):
        """Store the figures (a figure without a base is stored as 0)."""
        self.ensure_one()
        figures = self._figures()
        lines = figures.pop("lines")
        self.write(
            {
                "line_ids": [Command.clear()]
                + [Command.create(vals) for vals in lines],
                **{name: value or 0 for name, value in figures.items()},
            }
        )

    def _figures(self):
        """The figures of the range: ``{"lines": [month values], KPI: value}``.
        A ratio without a base (no customer at the start, no trial ended,
        nothing failed) is ``None``: not 0 %, not available."""
        self.ensure_one()
        Snapshot = self.env["subscription.mrr.snapshot"]
        domain = self._snapshot_domain()
        sums = {
            month: values
            for month, *values in Snapshot._read_group(
                domain,
                ["month:month"],
                [
                    "starting_mrr:sum",
                    *(f"{name}:sum" for name in MOVEMENT_FIELDS),
                    "mrr:sum",
                    "usage_amount:sum",
                ],
            )
        }
        active = dict(
            Snapshot._read_group(
                [*domain, ("is_active", "=", True)], ["month:month"], ["__count"]
            )
        )
        customers = self._customer_counts(domain)
        trials = self._trial_counts()
        recovery = self._recovery_amounts()
        lines = []
        currency = self.currency_id
        for month in sorted(sums):
            start, *moves, mrr, usage = sums[month]
            key = fields.Date.to_date(month)
            active_customers, customers_start, churned = customers.get(key, (0, 0, 0))
            churn, contraction = moves[3], moves[2]
            ended, not_converted = trials.get(key, (0, 0))
            failed, recovered = recovery.get(key, (0.0, 0.0))
            lines.append(
                {
                    "month": key,
                    "month_label": format_date(self.env, key, date_format="MMMM y"),
                    "starting_mrr": start,
                    **dict(zip(MOVEMENT_FIELDS, moves, strict=True)),
                    "mrr": mrr,
                    "arr": exact_sum(currency, [mrr] * 12),
                    "usage_amount": usage,
                    "check": exact_sum(currency, [start, *moves], minus=mrr),
                    "active_subscriptions": active.get(month, 0),
                    "active_customers": active_customers,
                    "customers_start": customers_start,
                    "churned_customers": churned,
                    "arpu": currency.round(mrr / active_customers)
                    if active_customers
                    else None,
                    "logo_churn": percent(churned, customers_start),
                    "revenue_churn": percent(-(churn + contraction), start),
                    "trial_conversion": percent(ended - not_converted, ended),
                    "recovery": percent(recovered, failed),
                }
            )
        last = lines[-1] if lines else {}
        months = [line for line in lines if line["customers_start"]]
        revenue_churns = [
            line["revenue_churn"]
            for line in months
            if line["revenue_churn"] is not None
        ]
        avg_revenue_churn = (
            sum(revenue_churns) / len(revenue_churns) if revenue_churns else None
        )
        arpus = [line["arpu"] for line in lines if line["arpu"] is not None]
        avg_arpu = sum(arpus) / len(arpus) if arpus else None
        nrr, grr = self._retention(domain)
        return {
            "lines": lines,
            "mrr": last.get("mrr", 0.0),
            "arr": last.get("arr", 0.0),
            "usage_amount": last.get("usage_amount", 0.0),
            "active_subscriptions": last.get("active_subscriptions", 0),
            "active_customers": last.get("active_customers", 0),
            "arpu": last.get("arpu"),
            "nrr": nrr,
            "grr": grr,
            "logo_churn": round(
                sum(line["logo_churn"] for line in months) / len(months), 2
            )
            if months
            else None,
            "revenue_churn": round(avg_revenue_churn, 2)
            if avg_revenue_churn is not None
            else None,
            "ltv": currency.round(avg_arpu / (avg_revenue_churn / 100.0))
            if avg_arpu is not None and avg_revenue_churn
            else None,
            "trial_conversion": percent(
                sum(ended - lost for ended, lost in trials.values()),
                sum(ended for ended, __ in trials.values()),
            ),
            "recovery": percent(
                sum(recovered for __, recovered in recovery.values()),
                sum(failed for failed, __ in recovery.values()),
            ),
        }

    def _filtered_snapshots(self, domain):
        """``FROM ... WHERE ...`` of the snapshots matching ``domain`` (the
        table keeps its name, ``subscription_mrr_snapshot``)."""
        query = self.env["subscription.mrr.snapshot"]._search(domain)
        return SQL("FROM %s WHERE %s", query.from_clause, query.where_clause)

    def _customer_counts(self, domain):
        """``{month: (active at end, active at start, churned)}`` customers."""
        rows = self.env.execute_query(
            SQL(
                """
                WITH per_customer AS (
                    SELECT month, partner_id,
                           BOOL_OR(is_active OR is_paused) AS active,
                           BOOL_OR(was_active) AS was_active
                      %s
                     GROUP BY month, partner_id
                )
                SELECT month,
                       COUNT(*) FILTER (WHERE active),
                       COUNT(*) FILTER (WHERE was_active),
                       COUNT(*) FILTER (WHERE was_active AND NOT active)
                  FROM per_customer
                 GROUP BY month
                """,
                self._filtered_snapshots(domain),
            )
        )
        return {
            month: (active, start, churned) for month, active, start, churned in rows
        }

    def _retention(self, domain):
        """``(NRR, GRR)`` in % over the range: the customers active at the
        start of its first month, their MRR at the end of its last month."""
        self.ensure_one()
        first = self.date_from.replace(day=1)
        last = self.date_to.replace(day=1)
        rows = self.env.execute_query(
            SQL(
                """
                WITH base AS (
                    SELECT partner_id, SUM(starting_mrr) AS start
                      %(first_rows)s
                     GROUP BY partner_id HAVING SUM(starting_mrr) > 0
                ),
                ending AS (
                    SELECT partner_id, SUM(mrr) AS mrr
                      %(last_rows)s
                     GROUP BY partner_id
                )
                SELECT SUM(b.start), SUM(COALESCE(e.mrr, 0)),
                       SUM(LEAST(COALESCE(e.mrr, 0), b.start))
                  FROM base b LEFT JOIN ending e ON e.partner_id = b.partner_id
                """,
                first_rows=self._filtered_snapshots([*domain, ("month", "=", first)]),
                last_rows=self._filtered_snapshots([*domain, ("month", "=", last)]),
            )
        )
        start, ending, capped = (float(value or 0) for value in rows[0])
        return percent(ending, start), percent(capped, start)

    def _subscription_domain(self):
        domain = []
        for field, values in (
            ("company_id", self.company_ids),
            ("plan_id", self.plan_ids),
            ("user_id", self.user_ids),
            ("partner_id.commercial_partner_id.country_id", self.country_ids),
            ("partner_id.commercial_partner_id.category_id", self.category_ids),
            ("line_ids.product_id", self.product_ids),
        ):
            if values:
                domain.append((field, "in", values.ids))
        return domain

    def _trial_counts(self):
        """``{month: (trials ended, trials not converted)}``."""
        Subscription = self.env["subscription.subscription"]
        domain = [
            *self._subscription_domain(),
            ("trial_end_date", ">=", self.date_from.replace(day=1)),
            ("trial_end_date", "<=", self.date_to),
            ("trial_end_date", "<", fields.Date.context_today(self)),
            ("state", "!=", "draft"),
        ]
        not_converted = self.env.ref(
            "subscription_billing.close_reason_trial_not_converted"
        )
        groupby = ["trial_end_date:month"]
        lost = dict(
            Subscription._read_group(
                [*domain, ("close_reason_id", "=", not_converted.id)],
                groupby,
                ["__count"],
            )
        )
        return {
            fields.Date.to_date(month): (count, lost.get(month, 0))
            for month, count in Subscription._read_group(domain, groupby, ["__count"])
        }

    def _recovery_amounts(self):
        """``{month of the failure: (failed, recovered)}`` of the follow-ups."""
        domain = [
            ("date_start", ">=", self.date_from.replace(day=1)),
            ("date_start", "<=", self.date_to),
            ("state", "not in", ("credited", "cancelled")),
        ]
        if self.company_ids:
            domain.append(("company_id", "in", self.company_ids.ids))
        return {
            fields.Date.to_date(month): (failed, recovered)
            for month, failed, recovered in self.env[
                "subscription.dunning"
            ]._read_group(
                domain,
                ["date_start:month"],
                ["amount_failed:sum", "amount_recovered:sum"],
            )
        }


def exact_sum(currency, amounts, minus=0.0):
    """``sum(amounts) - minus`` in Decimal (sums of NUMERIC columns come back
    as floats: read exactly), rounded once to ``currency``."""
    total = sum((to_decimal(a or 0) for a in amounts), to_decimal(0))
    total -= to_decimal(minus or 0)
    return float(quantize(total, repr(currency.rounding)))


def percent(part, whole):
    """``part`` ÷ ``whole`` in %, rounded to 2 decimals; ``None`` without a
    whole (not available, rather than 0 %)."""
    return round(100.0 * part / whole, 2) if whole else None
