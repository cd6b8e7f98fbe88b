from . import usage
from . import portal
from . import sale_renewal
from . import portal_discount
from . import portal_wallet
