# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The base class of the pure core's tests, with or without Odoo.

Odoo's runner (``--test-enable --test-tags /subscription_billing``) collects
the ``TestCase`` classes of the modules ``tests/__init__.py`` imports and
selects them by their ``test_tags`` and ``test_module``, which
``odoo.tests.BaseCase`` sets; pytest collects any ``unittest.TestCase``. So the
core's tests are plain unittest classes on ``BaseCase`` when Odoo is
importable (no database: ``at_install``, like any ``BaseCase``), and on
``unittest.TestCase`` where it is not (``bin/test-core``), with the same
methods and assertions. They import the core relatively (``from ..core import
rating``), which resolves to ``odoo.addons.subscription_billing.core`` inside
Odoo and to the addon's folder outside it.

A test module that imports it as ``from .core_case import CoreCase`` is a core
test: ``bin/test-core`` runs it, so it must not import Odoo.
"""

try:
    from odoo.tests import BaseCase as CoreCase
except ImportError:  # the core's tests without Odoo (bin/test-core)
    from unittest import TestCase as CoreCase

__all__ = ["CoreCase"]
