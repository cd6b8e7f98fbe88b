# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models

# How history entries count in the MRR movements of their month, and the
# fields that hold them (the currency effect is the remainder).
MOVEMENTS = ("new", "expansion", "contraction", "churn", "reactivation")
MOVEMENT_FIELDS = (*(f"{name}_amount" for name in MOVEMENTS), "fx_amount")


class SubscriptionMrrMovementMixin(models.AbstractModel):
    """A month's MRR and its movements: starting MRR + new + expansion +
    contraction + churn + reactivation + currency effect = ending MRR."""

    _name = "subscription.mrr.movement.mixin"
    _description = "MRR Movements of a Month"

    currency_id = fields.Many2one("res.currency", readonly=True)
    month = fields.Date(readonly=True)
    starting_mrr = fields.Monetary(string="Starting MRR", readonly=True)
    new_amount = fields.Monetary(string="New", readonly=True)
    expansion_amount = fields.Monetary(string="Expansion", readonly=True)
    contraction_amount = fields.Monetary(string="Contraction", readonly=True)
    churn_amount = fields.Monetary(string="Churn", readonly=True)
    reactivation_amount = fields.Monetary(string="Reactivation", readonly=True)
    fx_amount = fields.Monetary(string="Currency Effect", readonly=True)
    mrr = fields.Monetary(string="Ending MRR", readonly=True)
    arr = fields.Monetary(string="ARR", readonly=True)
    usage_amount = fields.Monetary(
        string="Usage MRR",
        readonly=True,
        help="Usage billed for the periods that ended this month (the last "
        "closed period); not in the MRR.",
    )
