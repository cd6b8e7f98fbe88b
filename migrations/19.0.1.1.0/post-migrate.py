# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Attempts awaiting the provider before ``date_sent`` existed may have been
handed to it: they are marked so (awaited, never sent again), not expired."""


def migrate(cr, version):
    cr.execute(
        """
        UPDATE subscription_dunning_event
           SET date_sent = date
         WHERE result = 'pending' AND date_sent IS NULL
        """
    )
