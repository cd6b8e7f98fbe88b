# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models

ACTIONS = [
    ("retry", "Retry the payment"),
    ("reminder", "Send a reminder"),
    ("activity", "Create an activity"),
    ("suspend", "Suspend the subscription"),
    ("close", "Close the subscription"),
]


class SubscriptionDunningStep(models.Model):
    _name = "subscription.dunning.step"
    _description = "Dunning Step"
    _order = "policy_id, sequence, id"

    policy_id = fields.Many2one(
        "subscription.dunning.policy", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=10)
    day = fields.Integer(
        required=True,
        help="Days after the failed payment (or after the due date, for "
        "customers paying without a saved payment method).",
    )
    action = fields.Selection(ACTIONS, required=True, default="reminder")
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Reminder Template",
        domain="[('model', '=', 'subscription.dunning')]",
        help="Empty: the standard payment reminder.",
    )
    activity_type_id = fields.Many2one("mail.activity.type")
    activity_user_id = fields.Many2one(
        "res.users",
        string="Assigned to",
        domain="[('share', '=', False)]",
        help="Empty: the salesperson of the subscription.",
    )
    activity_note = fields.Char(translate=True)

    @api.depends("day", "action")
    def _compute_display_name(self):
        labels = dict(self._fields["action"]._description_selection(self.env))
        for step in self:
            step.display_name = self.env._(
                "Day %(day)s: %(action)s", day=step.day, action=labels.get(step.action)
            )

    def write(self, vals):
        result = super().write(vals)
        # Through the policy form, the policy checks its steps once all are
        # written (a reordering passes through intermediate orders).
        if not self.env.context.get("dunning_policy_write") and {
            "day",
            "sequence",
            "action",
            "policy_id",
        } & set(vals):
            self.policy_id._check_steps()
        return result
