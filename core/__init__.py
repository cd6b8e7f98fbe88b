# Pure computation (no Odoo import), testable without a database: billing
# periods and proration (periods), mid-life changes (changes), usage
# aggregation (aggregation), carried-over allowances (allowance), rating by
# charge model (rating) and dunning schedules (dunning).
