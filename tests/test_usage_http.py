# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The usage endpoint over real HTTP: API key, batches, per-event answers."""

import json

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged

URL = "/subscription_billing/usage"


@tagged("post_install", "-at_install")
class TestUsageEndpoint(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        income = cls.env.company.income_account_id or cls.env["account.account"].search(
            [("account_type", "=", "income")], limit=1
        )
        product = cls.env["product.product"].create(
            {
                "name": "API calls",
                "type": "service",
                "property_account_income_id": income.id,
            }
        )
        metric = cls.env["subscription.metric"].create(
            {"name": "API calls", "code": "api_calls", "aggregation": "sum"}
        )
        plan = cls.env["subscription.plan"].create(
            {
                "name": "Metered",
                "line_ids": [
                    Command.create(
                        {
                            "line_type": "usage",
                            "product_id": product.id,
                            "metric_id": metric.id,
                            "charge_model": "standard",
                            "usage_unit_price": 0.05,
                        }
                    )
                ],
            }
        )
        customer = cls.env["res.partner"].create({"name": "Initech", "ref": "CUST-42"})
        cls.sub = cls.env["subscription.subscription"].create(
            {
                "partner_id": customer.id,
                "plan_id": plan.id,
                "date_start": fields.Date.today().replace(day=1),
            }
        )
        cls.sub.action_start()
        cls.integration = new_test_user(
            cls.env,
            login="usage_feed",
            groups="subscription_billing.group_subscription_user",
        )
        cls.key = (
            cls.env["res.users.apikeys"]
            .with_user(cls.integration)
            .sudo()
            ._generate(None, "usage feed", None)
        )

    def _post(self, body, key=None, raw=None):
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return self.url_open(
            URL, data=raw if raw is not None else json.dumps(body), headers=headers
        )

    def _event(self, key, quantity=1, **values):
        today = fields.Date.today()
        return {
            "idempotency_key": key,
            "subscription": self.sub.name,
            "metric": "api_calls",
            "timestamp": f"{today}T00:00:00Z",
            "quantity": quantity,
            **values,
        }

    def test_without_or_with_a_wrong_key_nothing_is_written(self):
        body = {"events": [self._event("k1")]}
        for key in (None, "not-a-key"):
            response = self._post(body, key=key)
            self.assertEqual(response.status_code, 401)
            self.assertEqual(response.json()["error"]["code"], "unauthorized")
        self.assertFalse(self.sub.usage_ids)

    def test_batch_answers_per_event_and_retries_are_idempotent(self):
        body = {
            "events": [
                self._event("h1", 10),
                self._event("h2", 20, customer="CUST-42", subscription=None),
                self._event("h3", -1),
                self._event("h4", 5, metric="unknown"),
            ]
        }
        first = self._post(body, key=self.key)
        self.assertEqual(first.status_code, 200)
        answer = first.json()
        self.assertEqual(
            [r["status"] for r in answer["results"]],
            ["accepted", "accepted", "refused", "refused"],
        )
        self.assertEqual(
            [r.get("code") for r in answer["results"][2:]],
            ["negative_quantity", "unknown_metric"],
        )
        self.assertEqual(answer["counts"], {"accepted": 2, "refused": 2})
        again = self._post(body, key=self.key)
        self.assertEqual(again.json(), answer, "a retry gets the same answer")
        self.sub.invalidate_recordset()
        self.assertEqual(sorted(self.sub.usage_ids.mapped("quantity")), [10.0, 20.0])

    def test_bad_bodies_get_json_errors(self):
        response = self._post(None, key=self.key, raw="{not json")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"]["code"], "invalid_json")
        response = self._post({"event": []}, key=self.key)
        self.assertEqual(response.json()["error"]["code"], "invalid_body")
        response = self._post(
            {"events": [self._event(f"b{n}") for n in range(1001)]}, key=self.key
        )
        self.assertEqual(response.status_code, 413)
        self.assertEqual(response.json()["error"]["code"], "batch_too_large")
        self.sub.invalidate_recordset()
        self.assertFalse(self.sub.usage_ids)

    def test_odoo_json2_external_api_ingests_and_previews(self):
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self.key}",
        }
        response = self.url_open(
            "/json/2/subscription.usage/ingest",
            data=json.dumps({"events": [self._event("j1", 7)]}),
            headers=headers,
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()[0]["status"], "accepted")
        response = self.url_open(
            "/json/2/subscription.subscription/preview_next_invoice",
            data=json.dumps({"ids": self.sub.ids}),
            headers=headers,
        )
        self.assertEqual(response.status_code, 200, response.text)
        preview = response.json()
        self.assertEqual(preview["subscription"], self.sub.name)
        self.assertEqual(preview["usage"][0]["quantity"], 7.0)
        self.assertAlmostEqual(preview["usage"][0]["amount"], 0.35)

    def test_odoo_json2_external_api_pauses_and_usage_stops(self):
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self.key}",
        }

        def call(method, **params):
            response = self.url_open(
                f"/json/2/subscription.subscription/{method}",
                data=json.dumps({"ids": self.sub.ids, **params}),
                headers=headers,
            )
            self.assertEqual(response.status_code, 200, response.text)
            return response.json()

        simulated = call("pause", simulate=True)
        self.assertFalse(simulated["change_id"])
        self.assertEqual(simulated["effective_date"], str(fields.Date.today()))
        self.assertEqual(self.sub.state, "active", "a simulation writes nothing")
        paused = call("pause")
        self.assertEqual(paused["state"], "applied")
        self.assertEqual(self.sub.state, "paused")
        response = self.url_open(
            "/json/2/subscription.usage/ingest",
            data=json.dumps({"events": [self._event("during-pause", 3)]}),
            headers=headers,
        )
        answer = response.json()[0]
        self.assertEqual(answer["status"], "refused")
        self.assertEqual(answer["code"], "metric_not_billed")
        self.assertFalse(self.sub.usage_ids, "nothing recorded, nothing lost silently")
