"""dualcontrol: energy-consumption dual control and carbon-peak accounting for a region."""

import os

# Arrow's allocator (mimalloc) returns freed memory to the system 10 ms after a free by
# default, so the meter scan, which decodes a day of readings (about 0.5 GiB) at a time,
# had every day's buffers zeroed again by the kernel: 300,000 page faults and 3-4 s of
# system time a month at national scale. Keeping freed pages for reuse costs no peak
# memory. mimalloc reads this when it starts, so it takes effect only where dualcontrol is
# imported before pyarrow (the command line, the server); set it yourself to override.
os.environ.setdefault("MIMALLOC_PURGE_DELAY", "-1")

from dualcontrol.errors import DualControlError, InputError, ReferenceDataError

__version__ = "0.1.0"

__all__ = ["DualControlError", "InputError", "ReferenceDataError", "__version__"]
