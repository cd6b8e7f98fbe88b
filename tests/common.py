# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What the tests share (no test module imports another).

* data helpers, plain functions of an env that ``benchmarks/`` call too;
* the base cases: ``SubscriptionCommon`` (plans, customers, a billing user),
  ``UsageCommon`` (a metric and a metered plan);
* ``committed_env`` and ``CommittedCase``: connections of their own,
  committed, for the tests that run several workers at once.

The pure core's tests do not import Odoo: their base is ``core_case.py``.
"""

import threading
from contextlib import contextmanager
from unittest.mock import patch

from freezegun import freeze_time

from odoo import SUPERUSER_ID, Command, api, fields, sql_db
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, new_test_user
from odoo.tools import config

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

# === DATA (plain functions of an env: the tests and benchmarks/ share them) === #


def create_plan(env, name, product, price=20.0, **values):
    """A monthly plan with one line: ``product`` at ``price``, invoices posted.

    ``values`` override the plan's fields (``invoice_policy="draft"``, ...).
    """
    return env["subscription.plan"].create(
        {
            "name": name,
            "billing_interval": 1,
            "billing_unit": "month",
            "invoice_policy": "post",
            "line_ids": [
                Command.create(
                    {"product_id": product.id, "quantity": 1, "price_unit": price}
                )
            ],
            **values,
        }
    )


# === TEST CASES === #


class SubscriptionCommon(AccountTestInvoicingCommon):
    """Plans, customers and a billing user, built by the test itself."""

    @classmethod
    def get_default_groups(cls):
        return super().get_default_groups() | cls.quick_ref(
            "subscription_billing.group_subscription_manager"
        )

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.billing_user = new_test_user(
            cls.env,
            login="billing_user",
            groups="subscription_billing.group_subscription_user",
            company_id=cls.env.company.id,
            company_ids=[Command.set(cls.env.company.ids)],
        )
        cls.product_pro = cls._create_product(
            name="Pro plan", lst_price=20.0, type="service"
        )
        cls.product_seat = cls._create_product(
            name="Extra seat", lst_price=5.0, type="service"
        )
        cls.plan_monthly = cls._create_plan("Pro monthly", price=20.0)
        cls.customer = cls.env["res.partner"].create(
            {"name": "Acme SARL", "is_company": True}
        )
        cls.customer_b = cls.env["res.partner"].create(
            {"name": "Globex GmbH", "is_company": True}
        )

    @classmethod
    def _enable_demo_provider(cls):
        """The company's demo payment provider, enabled in test mode."""
        cls.provider = (
            cls.env["payment.provider"]
            .sudo()
            .search([("code", "=", "demo"), ("company_id", "=", cls.env.company.id)])
        )
        cls.provider.write(
            {"state": "test", "journal_id": cls.company_data["default_journal_bank"].id}
        )
        return cls.provider

    @classmethod
    def _create_plan(cls, name, price=20.0, product=None, **values):
        return create_plan(cls.env, name, product or cls.product_pro, price, **values)

    @classmethod
    def _create_subscription(
        cls, plan=None, partner=None, start="2026-03-01", **values
    ):
        return cls.env["subscription.subscription"].create(
            {
                "partner_id": (partner or cls.customer).id,
                "plan_id": (plan or cls.plan_monthly).id,
                "date_start": start,
                **values,
            }
        )

    def _run_billing(self, on_date=None):
        """Run the scheduled action as the cron would, commits patched out."""
        with patch.object(
            type(self.env["ir.cron"]), "_commit_progress", return_value=float("inf")
        ):
            self.env["subscription.subscription"]._cron_generate_invoices()

    @staticmethod
    def _invoices(subscriptions):
        return subscriptions.period_ids.invoice_id.sorted("invoice_date")

    @contextmanager
    def _assert_no_new_invoices(self):
        before = self.env["account.move"].search_count([])
        yield
        self.assertEqual(self.env["account.move"].search_count([]), before)

    @staticmethod
    def _date(value):
        return fields.Date.to_date(value)


GRADUATED = [
    {"from_units": 0, "to_units": 1000, "unit_price": 0.10},
    {"from_units": 1000, "to_units": 10000, "unit_price": 0.05},
    {"from_units": 10000, "to_units": 0, "unit_price": 0.01},
]


