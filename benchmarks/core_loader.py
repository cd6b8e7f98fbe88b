# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Load a module of the addon's pure ``core`` package without Odoo.

The addon's ``__init__`` imports Odoo; ``core`` does not, so it is loaded by
file path as the package ``_sb_core``.
"""

import importlib
import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_core(name):
    """``core.<name>`` (e.g. ``"rating"``, ``"dunning"``)."""
    if "_sb_core" not in sys.modules:
        core = os.path.join(ROOT, "core")
        spec = importlib.util.spec_from_file_location(
            "_sb_core",
            os.path.join(core, "__init__.py"),
            submodule_search_locations=[core],
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules["_sb_core"] = module
        spec.loader.exec_module(module)
    return importlib.import_module(f"_sb_core.{name}")
