# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json

import werkzeug.exceptions

from odoo import models
from odoo.http import request

from ..const import MAX_BODY_SIZE, USAGE_ROUTE


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _pre_dispatch(cls, rule, args):
        """JSON-2 calls of this addon's models (``subscription.*``): a body
        that cannot be read gets one clean JSON error (4xx, with a code, no
        traceback).

        Odoo's JSON-2 dispatcher reads the body after this hook and answers
        a body nested too deeply (RecursionError) or with an integer of more
        than 4,300 digits with a 500 or a 400 that carry the server's
        traceback. The same reading is tried here first, for the models of
        this addon (the ingestion and change APIs), with the usage endpoint's
        size limit.

        The usage endpoint reads its body as JSON whatever its content type:
        the body is kept here, before Odoo parses a form body (``curl -d``
        sends ``application/x-www-form-urlencoded``) and consumes it.
        """
        result = super()._pre_dispatch(rule, args)
        httprequest = request.httprequest
        if (
            rule.rule == USAGE_ROUTE
            and 0 < (httprequest.content_length or 0) <= MAX_BODY_SIZE
        ):
            httprequest.get_data(cache=True)
        model = args.get("__model__")
        if (
            request.dispatcher.routing_type == "json2"
            and isinstance(model, str)
            and model.startswith("subscription.")
        ):
            error = cls._subscription_usage_body_error(request.httprequest)
            if error:
                werkzeug.exceptions.abort(
                    request.make_json_response(
                        {
                            "name": "subscription_billing.invalid_body",
                            "code": error[1],
                            "message": error[2],
                            "arguments": [error[2], error[0]],
                            "context": {},
                            "debug": "",
                        },
                        status=error[0],
                    )
                )
        return result

    @classmethod
    def _subscription_usage_body_error(cls, httprequest):
        """``(status, code, message)`` when the body cannot be read, else None."""
        too_large = (
            413,
            "body_too_large",
            f"A request body holds at most {MAX_BODY_SIZE} bytes: split the batch.",
        )
        if (httprequest.content_length or 0) > MAX_BODY_SIZE:
            return too_large
        if not httprequest.content_length:
            return None
        data = httprequest.get_data(as_text=True)
        if len(data) > MAX_BODY_SIZE:
            return too_large
        try:
            json.loads(data)  # as Odoo's JSON-2 dispatcher reads it
        except RecursionError:
            return 400, "json_too_deep", "The body nests too deeply to be read."
        except ValueError as error:
            return 400, "invalid_json", f"The body is not JSON: {str(error)[:200]}."
        return None