class UsageCommon(SubscriptionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Metric = cls.env["subscription.metric"]
        cls.metric_api = Metric.create(
            {"name": "API calls", "code": "api_calls", "aggregation": "sum"}
        )
        cls.product_api = cls._create_product(
            name="API calls", lst_price=0.0, type="service"
        )
        cls.plan_usage = cls._create_usage_plan("API plan")

    @classmethod
    def _usage_line(cls, metric=None, product=None, **values):
        vals = {
            "line_type": "usage",
            "product_id": (product or cls.product_api).id,
            "name": (metric or cls.metric_api).name,
            "metric_id": (metric or cls.metric_api).id,
            "charge_model": "graduated",
            "tier_ids": [Command.create(tier) for tier in GRADUATED],
        }
        vals.update(values)
        return Command.create(vals)

    @classmethod
    def _create_usage_plan(cls, name, lines=None, **values):
        plan = cls._create_plan(name, price=20.0, **values)
        plan.line_ids = lines or [cls._usage_line()]
        return plan

    def _start(self, plan=None, start="2026-03-01", **values):
        with freeze_time(start):
            sub = self._create_subscription(
                plan=plan or self.plan_usage, start=start, **values
            )
            sub.action_start()
        return sub

    def _send(self, sub, events, metric="api_calls", user=None):
        """Ingest ``events`` ``(key, timestamp, quantity[, properties])``."""
        batch = []
        for event in events:
            key, moment, quantity, *properties = event
            batch.append(
                {
                    "idempotency_key": key,
                    "subscription": sub.name,
                    "metric": metric,
                    "timestamp": moment,
                    "quantity": quantity,
                    "properties": properties[0] if properties else {},
                }
            )
        Usage = self.env["subscription.usage"].with_user(user or self.billing_user)
        return Usage.ingest(batch)

    def _bill(self, on_date):
        with freeze_time(on_date):
            self._run_billing()


class SaleCommon(SubscriptionCommon):
    """Quotations that sell subscriptions: a salesperson (Sales rights only), a
    monthly plan with a seat product, and a one-time setup fee."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesperson = new_test_user(
            cls.env,
            login="salesperson",
            groups="sales_team.group_sale_salesman",
            company_id=cls.env.company.id,
            company_ids=[Command.set(cls.env.company.ids)],
        )
        cls.product_setup = cls._create_product(
            name="Setup fee", lst_price=100.0, type="service"
        )
        cls.plan_seats = cls._create_plan(
            "Seats monthly", price=10.0, product=cls.product_seat
        )

    def _create_quotation(
        self, lines, plan=None, start="2026-03-01", user=None, **values
    ):
        """A quotation of ``lines`` (``(product, quantity)`` or
        ``(product, quantity, price_unit)``) on ``plan`` (default: seats)."""
        order_lines = []
        for product, quantity, *price in lines:
            vals = {"product_id": product.id, "product_uom_qty": quantity}
            if price:
                vals["price_unit"] = price[0]
            order_lines.append(Command.create(vals))
        vals = {
            "partner_id": self.customer.id,
            "subscription_plan_id": (plan or self.plan_seats).id
            if plan is not False
            else False,
            "subscription_start_date": start,
            "order_line": order_lines,
            **values,
        }
        return self.env["sale.order"].with_user(user or self.salesperson).create(vals)


# === COMMITTED DATA (several workers at once) === #


def db_name():
    """The test database's name (the concurrency tests open their own cursors)."""
    names = config["db_name"]
    return names[0] if isinstance(names, list | tuple) else names


@contextmanager
def committed_env():
    """A new connection and environment, committed on success."""
    with sql_db.db_connect(db_name()).cursor() as cr:
        yield api.Environment(cr, SUPERUSER_ID, {})


class CommittedCase(BaseCase):
    """Tests that commit on connections of their own, from several threads.

    Odoo's runner holds the registry lock (``Registry._lock``) while it runs
    the tests, and the ORM takes it (``Registry(name)``, reloading models after
    a serialization failure): the threads would wait for it forever. Each
    test gives them a lock of their own, as another worker's process has, and
    as Odoo's test mode does for HTTP tests (``Registry.enter_test_mode``).
    """

    def setUp(self):
        super().setUp()
        self.patch(Registry, "_lock", threading.RLock())
