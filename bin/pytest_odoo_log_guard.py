# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""pytest plugin (bin/test loads it): fail a test during which Odoo logs a warning.

Tests that expect a log line capture it with ``self.assertLogs`` or
``mute_logger``, which keeps it from reaching this handler.
"""

import logging

import pytest


class _Collector(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.records = []

    def emit(self, record):
        if record.name.startswith("odoo") or record.name.startswith("py.warnings"):
            self.records.append(record)


@pytest.fixture(autouse=True)
def _no_odoo_warnings():
    collector = _Collector()
    root = logging.getLogger()
    root.addHandler(collector)
    try:
        yield
    finally:
        root.removeHandler(collector)
    if collector.records:
        lines = "\n".join(
            f"{r.levelname} {r.name}: {r.getMessage()}" for r in collector.records
        )
        pytest.fail(f"Odoo logged warnings or errors during the test:\n{lines}")
