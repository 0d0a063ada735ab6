"""Allow ``python -m dualcontrol``."""

from dualcontrol.cli import main

main()
