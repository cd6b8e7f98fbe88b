# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Prepaid credit: how much each wallet pays of an invoice, free of any Odoo import.

:func:`allocate` takes what is due on an invoice (``amount_due``, of which
``usage_due`` comes from usage lines) and the customer's wallets; it returns
the amount each wallet pays:

* wallets are used by priority (lower first), then earliest expiry (a wallet
  that never expires last), then key;
* a wallet expired on the invoice date (``on``: expiry before it) is skipped;
  a wallet is usable through its expiry day;
* a wallet pays ``min(balance, what is left due)``, never more than its
  balance nor than the invoice's amount due;
* a wallet of policy ``usage`` pays the usage lines only; a wallet of policy
  ``any`` pays any line, the other lines first (so that what is left for the
  usage-only wallets stays as large as possible).

Amounts are Decimals (the caller rounds them to the currency); the result is
exact: the amounts paid add up to the sum of the wallets' shares, and what is
left due is ``amount_due`` minus that sum, to the cent.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

ZERO = Decimal(0)
ANY = "any"
USAGE = "usage"
POLICIES = (ANY, USAGE)


class WalletError(ValueError):
    """Raised for amounts or wallets that make no sense."""


@dataclass(frozen=True)
class Wallet:
    key: object
    balance: Decimal
    priority: int = 10
    expiry: date | None = None
    policy: str = ANY


def _amount(value, what):
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise WalletError(f"{what} must be a finite Decimal >= 0, not {value!r}.")
    return value


def order(wallets):
    """The wallets in the order they pay: priority, earliest expiry, key."""
    return sorted(
        wallets,
        key=lambda w: (w.priority, w.expiry is None, w.expiry or date.min, str(w.key)),
    )


def usable(wallet, on=None):
    """Whether ``wallet`` may pay an invoice of the day ``on``."""
    return on is None or wallet.expiry is None or wallet.expiry >= on


def allocate(amount_due, wallets, usage_due=ZERO, on=None):
    """``[(key, amount)]``: what each wallet pays, in the order they pay,
    wallets paying nothing left out."""
    amount_due = _amount(amount_due, "amount_due")
    usage_due = _amount(usage_due, "usage_due")
    if usage_due > amount_due:
        raise WalletError(
            f"usage_due ({usage_due}) cannot exceed amount_due ({amount_due})."
        )
    left = amount_due
    usage_left = usage_due
    result = []
    for wallet in order(wallets):
        if wallet.policy not in POLICIES:
            raise WalletError(f"Unknown wallet policy {wallet.policy!r}.")
        balance = _amount(wallet.balance, f"balance of wallet {wallet.key}")
        if not balance or not usable(wallet, on):
            continue
        cap = usage_left if wallet.policy == USAGE else left
        paid = min(balance, cap)
        if not paid:
            continue
        if wallet.policy == USAGE:
            usage_left -= paid
        else:
            usage_left -= max(ZERO, paid - (left - usage_left))
        left -= paid
        result.append((wallet.key, paid))
    return result
