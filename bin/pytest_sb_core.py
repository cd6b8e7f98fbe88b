# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""pytest plugin (bin/test-core loads it): the core's tests without Odoo.

The pure core's tests live in the addon's ``tests/`` package, beside the Odoo
tests, so that Odoo's own runner sees them through ``tests/__init__.py``.
Collected by file, pytest imports ``tests/test_rating.py`` as
``<addon folder>.tests.test_rating``, which would run the addon's
``__init__.py`` (the models: Odoo) and ``tests/__init__.py`` (every test
module). This plugin, loaded before collection:

1. makes ``import odoo`` raise ImportError, as on a machine without Odoo, so a
   core test (or a core module) that reaches Odoo fails here;
2. registers the addon's folder and its ``tests`` folder as bare packages
   (their ``__init__.py`` are not run), so ``from ..core import rating`` in a
   test loads the pure ``core`` package and nothing else.
"""

import importlib.abc
import importlib.machinery
import sys
import types
from pathlib import Path


class _BlockOdoo(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "odoo" or name.startswith("odoo."):
            raise ImportError(f"Odoo is not importable in the core's tests ({name})")
        return None


for _loaded in [m for m in sys.modules if m == "odoo" or m.startswith("odoo.")]:
    del sys.modules[_loaded]
sys.meta_path.insert(0, _BlockOdoo())


def _bare_package(name, folder):
    if name not in sys.modules:
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
        module = types.ModuleType(name)
        module.__spec__ = spec
        module.__path__ = [str(folder)]
        sys.modules[name] = module


def pytest_collect_file(file_path, parent):
    """Before a test module of an addon is imported, stand in for its parents."""
    tests = Path(file_path).parent
    addon = tests.parent
    if (addon / "__manifest__.py").is_file() and (tests / "__init__.py").is_file():
        _bare_package(addon.name, addon)
        _bare_package(f"{addon.name}.{tests.name}", tests)
