# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    subscription_invoice_email = fields.Selection(
        [
            ("pdf", "PDF attached"),
            ("link", "Link to the invoice"),
        ],
        string="Subscription Invoice Emails",
        required=True,
        default="pdf",
        help="How the billing runs email their invoices. PDF attached: as "
        "Odoo sends them (one PDF rendered per invoice). Link: the email "
        "carries the link to the invoice on the customer portal, no "
        "attachment; the PDF is rendered when someone opens it.",
    )
