# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import math
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..core import aggregation, rating
from ..tools import MAX_LINE_VALUE, check_number_values, exact_decimal

CHARGE_MODEL_SELECTION = [
    ("standard", "Standard (per unit)"),
    ("graduated", "Graduated tiers"),
    ("volume", "Volume tiers"),
    ("package", "Package"),
    ("percentage", "Percentage"),
    ("graduated_percentage", "Graduated percentage"),
    ("dynamic", "Dynamic (amount per event)"),
]

# Where a line keeps each charge model's properties: per model, property
# (as :mod:`..core.rating` declares it) -> line field; a model priced by
# tiers takes its tiers' properties from TIER_FIELDS. The one place a charge
# model meets the ORM: adding one means its core module, its fields (here,
# on this mixin and in CHARGE_MODEL_SELECTION) and its view.
CHARGE_MODEL_FIELDS = {
    "standard": {"unit_price": "usage_unit_price"},
    "graduated": {"charge_flat_at_zero": "charge_flat_at_zero"},
    "volume": {"prorated": "volume_prorated"},
    "package": {
        "package_size": "package_size",
        "package_price": "package_price",
        "free_units": "free_units",
    },
    "percentage": {
        "rate": "rate_percent",
        "fixed_fee": "fixed_fee",
        "free_transactions": "free_transactions",
        "free_amount": "free_amount",
        "per_transaction_min_amount": "transaction_min_amount",
        "per_transaction_max_amount": "transaction_max_amount",
        "free_whichever_first": "free_whichever_first",
    },
    "graduated_percentage": {},
    "dynamic": {},
}
# Tier property -> field of subscription.pricing.tier.
TIER_FIELDS = {
    "from": "from_units",
    "to": "to_units",
    "unit_price": "unit_price",
    "rate": "rate",
    "flat_fee": "flat_fee",
}
TIERED_MODELS = tuple(
    name for name, model in rating.CHARGE_MODELS.items() if model.tiers
)

# The line fields and tier fields that make a price list (see pricing_from_values).
PRICE_VALUE_FIELDS = tuple(
    dict.fromkeys(
        field
        for of_model in CHARGE_MODEL_FIELDS.values()
        for field in of_model.values()
    )
)
TIER_VALUE_FIELDS = tuple(TIER_FIELDS.values())
# Everything that defines how a usage line prices (checked on every change).
PRICING_FIELDS = (
    "line_type",
    "metric_id",
    "charge_model",
    *PRICE_VALUE_FIELDS,
    "included_units",
    "carry_over",
    "carry_over_cap",
    "carry_over_expiry",
    "min_amount",
    "max_amount",
)


def pricing_from_values(model, values, tiers):
    """``(charge model, properties)`` from a line's values and its tier rows.

    ``values`` maps :data:`PRICE_VALUE_FIELDS` to numbers; ``tiers`` lists
    rows of :data:`TIER_VALUE_FIELDS`, in order. Floats are read back as the
    decimals they were typed as; ``Decimal`` (from SQL) are taken as is.
    The properties are those the engine declares for the model, read from
    the fields of :data:`CHARGE_MODEL_FIELDS`: an optional property whose
    field is 0 is left out (its neutral value), the last tier's empty upper
    bound is none. An option (a boolean field) is passed as it is, or as
    the number 1 read from SQL.
    """
    model = model or "standard"
    charge_model = rating.get_model(model)
    fields_of = CHARGE_MODEL_FIELDS[model]
    properties = {
        key: exact_decimal(values[fields_of[key]]) for key in charge_model.properties
    }
    for key in charge_model.optional:
        value = values[fields_of[key]]
        if value:
            properties[key] = value if value is True else exact_decimal(value)
    if charge_model.tiers:
        last = len(tiers)
        rows = [dict(zip(TIER_VALUE_FIELDS, tier, strict=True)) for tier in tiers]
        properties["tiers"] = [
            {
                key: None
                if key == "to" and number == last and not row[TIER_FIELDS[key]]
                else exact_decimal(row[TIER_FIELDS[key]])
                for key in charge_model.tiers
            }
            for number, row in enumerate(rows, 1)
        ]
    return model, properties


