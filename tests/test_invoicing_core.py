# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Invoice lines as a whole (``core/invoicing``): unittest, no database, no Odoo."""

from ..core import invoicing
from .core_case import CoreCase


class TestNothingDueCore(CoreCase):
    def test_every_line_must_come_to_zero(self):
        # 0.004 rounds to 0.00 on the line.
        assert invoicing.nothing_due([(1, 0.0, 0), (1, "0.004", 0)], "0.01")
        # 0.005 rounds (half up) to 0.01: due.
        assert not invoicing.nothing_due([(1, 0.0, 0), (1, "0.005", 0)], "0.01")
        # 100 % off a 20.00 line: 0.00.
        assert invoicing.nothing_due([(1, 20.0, 100)], "0.01")
        # +10.00 and -10.00: a total of 0.00, but lines that say something.
        assert not invoicing.nothing_due([(1, 10.0, 0), (1, -10.0, 0)], "0.01")
        assert not invoicing.nothing_due([], "0.01")

    def test_merge_distributions(self):
        split = {"1": 60.0, "2": 40.0}
        assert invoicing.merge_distributions([(split, 20), (split, "5")]) == split
        assert invoicing.merge_distributions([({"1": 100}, 100), ({"2": 100}, 50)]) == {
            "1": 66.67,
            "2": 33.33,
        }
        assert invoicing.merge_distributions([({"1": 100}, 0), (split, 5)]) == split
        assert invoicing.merge_distributions([(None, 10)]) == {}
