# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The back office of subscriptions: the kanban's columns (every state, in
the order of the life, Closed folded), its quick create (always a draft),
the empty list's onboarding, and the change actions of the form's action
menu (refused with the reason in a state that does not allow them)."""

from markupsafe import Markup

from odoo import api, models
from odoo.exceptions import UserError

from ..const import BILLABLE_STATES

# Kanban columns folded by default (as a stage's ``fold``).
FOLDED_STATES = ("closed",)


class SubscriptionSubscription(models.Model):
    _inherit = "subscription.subscription"

    @api.model
    def default_get(self, fields):
        # A kanban grouped by state passes the column's state as a default
        # (``default_state``): a new subscription always starts as a draft,
        # whatever the column it is created in.
        if self.env.context.get("default_state", "draft") != "draft":
            self = self.with_context(default_state="draft")
        return super().default_get(fields)

    @api.model
    def formatted_read_group(
        self,
        domain,
        groupby=(),
        aggregates=(),
        having=(),
        offset=0,
        limit=None,
        order=None,
    ):
        groups = super().formatted_read_group(
            domain,
            groupby,
            aggregates,
            having=having,
            offset=offset,
            limit=limit,
            order=order,
        )
        field = self._web_read_group_field_expand(list(groupby))
        if field and field.name == "state":
            # The columns of the kanban: closed subscriptions are folded, as
            # the folded stages of a pipeline.
            for group in groups:
                group["__fold"] = group["state"] in FOLDED_STATES
        return groups

    @api.model
    def get_empty_list_help(self, help_message):
        """Onboarding: before the first plan, say to create one first."""
        if not self.env["subscription.plan"].search_count([], limit=1):
            action = self.env.ref(
                "subscription_billing.subscription_plan_action",
                raise_if_not_found=False,
            )
            link = (
                Markup('<a href="/odoo/action-%s">%s</a>')
                % (action.id, self.env._("Create your first plan"))
                if action
                else self.env._("Create your first plan")
            )
            help_message = Markup(
                '<p class="o_view_nocontent_smiling_face">%s</p><p>%s</p><p>%s</p>'
            ) % (
                self.env._("No plan yet: start with a plan"),
                link,
                self.env._(
                    "A plan says what is billed and how often (monthly, yearly...). "
                    "Then create your first subscription: a customer on a plan."
                ),
            )
        return super().get_empty_list_help(help_message)

    # ------------------------------------------------------------------
    # The action menu of the form (ir.actions.server bound to the model)
    # ------------------------------------------------------------------

    def _action_change_wizard(self, operation):
        """Refuse at once, with the reason, an operation the state does not
        allow (the action menu offers every operation in every state)."""
        self._ensure_one_subscription()
        change = self.env["subscription.change"].new(
            {"subscription_id": self.id, "operation": operation}
        )
        change._check_transition(change._state_for_check())
        return super()._action_change_wizard(operation)

    def action_preview_next_invoice(self):
        self._ensure_one_subscription()
        if self.state not in BILLABLE_STATES or not self.next_invoice_date:
            raise UserError(
                self.env._(
                    "Subscription %(sub)s has no next invoice to preview.",
                    sub=self.display_name,
                )
            )
        return super().action_preview_next_invoice()
