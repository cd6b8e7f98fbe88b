# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..core import aggregation
from ..core.rating.base import fmt_units, to_decimal

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]+$")
PROPERTY_PATTERN = re.compile(r"^[A-Za-z0-9_\-]+$")
# An event's value keeps at most 15 significant digits (exact as a float, as
# Odoo reads NUMERIC columns) and 6 decimals (the precision it is stored with).
MAX_DIGITS = 15
MAX_DECIMALS = 6
# A number written as text that PostgreSQL reads as NUMERIC (bounded exponent).
NUMBER_TEXT = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]{1,4})?\s*$"
# Aggregations that read a value (the quantity, or the property ``field_name``).
VALUE_AGGREGATIONS = (
    aggregation.SUM,
    aggregation.MAX,
    aggregation.LATEST,
    aggregation.WEIGHTED_SUM,
)


class SubscriptionMetric(models.Model):
    """A billable metric: what usage events measure and how a period adds up."""

    _name = "subscription.metric"
    _description = "Billable Metric"
    _order = "name, id"
    _rec_names_search = ["code", "name"]

    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True,
        help="Identifier that usage events give (letters, digits, _ . -).",
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", default=lambda self: self.env.company, index=True
    )
    description = fields.Text(translate=True)
    uom_id = fields.Many2one("uom.uom", string="Unit of Measure")
    aggregation = fields.Selection(
        [
            (aggregation.COUNT, "Count of events"),
            (aggregation.SUM, "Sum"),
            (aggregation.MAX, "Maximum"),
            (aggregation.UNIQUE_COUNT, "Unique count"),
            (aggregation.LATEST, "Latest value"),
            (aggregation.WEIGHTED_SUM, "Time-weighted sum"),
        ],
        required=True,
        default=aggregation.SUM,
        help="How the events of a period add up to the billed quantity. "
        "Time-weighted sum: each event changes a level (seats, storage) by its "
        "value, negative values lower it; the period bills the average level.",
    )
    field_name = fields.Char(
        string="Property",
        help="Event property to aggregate (unique count: the property whose "
        "distinct values are counted). Empty: the event's quantity.",
    )
    filter_property = fields.Char(
        help="Only events whose property has one of the filter values count."
    )
    filter_values = fields.Char(help="Comma-separated values of the filter property.")
    quantity_decimals = fields.Integer(
        string="Decimals",
        default=6,
        required=True,
        help="Decimals an event's value may have (0 to 6); an event with more "
        "is refused (too_many_decimals).",
    )
    max_quantity = fields.Float(
        string="Maximum per Event",
        digits=(16, 0),
        default=1e9,
        required=True,
        help="Largest value of one event, in absolute value; an event above is "
        "refused (quantity_too_large). With the decimals, at most 15 significant "
        "digits: up to 10^(15 - decimals).",
    )
    usage_count = fields.Integer(compute="_compute_usage_count")

    _code_company_unique = models.Constraint(
        "UNIQUE NULLS NOT DISTINCT (code, company_id)",
        "A metric with this code already exists in this company.",
    )

    def _compute_usage_count(self):
        counts = dict(
            self.env["subscription.usage"]._read_group(
                [("metric_id", "in", self.ids)], ["metric_id"], ["__count"]
            )
        )
        for metric in self:
            metric.usage_count = counts.get(metric, 0)

    @api.constrains("code", "aggregation", "field_name", "filter_property")
    def _check_definition(self):
        for metric in self:
            if not CODE_PATTERN.match(metric.code or ""):
                raise ValidationError(
                    self.env._(
                        "The metric code %(code)r may only hold letters, digits, "
                        "'_', '.' and '-' (events send it as is).",
                        code=metric.code,
                    )
                )
            for name in (metric.field_name, metric.filter_property):
                if name and not PROPERTY_PATTERN.match(name):
                    raise ValidationError(
                        self.env._(
                            "Metric %(metric)s: %(name)r is not a valid property "
                            "name (letters, digits, '_' and '-').",
                            metric=metric.display_name,
                            name=name,
                        )
                    )
            if metric.aggregation == aggregation.UNIQUE_COUNT and not metric.field_name:
                raise ValidationError(
                    self.env._(
                        "Metric %(metric)s counts unique values: set the property "
                        "whose distinct values it counts (e.g. user_id).",
                        metric=metric.display_name,
                    )
                )
            if metric.filter_property and not metric.filter_values:
                raise ValidationError(
                    self.env._(
                        "Metric %(metric)s filters on %(property)s: give the "
                        "values to keep.",
                        metric=metric.display_name,
                        property=metric.filter_property,
                    )
                )

    @api.constrains("quantity_decimals", "max_quantity")
    def _check_quantity_bounds(self):
        for metric in self:
            decimals = metric.quantity_decimals
            if not 0 <= decimals <= MAX_DECIMALS or not (
                0 < metric.max_quantity <= 10 ** (MAX_DIGITS - decimals)
            ):
                raise ValidationError(
                    self.env._(
                        "Metric %(metric)s: events keep 0 to %(decimals)s decimals "
                        "and at most %(digits)s significant digits, so the maximum "
                        "per event must be above 0 and at most %(max)s with "
                        "%(count)s decimals.",
                        metric=metric.display_name,
                        decimals=MAX_DECIMALS,
                        digits=MAX_DIGITS,
                        max=f"{10 ** (MAX_DIGITS - min(max(decimals, 0), 6)):,}",
                        count=decimals,
                    )
                )

    def write(self, vals):
        frozen = {
            "code",
            "aggregation",
            "field_name",
            "filter_property",
            "filter_values",
        }
        if frozen & set(vals) and self.env["subscription.usage.charge"].search_count(
            [("metric_id", "in", self.ids)], limit=1
        ):
            changed = [
                m
                for m in self
                if any(
                    m[name] != vals[name] and (m[name] or vals[name])
                    for name in frozen & set(vals)
                )
            ]
            if changed:
                raise ValidationError(
                    self.env._(
                        "Metric %(metrics)s already billed usage: its code and how "
                        "it aggregates can no longer change (invoices must stay "
                        "explainable). Archive it and create a new metric.",
                        metrics=", ".join(m.display_name for m in changed),
                    )
                )
        return super().write(vals)

    def action_view_usage(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "subscription_billing.action_subscription_usage"
        )
        action["domain"] = [("metric_id", "=", self.id)]
        action["context"] = {"default_metric_id": self.id}
        return action

    def _quantity_bounds(self):
        """Largest absolute value of one event (exact) and its decimals."""
        self.ensure_one()
        return to_decimal(self.max_quantity), self.quantity_decimals

    def _format_quantity(self, quantity):
        """``quantity`` (a Decimal) as text with the metric's precision.

        ``1,500``, ``2.675``: exact, never a float's digits, no useless zeros.
        An average (time-weighted sum) is rounded to the metric's decimals;
        any other quantity is exact at that precision, or shown in full if it
        is not (an event stored before the metric's decimals were set).
        """
        self.ensure_one()
        quantity = to_decimal(quantity, "quantity")
        shown = fmt_units(quantity, max(self.quantity_decimals or 0, 0))
        exact = to_decimal(shown.replace(",", "")) == quantity
        if exact or self.aggregation == aggregation.WEIGHTED_SUM:
            return shown
        return fmt_units(quantity)

    # ------------------------------------------------------------------
    # SQL building blocks
    # ------------------------------------------------------------------

    def _filter_values(self):
        self.ensure_one()
        return [v.strip() for v in (self.filter_values or "").split(",") if v.strip()]

    def _sql_value(self, alias="u"):
        """SQL expression of an event's value for this metric.

        A property that is not a number (stored past ingestion's checks) is
        ``NaN``, which the billing refuses for that subscription alone, instead
        of a cast error that would stop the whole query; a missing one is NULL
        (skipped, as SQL aggregates do).
        """
        self.ensure_one()
        if not self.field_name:
            return SQL.identifier(alias, "quantity")
        properties = SQL.identifier(alias, "properties")
        return SQL(
            """(CASE WHEN jsonb_typeof(%(p)s -> %(f)s) = 'number'
                     THEN (%(p)s ->> %(f)s)::numeric
                     WHEN jsonb_typeof(%(p)s -> %(f)s) = 'string'
                      AND (%(p)s ->> %(f)s) ~ %(number)s
                     THEN (%(p)s ->> %(f)s)::numeric
                     WHEN jsonb_typeof(%(p)s -> %(f)s) IS DISTINCT FROM 'null'
                      AND %(p)s ? %(f)s
                     THEN 'NaN'::numeric END)""",
            p=properties,
            f=self.field_name,
            number=NUMBER_TEXT,
        )

    def _sql_filter(self, alias="u"):
        """SQL condition of the events this metric counts."""
        self.ensure_one()
        if not self.filter_property:
            return SQL("TRUE")
        return SQL(
            "(%s ->> %s) = ANY(%s)",
            SQL.identifier(alias, "properties"),
            self.filter_property,
            self._filter_values(),
        )

    def _sql_aggregate(self, alias="u"):
        """SQL aggregate of the period's quantity (not for weighted sums)."""
        self.ensure_one()
        value = self._sql_value(alias)
        match self.aggregation:
            case aggregation.COUNT:
                return SQL("COUNT(*)")
            case aggregation.SUM:
                return SQL("SUM(%s)", value)
            case aggregation.MAX:
                return SQL("MAX(%s)", value)
            case aggregation.UNIQUE_COUNT:
                return SQL(
                    "COUNT(DISTINCT %s ->> %s)",
                    SQL.identifier(alias, "properties"),
                    self.field_name,
                )
            case aggregation.LATEST:
                return SQL(
                    "(ARRAY_AGG(%s ORDER BY %s DESC, %s DESC))[1]",
                    value,
                    SQL.identifier(alias, "timestamp"),
                    SQL.identifier(alias, "id"),
                )
        raise ValidationError(
            self.env._("Metric %(metric)s has no SQL aggregate.", metric=self.code)
        )
