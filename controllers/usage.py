# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json
import re

from odoo import http
from odoo.exceptions import AccessDenied, AccessError, UserError, ValidationError
from odoo.http import Response, request

from ..const import MAX_BATCH, MAX_BODY_SIZE, USAGE_ROUTE
from ..models.subscription_usage import loads_exact

BEARER = re.compile(r"^bearer\s+(.+)$", re.IGNORECASE)


class UsageController(http.Controller):
    """Usage ingestion over HTTP: ``POST /subscription_billing/usage``.

    Authenticated with an Odoo API key (``Authorization: Bearer <key>``); the
    body is ``{"events": [...]}`` (at most 1,000 events, 10 MiB). The answer
    lists each event's outcome in order (see ``subscription.usage.ingest``):
    a bad event is refused alone, with a code. A body that cannot be read as
    a batch gets one JSON error, ``{"error": {"code": ..., "message": ...}}``,
    and nothing of it is written. Numbers are read exactly (never through a
    float). The body is read as JSON whatever its content type (a form type
    too: ``ir.http._pre_dispatch`` keeps it before the form parser).
    """

    @http.route(
        USAGE_ROUTE,
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def ingest_usage(self, **kwargs):
        uid = self._authenticate()
        if not uid:
            return self._error(
                401,
                "unauthorized",
                "Send an Odoo API key in the header 'Authorization: Bearer <key>'.",
            )
        request.update_env(user=uid)
        payload = self._read_body()
        if isinstance(payload, Response):
            return payload
        events = payload.get("events") if isinstance(payload, dict) else None
        if not isinstance(events, list) or set(payload) != {"events"}:
            return self._error(
                400,
                "invalid_body",
                'Send {"events": [...]}: a list of usage events, nothing else.',
            )
        if len(events) > MAX_BATCH:
            return self._error(
                413,
                "batch_too_large",
                f"A batch holds at most {MAX_BATCH} events (got {len(events)}).",
            )
        try:
            answers = request.env["subscription.usage"].ingest(events)
        except (AccessError, AccessDenied) as error:
            request.env.cr.rollback()
            return self._error(403, "forbidden", str(error))
        except (UserError, ValidationError) as error:
            request.env.cr.rollback()
            return self._error(400, "invalid_batch", str(error))
        counts = {}
        for answer in answers:
            counts[answer["status"]] = counts.get(answer["status"], 0) + 1
        return self._json(200, {"results": answers, "counts": counts})

    def _read_body(self):
        """The body as JSON, numbers exact, or an error response."""
        httprequest = request.httprequest
        too_large = self._error(
            413,
            "body_too_large",
            f"A request body holds at most {MAX_BODY_SIZE} bytes: split the batch.",
        )
        if (httprequest.content_length or 0) > MAX_BODY_SIZE:
            return too_large
        data = httprequest.get_data()
        if len(data) > MAX_BODY_SIZE:
            return too_large
        try:
            return loads_exact(data or b"null")
        except RecursionError:
            return self._error(
                400, "json_too_deep", "The body nests too deeply to be read."
            )
        except ValueError as error:
            return self._error(
                400, "invalid_json", f"The body is not JSON: {str(error)[:200]}."
            )

    def _authenticate(self):
        header = request.httprequest.headers.get("Authorization") or ""
        match = BEARER.match(header)
        if not match:
            return None
        return request.env["res.users.apikeys"]._check_credentials(
            scope="rpc", key=match.group(1).strip()
        )

    def _error(self, status, code, message):
        return self._json(status, {"error": {"code": code, "message": message}})

    def _json(self, status, body):
        return request.make_response(
            json.dumps(body, default=str),
            headers=[("Content-Type", "application/json")],
            status=status,
        )