def _numeric(text):
    """A ``NUMERIC`` read as text in SQL as its Decimal (``None``: 0)."""
    return Decimal(0) if text is None else Decimal(text)


class SubscriptionLineMixin(models.AbstractModel):
    """What plan lines and subscription lines share: a priced product."""

    _name = "subscription.line.mixin"
    _inherit = ["analytic.mixin"]
    _description = "Recurring Line (shared fields)"
    _check_company_auto = True

    sequence = fields.Integer(default=10)
    # Overridden as related fields by each concrete line model.
    company_id = fields.Many2one("res.company")
    currency_id = fields.Many2one("res.currency")
    product_id = fields.Many2one(
        "product.product",
        required=True,
        check_company=True,
        domain="[('sale_ok', '=', True)]",
    )
    name = fields.Char(
        string="Description",
        compute="_compute_name",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
    )
    quantity = fields.Float(default=1.0, digits="Product Unit", required=True)
    price_unit = fields.Monetary(
        string="Unit Price",
        compute="_compute_price_unit",
        store=True,
        readonly=False,
        precompute=True,
        help="Price of one unit for one whole billing period.",
    )
    discount = fields.Float(string="Discount (%)", digits="Discount", default=0.0)
    price_subtotal = fields.Monetary(
        string="Amount per Period", compute="_compute_price_subtotal"
    )

    line_type = fields.Selection(
        [("fixed", "Recurring"), ("usage", "Usage")],
        required=True,
        default="fixed",
        help="Recurring: a price per period. Usage: the metric's usage of the "
        "period, rated by the charge model and billed in arrears.",
    )
    metric_id = fields.Many2one("subscription.metric", check_company=True)
    charge_model = fields.Selection(CHARGE_MODEL_SELECTION, default="standard")
    usage_unit_price = fields.Float(
        string="Price per Unit",
        digits=(20, 8),
        min_display_digits=2,
        help="Standard charge model.",
    )
    package_size = fields.Float(digits=(20, 6), default=1.0)
    package_price = fields.Float(digits=(20, 8), min_display_digits=2)
    free_units = fields.Float(digits=(20, 6), help="Package: the first units are free.")
    rate_percent = fields.Float(string="Rate (%)", digits=(12, 6))
    fixed_fee = fields.Float(
        string="Fee per Transaction",
        digits=(20, 8),
        min_display_digits=2,
        help="Percentage charge model.",
    )
    free_transactions = fields.Integer()
    free_amount = fields.Float(digits=(20, 6), min_display_digits=2)
    transaction_min_amount = fields.Float(
        string="Minimum per Transaction",
        digits=(20, 8),
        min_display_digits=2,
        help="0: no minimum.",
    )
    transaction_max_amount = fields.Float(
        string="Maximum per Transaction",
        digits=(20, 8),
        min_display_digits=2,
        help="0: no maximum.",
    )
    included_units = fields.Float(
        digits=(20, 6), help="Allowance: units included in each period, not billed."
    )
    carry_over = fields.Boolean(
        help="Unused included units roll over to the next periods, used oldest first."
    )
    carry_over_cap = fields.Float(
        digits=(20, 6), help="Largest balance carried over; 0: no cap."
    )
    carry_over_expiry = fields.Integer(
        string="Carry-over Expiry (periods)",
        help="Periods during which carried units stay usable; 0: they never expire.",
    )
    min_amount = fields.Monetary(
        string="Minimum per Period", help="The usage of a period costs at least this."
    )
    max_amount = fields.Monetary(
        string="Maximum per Period",
        help="The usage of a period costs at most this; 0: none.",
    )
    # Options of the charge models (Lago parity), off by default.
    charge_flat_at_zero = fields.Boolean(
        string="Flat Fee at Zero Usage",
        help="Graduated: a period without usage still pays the first tier's flat fee.",
    )
    free_whichever_first = fields.Boolean(
        string="Free Until Either Runs Out",
        help="Percentage: with free transactions and a free amount both set, "
        "transactions are free until either runs out.",
    )
    volume_prorated = fields.Boolean(
        string="Prorate on Partial Periods",
        help="Volume: on a partial period, the tier is the one the period's "
        "units reach and the charge is prorated by days.",
    )

    seats_metric_id = fields.Many2one(
        "subscription.metric",
        string="Seats in Use",
        check_company=True,
        help="A metric that counts the seats in use (for instance active users, "
        "aggregated by maximum or latest value): the quantity cannot go down "
        "below the seats in use of the current period.",
    )

    _quantity_positive = models.Constraint(
        "CHECK(quantity >= 0)", "The quantity of a recurring line cannot be negative."
    )
    _discount_range = models.Constraint(
        "CHECK(discount >= 0 AND discount <= 100)",
        "A discount is a percentage between 0 and 100.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_number_values(self, vals)
        return super().create(vals_list)

    def write(self, vals):
        check_number_values(self, vals)
        return super().write(vals)

    @api.constrains("quantity", "price_unit", "discount")
    def _check_line_values(self):
        """One rule for every line (plan, subscription, change): a quantity
        and a unit price from 0 to 10^12, a discount from 0 to 100 %."""
        for line in self:
            for name, high in (
                ("quantity", MAX_LINE_VALUE),
                ("price_unit", MAX_LINE_VALUE),
                ("discount", 100),
            ):
                value = line[name] or 0.0
                if not math.isfinite(value) or not 0 <= value <= high:
                    raise ValidationError(
                        self.env._(
                            "Line %(line)s: %(field)s must be between 0 and "
                            "%(max)s (got %(value)s); a unit price cannot be "
                            "negative: give a discount instead.",
                            line=line.name or line.product_id.display_name or "",
                            field=line._fields[name]._description_string(self.env),
                            max=f"{high:,}",
                            value=value,
                        )
                    )

    @api.depends("product_id")
    def _compute_name(self):
        for line in self:
            if line.product_id:
                line.name = line.product_id.display_name

    @api.depends("product_id")
    def _compute_price_unit(self):
        for line in self:
            if line.product_id:
                line.price_unit = line.product_id.currency_id._convert(
                    line.product_id.lst_price,
                    line.currency_id or line.product_id.currency_id,
                    line.company_id or self.env.company,
                    fields.Date.context_today(line),
                )

    @api.depends("quantity", "price_unit", "discount", "currency_id", "line_type")
    def _compute_price_subtotal(self):
        for line in self:
            if line.line_type == "usage":
                line.price_subtotal = 0.0
                continue
            amount = line.quantity * line.price_unit * (1 - line.discount / 100.0)
            line.price_subtotal = (
                line.currency_id.round(amount) if line.currency_id else amount
            )

    # ------------------------------------------------------------------
    # Usage pricing
    # ------------------------------------------------------------------

    def _get_pricing(self):
        """``(charge model, properties)`` for the pure rating engine."""
        self.ensure_one()
        values = {name: self[name] for name in PRICE_VALUE_FIELDS}
        tiers = [
            tuple(tier[name] for name in TIER_VALUE_FIELDS)
            for tier in self.tier_ids.sorted(lambda t: (t.sequence, t.from_units, t.id))
        ]
        return pricing_from_values(self.charge_model, values, tiers)

    def _rate_usage(
        self, units, transactions=None, included=None, pricing=None, proration=None
    ):
        """Rate ``units`` with this line's pricing: a :class:`RatingResult`.

        ``pricing``: ``(model, prepared)`` from :meth:`_prepare_pricings`;
        ``proration``: ``(days, full_days)`` of a partial period (a model
        that prorates reads it, see ``core.rating.rate``).
        """
        self.ensure_one()
        if pricing is None:
            model, properties = self._get_pricing()
            prepared = rating.prepare(model, properties)
        else:
            model, prepared = pricing
        return rating.rate(
            model,
            units,
            None,
            transactions=transactions if rating.get_model(model).transactions else None,
            included_units=exact_decimal(self.included_units)
            if included is None
            else included,
            min_amount=exact_decimal(self.min_amount) if self.min_amount else None,
            max_amount=exact_decimal(self.max_amount) if self.max_amount else None,
            prepared=prepared,
            proration=proration,
        )

    def _prepare_pricings(self):
        """``{line id: (model, prepared)}`` for these lines, read in one query.

        Lines with the same price list (subscriptions of one plan) share one
        validated price list: billing runs validate each list once.
        """
        if not self:
            return {}
        self.flush_recordset()
        self.env["subscription.pricing.tier"].flush_model()
        # As text: the exact decimals of the NUMERIC columns, not floats.
        # Options (booleans) as 0 or 1, read back as numbers.
        columns = SQL(", ").join(
            SQL(
                "%s::int::text" if self._fields[name].type == "boolean" else "%s::text",
                SQL.identifier("l", name),
            )
            for name in PRICE_VALUE_FIELDS
        )
        tier_columns = SQL(", ").join(
            SQL("%s::text", SQL.identifier("t", name)) for name in TIER_VALUE_FIELDS
        )
        rows = self.env.execute_query(
            SQL(
                """
                SELECT l.id, l.charge_model, %(columns)s,
                       ARRAY(SELECT ARRAY[%(tier_columns)s]
                               FROM subscription_pricing_tier t
                              WHERE t.%(owner)s = l.id
                              ORDER BY t.sequence, t.from_units, t.id)
                  FROM %(table)s l
                 WHERE l.id = ANY(%(ids)s)
                """,
                columns=columns,
                tier_columns=tier_columns,
                owner=SQL.identifier(
                    "plan_line_id"
                    if self._name == "subscription.plan.line"
                    else "subscription_line_id"
                ),
                table=SQL.identifier(self._table),
                ids=self.ids,
            )
        )
        prepared = {}
        result = {}
        for line_id, model, *values, tiers in rows:
            values = tuple(_numeric(value) for value in values)
            tiers = tuple(tuple(_numeric(value) for value in tier) for tier in tiers)
            key = (model, values, tiers)
            if key not in prepared:
                model_name, properties = pricing_from_values(
                    model, dict(zip(PRICE_VALUE_FIELDS, values, strict=True)), key[2]
                )
                prepared[key] = (model_name, rating.prepare(model_name, properties))
            result[line_id] = prepared[key]
        return result

    def _check_usage_pricing(self):
        """Raise a ValidationError naming what is wrong with a usage line."""
        for line in self.filtered(lambda line: line.line_type == "usage"):
            name = line.name or line.product_id.display_name or ""
            if not line.metric_id:
                raise ValidationError(
                    self.env._(
                        "Usage line %(line)s: choose the billable metric it rates.",
                        line=name,
                    )
                )
            if line.charge_model in TIERED_MODELS and not line.tier_ids:
                raise ValidationError(
                    self.env._(
                        "Usage line %(line)s: the %(model)s charge model needs tiers.",
                        line=name,
                        model=line.charge_model,
                    )
                )
            if (
                line.charge_model == "dynamic"
                and line.metric_id.aggregation != aggregation.SUM
            ):
                raise ValidationError(
                    self.env._(
                        "Usage line %(line)s: a dynamic charge bills the sum of "
                        "the events' amounts: its metric %(metric)s must "
                        "aggregate by sum (of the property that holds each "
                        "event's amount, or of the quantity).",
                        line=name,
                        metric=line.metric_id.code,
                    )
                )
            if line.carry_over_cap < 0 or line.carry_over_expiry < 0:
                raise ValidationError(
                    self.env._(
                        "Usage line %(line)s: the carry-over cap and expiry cannot "
                        "be negative.",
                        line=name,
                    )
                )
            # The terms alone: rating 0 units would refuse terms that need
            # what only billing has (the transactions of a percentage charge).
            try:
                model, properties = line._get_pricing()
                rating.validate_terms(
                    model,
                    properties,
                    included_units=exact_decimal(line.included_units),
                    min_amount=exact_decimal(line.min_amount)
                    if line.min_amount
                    else None,
                    max_amount=exact_decimal(line.max_amount)
                    if line.max_amount
                    else None,
                )
            except rating.RatingError as error:
                raise ValidationError(
                    self.env._("Usage line %(line)s: %(error)s", line=name, error=error)
                ) from None
