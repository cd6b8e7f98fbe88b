# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models

from ..const import CHANGE_ENGINE


class SubscriptionEngineMixin(models.AbstractModel):
    """Records whose state only their engine writes (subscriptions, their
    lines, changes, payment follow-ups): the engine marks its own writes with
    ``const.CHANGE_ENGINE``, an object no request can carry."""

    _name = "subscription.engine.mixin"
    _description = "Records Written by the Billing Engine"

    def _as_engine(self):
        """These records, for a write of the engine."""
        return self.with_context(subscription_change=CHANGE_ENGINE)

    def _is_engine(self):
        return self.env.context.get("subscription_change") is CHANGE_ENGINE

    def _engine_fields_label(self, names):
        """The labels of the fields ``names``, for a refusal message."""
        return ", ".join(
            self._fields[name]._description_string(self.env) for name in sorted(names)
        )
