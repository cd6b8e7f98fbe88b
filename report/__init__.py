from . import subscription_cohort
from . import subscription_dunning_recovery
