"""dualcontrol: energy-consumption dual control and carbon-peak accounting for a region."""

import os

# Arrow's allocator (mimalloc) returns freed memory to the system 10 ms after a free by
# default, so the meter scan, which decodes a day of readings (about 0.5 GiB) at a time,
# had every day's buffers zeroed again by the kernel. Measured on a month of 576 M
# readings: keeping freed pages for reuse cut the scan's page faults from about 300,000
# to 20,000 and its system time by about 3 s, for about 0.3 GiB more peak memory.
# mimalloc reads this when it starts, so it takes effect only where dualcontrol is
# imported before pyarrow (the command line, the server); set it yourself to override.
os.environ.setdefault("MIMALLOC_PURGE_DELAY", "-1")

from dualcontrol.errors import DualControlError, InputError, ReferenceDataError

__version__ = "0.1.0"

__all__ = ["DualControlError", "InputError", "ReferenceDataError", "__version__"]
