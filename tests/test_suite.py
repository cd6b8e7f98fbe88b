# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The test suite's own layout: both runners see every test.

Odoo's runner only sees the modules ``tests/__init__.py`` imports, and only the
``TestCase`` classes in them; pytest sees every ``test_*.py`` file and also
module-level functions. Unittest, no database, no Odoo.
"""

import ast
import os

from .core_case import CoreCase

TESTS = os.path.dirname(os.path.realpath(__file__))


def _test_modules():
    return sorted(
        name[: -len(".py")]
        for name in os.listdir(TESTS)
        if name.startswith("test_") and name.endswith(".py")
    )


def _tree(name):
    with open(os.path.join(TESTS, f"{name}.py"), encoding="utf-8") as file:
        return ast.parse(file.read())


class TestSuiteLayout(CoreCase):
    def test_init_imports_every_test_module(self):
        imported = {
            alias.name
            for node in _tree("__init__").body
            if isinstance(node, ast.ImportFrom) and node.level == 1
            for alias in node.names
        }
        self.assertEqual(set(_test_modules()) - imported, set())

    def test_no_test_outside_a_test_case_class(self):
        """Module-level test functions run under pytest only."""
        for name in _test_modules():
            with self.subTest(module=name):
                functions = [
                    node.name
                    for node in _tree(name).body
                    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                    and node.name.startswith("test")
                ]
                self.assertEqual(functions, [])

    def test_tests_do_not_import_pytest(self):
        """Odoo's runner does not need pytest (pytest.raises, fixtures, marks)."""
        for name in _test_modules():
            with self.subTest(module=name):
                imports = {
                    alias.name.split(".")[0]
                    for node in ast.walk(_tree(name))
                    if isinstance(node, ast.Import)
                    for alias in node.names
                } | {
                    (node.module or "").split(".")[0]
                    for node in ast.walk(_tree(name))
                    if isinstance(node, ast.ImportFrom) and not node.level
                }
                self.assertNotIn("pytest", imports)
