from . import subscription_cohort
from . import subscription_dunning_recovery
from . import subscription_dunning_recovery_step
