"""dualcontrol: energy-consumption dual control and carbon-peak accounting for a region."""

from dualcontrol.errors import DualControlError, InputError, ReferenceDataError

__version__ = "0.1.0"

__all__ = ["DualControlError", "InputError", "ReferenceDataError", "__version__"]
