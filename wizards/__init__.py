from . import subscription_invoice_wizard
from . import subscription_change_wizard
from . import subscription_preview_wizard
from . import subscription_kpi_dashboard
from . import subscription_kpi_dashboard_line
from . import subscription_coupon_wizard
from . import subscription_wallet_credit_wizard
from . import subscription_revenue_schedule_wizard
