from . import test_periods
from . import test_billing
from . import test_bad_input
from . import test_security
from . import test_concurrency
from . import test_ui
from . import test_i18n
from . import test_rating
