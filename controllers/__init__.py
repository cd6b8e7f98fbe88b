from . import usage
from . import portal
