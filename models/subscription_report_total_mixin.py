# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models
from odoo.orm.models import parse_read_group_spec
from odoo.tools import SQL


class SubscriptionReportTotalMixin(models.AbstractModel):
    """Totals of a report that mean something, whatever the grouping.

    A report asks ``field:sum`` of each measure for every group of its pivot,
    list or graph, and for the total. For a balance (the MRR at a month's
    end) or a ratio (a recovery rate), the plain sum of the rows means
    nothing. A model lists such fields in ``_report_totals()`` with the SQL of
    their aggregate over a group, computed from the group's rows (a ratio of
    sums, the balance of the group's last month...); the SQL helpers below
    build them from the columns.
    """

    _name = "subscription.report.total.mixin"
    _description = "Report Totals"

    # Groupings whose every group holds a single period of the balances
    # (one month...): sets of field names; with all the fields of one of them
    # in the groupby (dates by month or finer), ``_report_totals`` is asked
    # with ``single=True`` and may use plain sums (faster).
    _report_single_groupbys = ()

    def _report_totals(self, column, single=False):
        """``{field name: SQL aggregate}`` of the measures not summed;
        ``column(name)`` is the SQL of a column of the report's table."""
        return {}

    @api.model
    def _read_group(
        self,
        domain,
        groupby=(),
        aggregates=(),
        having=(),
        offset=0,
        limit=None,
        order=None,
    ):
        grouped = set()
        for spec in groupby:
            fname, __, granularity = parse_read_group_spec(spec)
            if granularity in (None, "day", "week", "month"):
                grouped.add(fname)
        records = self
        if any(fields <= grouped for fields in self._report_single_groupbys):
            records = self.with_context(report_total_single=True)
        return super(SubscriptionReportTotalMixin, records)._read_group(
            domain, groupby, aggregates, having, offset, limit, order
        )

    def _read_group_select(self, aggregate_spec, query):
        if aggregate_spec != "__count":
            fname, property_name, func = parse_read_group_spec(aggregate_spec)
            if func in ("sum", "avg") and not property_name:

                def column(name):
                    if name in self._fields:  # checks the access to the field
                        return self._field_to_sql(self._table, name, query)
                    return SQL.identifier(self._table, name)

                single = self.env.context.get("report_total_single", False)
                total = self._report_totals(column, single).get(fname)
                if total is not None:
                    return total
        return super()._read_group_select(aggregate_spec, query)


def ratio(part, whole):
    """``part`` ÷ ``whole`` in %, 2 decimals; NULL without a whole."""
    return SQL("ROUND(100.0 * (%s) / NULLIF(%s, 0), 2)", part, whole)


def sum_of(value):
    return SQL("SUM(%s)", value)


def sum_once_per(key, value, order=None):
    """Sum of ``value`` taking one row per ``key`` in the group: the row of
    the greatest ``order`` (any row of the key without ``order``). The
    ``ARRAY_AGG``/``MAX`` of the group's columns belong to the outer query."""
    if order is None:
        return SQL(
            """(SELECT SUM(x.v) FROM (
                    SELECT DISTINCT ON (u.k) u.v
                      FROM UNNEST(ARRAY_AGG(%s), ARRAY_AGG(%s)) AS u(k, v)
                     ORDER BY u.k) AS x)""",
            key,
            value,
        )
    return SQL(
        """(SELECT SUM(x.v) FROM (
                SELECT DISTINCT ON (u.k) u.v
                  FROM UNNEST(ARRAY_AGG(%s), ARRAY_AGG(%s), ARRAY_AGG(%s))
                       AS u(k, o, v)
                 ORDER BY u.k, u.o DESC) AS x)""",
        key,
        order,
        value,
    )


def sum_at(period, value, last=True):
    """Sum of ``value`` over the rows of the group's last ``period`` (first
    with ``last=False``): a balance over several months is the balance of
    the last (first) one, not the sum of all."""
    return SQL(
        """(SELECT SUM(u.v)
              FROM UNNEST(ARRAY_AGG(%(period)s), ARRAY_AGG(%(value)s)) AS u(p, v)
             WHERE u.p = %(bound)s)""",
        period=period,
        value=value,
        bound=SQL("MAX(%s)", period) if last else SQL("MIN(%s)", period),
    )
