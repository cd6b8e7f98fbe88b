# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Subscription Billing",
    "summary": "Recurring plans, subscriptions and exact, idempotent invoicing",
    "version": "19.0.1.0.0",
    "category": "Accounting/Subscriptions",
    "website": "https://github.com/subscription-billing/subscription_billing",
    "author": "subscription_billing contributors",
    "maintainers": ["subscription-billing"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "application": True,
    "installable": True,
    "depends": ["account", "portal", "uom"],
    "data": [
        "security/subscription_billing_security.xml",
        "security/ir.model.access.csv",
        "data/ir_sequence_data.xml",
        "data/subscription_close_reason_data.xml",
        "data/mail_activity_type_data.xml",
        "data/ir_cron_data.xml",
        "wizards/subscription_invoice_wizard_views.xml",
        "wizards/subscription_close_wizard_views.xml",
        "wizards/subscription_preview_wizard_views.xml",
        "wizards/subscription_option_wizard_views.xml",
        "views/subscription_metric_views.xml",
        "views/subscription_plan_views.xml",
        "views/subscription_subscription_views.xml",
        "views/subscription_period_views.xml",
        "views/subscription_close_reason_views.xml",
        "views/account_move_views.xml",
        "views/res_partner_views.xml",
        "views/subscription_billing_menus.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "subscription_billing/static/tests/tours/*.js",
        ],
    },
    "demo": [
        "demo/subscription_billing_demo.xml",
    ],
}
