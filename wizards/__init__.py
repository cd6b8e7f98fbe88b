from . import subscription_invoice_wizard
from . import subscription_close_wizard
from . import subscription_preview_wizard
from . import subscription_option_wizard
