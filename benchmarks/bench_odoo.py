# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What the Odoo benchmarks share: the registry of the benchmark's database,
a superuser environment, the company's chart of accounts.

Imported by the scripts of this folder (``python3 benchmarks/<script>.py``
puts the folder on ``sys.path``), after Odoo itself.
"""

import logging

from odoo import api
from odoo.modules.registry import Registry
from odoo.tools import config

_logger = logging.getLogger(__name__)


class BenchError(Exception):
    """A condition that stops the benchmark, with a message for the user."""


def open_registry(database, config_path, log_level):
    config.parse_config(
        ["-c", config_path, "-d", database, f"--log-level={log_level}"],
        setup_logging=True,
    )
    try:
        return Registry(database)
    except Exception as error:
        raise BenchError(f"cannot load database {database!r}: {error}") from error


def make_env(cr):
    env = api.Environment(cr, api.SUPERUSER_ID, {})
    return api.Environment(cr, api.SUPERUSER_ID, env["res.users"].context_get())


def ensure_chart(env):
    """Load the generic chart of accounts on the company when it has none
    (a database made without demo data); committed."""
    company = env.company
    journal = env["account.journal"].search(
        [*env["account.journal"]._check_company_domain(company), ("type", "=", "sale")],
        limit=1,
    )
    if journal and company.income_account_id:
        return
    _logger.info("loading the generic chart of accounts on %s", company.name)
    env["account.chart.template"].try_loading(
        "generic_coa", company=company, install_demo=False
    )
    env.cr.commit()
