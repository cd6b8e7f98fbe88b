# Pure computation (no Odoo import): period arithmetic and proration.
