# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Usage ingestion and billing on several workers at once, committed for real.

Each worker has its own connection and retries serialization failures as
Odoo's HTTP and RPC layers do (``odoo.service.model.retrying``).
"""

import functools
import threading
from contextlib import contextmanager
from datetime import date

from odoo import Command
from odoo.service.model import retrying
from odoo.tests import tagged

from .common import CommittedCase, committed_env

START = "2026-01-01"


def _ingest(events):
    with committed_env() as env:
        Usage = env["subscription.usage"]
        return retrying(functools.partial(Usage.ingest, events), env)


def _run_in_threads(*targets):
    barrier = threading.Barrier(len(targets))
    errors, results = [], [None] * len(targets)

    def run(index, target):
        try:
            barrier.wait(timeout=30)
            results[index] = target()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [
        threading.Thread(target=run, args=(index, target))
        for index, target in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    return results


@contextmanager
def _metered():
    """Five started usage subscriptions, committed; removed after the test."""
    with committed_env() as env:
        product = env["product.product"].create(
            {"name": "Concurrent calls", "type": "service", "lst_price": 0.0}
        )
        metric = env["subscription.metric"].create(
            {"name": "Concurrent calls", "code": "concurrent_calls"}
        )
        plan = env["subscription.plan"].create(
            {
                "name": "Concurrent metered",
                "invoice_policy": "draft",
                "line_ids": [
                    Command.create(
                        {
                            "line_type": "usage",
                            "product_id": product.id,
                            "metric_id": metric.id,
                            "charge_model": "standard",
                            "usage_unit_price": 1.0,
                        }
                    )
                ],
            }
        )
        partner = env["res.partner"].create({"name": "Concurrent metered customer"})
        subs = env["subscription.subscription"].create(
            [
                {"partner_id": partner.id, "plan_id": plan.id, "date_start": START}
                for __ in range(5)
            ]
        )
        subs.action_start()
        ids = {
            "subs": subs.ids,
            "names": subs.mapped("name"),
            "plan": plan.id,
            "product": product.id,
            "metric": metric.id,
            "partner": partner.id,
        }
    try:
        yield ids
    finally:
        with committed_env() as env:
            subs = env["subscription.subscription"].browse(ids["subs"])
            subs.period_ids.invoice_id.unlink()
            subs.period_ids.unlink()
            env.cr.execute(
                "DELETE FROM subscription_usage WHERE subscription_id = ANY(%s)",
                [ids["subs"]],
            )
            subs.unlink()
            env["subscription.plan"].browse(ids["plan"]).unlink()
            env["subscription.metric"].browse(ids["metric"]).unlink()
            env["product.product"].browse(ids["product"]).unlink()
            env["res.partner"].browse(ids["partner"]).unlink()


def _events(names, prefix, count, month):
    return [
        {
            "idempotency_key": f"{prefix}-{n}",
            "subscription": names[n % len(names)],
            "metric": "concurrent_calls",
            "timestamp": f"2026-{month:02d}-{1 + n % 28:02d}T12:00:00Z",
            "quantity": 1 + n % 3,
        }
        for n in range(count)
    ]


@tagged("post_install", "-at_install")
class TestConcurrentUsage(CommittedCase):
    def setUp(self):
        super().setUp()
        self.metered = self.enterContext(_metered())

    def test_the_same_batch_from_two_workers_is_recorded_once(self):
        metered = self.metered
        batch = _events(metered["names"], "twice", 300, 1)
        first, second = _run_in_threads(lambda: _ingest(batch), lambda: _ingest(batch))
        assert [a["status"] for a in first] == ["accepted"] * 300
        assert first == second
        with committed_env() as env:
            assert (
                env["subscription.usage"].search_count(
                    [("subscription_id", "in", metered["subs"])]
                )
                == 300
            )

    def test_usage_sent_during_billing_is_billed_once(self):
        """Events arriving while their period is invoiced are never lost nor doubled."""
        metered = self.metered
        january = _events(metered["names"], "jan", 200, 1)
        february = _events(metered["names"], "feb", 200, 2)
        _ingest(january[:100])

        def bill(up_to):
            with committed_env() as env:
                subs = env["subscription.subscription"]
                return len(
                    subs._generate_due_invoices(up_to, batch_size=2, commit=True)
                )

        def send_rest():
            for chunk in range(100, 200, 20):
                _ingest(january[chunk : chunk + 20])
            _ingest(february)

        _run_in_threads(functools.partial(bill, date(2026, 3, 1)), send_rest)
        bill(date(2026, 4, 1))  # late events go to this run's invoices
        with committed_env() as env:
            usage = env["subscription.usage"].search(
                [("subscription_id", "in", metered["subs"])]
            )
            assert len(usage) == 400
            assert all(usage.mapped("charge_id")), "every event is rated"
            sent = sum(event["quantity"] for event in january + february)
            lines = env["account.move.line"].search(
                [
                    ("subscription_id", "in", metered["subs"]),
                    ("subscription_usage_details", "!=", False),
                ]
            )
            # 1.00 per unit: what was invoiced is exactly what was used.
            # pytest.approx(sent): within 1e-6 of it, relatively.
            total = sum(lines.mapped("price_subtotal"))
            assert abs(total - sent) <= max(1e-6 * abs(sent), 1e-12)
