from . import subscription_invoice_wizard
from . import subscription_close_wizard
