# Every test module, so that Odoo's runner (--test-enable) runs what bin/test
# runs; test_suite checks that none is missing.
from . import test_periods
from . import test_billing
from . import test_bad_input
from . import test_security
from . import test_concurrency
from . import test_ui
from . import test_i18n
from . import test_rating
from . import test_aggregation
from . import test_allowance
from . import test_changes
from . import test_usage
from . import test_usage_http
from . import test_usage_concurrency
from . import test_edges
from . import test_usage_hostile
from . import test_usage_money
from . import test_dunning
from . import test_dunning_core
from . import test_mail_templates
from . import test_documents
from . import test_mrr_snapshot
from . import test_portal
from . import test_subscription_changes
from . import test_suite
from . import test_outsider
