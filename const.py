# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Constants shared by the models, controllers and wizards."""

from datetime import date

# The days a subscription or a change may name (the calendar's edges stay out
# of reach of period arithmetic).
CHANGE_DATE_MIN = date(1900, 1, 1)
CHANGE_DATE_MAX = date(2999, 12, 31)


class _ChangeEngineKey:
    """The context value that marks writes made by the change engine.

    Started subscriptions change their plan, dates and lines only through a
    change (prorated, kept in the history), and their state and billing dates
    only through the engine. The engine marks its own writes with this object
    under the context key ``subscription_change``: a request (JSON-RPC,
    JSON-2, a form) can send any context key, but only strings, numbers,
    lists and dicts, never this object, so no context from outside bypasses
    the engine.
    """

    __slots__ = ()

    def __repr__(self):
        return "<subscription change engine>"

    def __reduce__(self):
        # Copies (deepcopy, pickle) are the same key.
        return "CHANGE_ENGINE"


CHANGE_ENGINE = _ChangeEngineKey()

# The change operations and policies a request may name.
OPERATIONS = [
    ("change_plan", "Change of plan"),
    ("change_quantity", "Change of quantity"),
    ("add_option", "Option added"),
    ("remove_option", "Option removed"),
    ("change_price", "Change of price"),
    ("pause", "Pause"),
    ("resume", "Resume"),
    ("cancel", "Cancellation"),
    ("reactivate", "Reactivation"),
]
CHANGE_POLICIES = [
    ("immediate", "Immediately, prorated"),
    ("end_of_period", "At the end of the period"),
]

# Subscription states (``subscription.subscription.state``): started and not
# closed (what the customer has, in the portal and for the payment methods),
# and billed (a suspended subscription bills no new period).
RUNNING_STATES = ("trial", "active", "paused", "suspended")
BILLABLE_STATES = ("trial", "active", "paused")

# Invoices with an amount still due (``account.move.payment_state``).
OPEN_PAYMENT_STATES = ("not_paid", "partial")
# Transactions in these states are still being processed by the provider:
# they are awaited, never retried.
WAITING_TX_STATES = ("draft", "pending", "authorized")

# Why a payment failed (follow-ups and their attempts).
DECLINES = [
    ("soft", "Soft decline"),
    ("hard", "Hard decline"),
    ("action", "Customer action needed"),
    ("no_method", "No saved payment method"),
]
# Invoices are created in bulk: no "created" log message per invoice (their
# origin and the Subscriptions smart button say where they come from) and no
# follower subscription of the user running the billing.
INVOICE_CREATE_CONTEXT = {
    "default_move_type": "out_invoice",
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
}

# Usage ingestion (README, "Usage ingestion"): events per batch, and the
# request body of POST /subscription_billing/usage in bytes (413 above).
MAX_BATCH = 1000
MAX_BODY_SIZE = 10 * 1024 * 1024
USAGE_ROUTE = "/subscription_billing/usage"
