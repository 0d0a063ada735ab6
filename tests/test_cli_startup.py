"""``dualcontrol --help`` loads no heavy module (speed: benchmarks/bench_cli_startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("fastapi", "uvicorn", "matplotlib", "numba", "plotly", "alembic", "ibis",
         "dualcontrol.web")


def test_help_loads_no_heavy_module() -> None:
    code = ("import sys, json\n"
            "from dualcontrol.cli import main\n"
            "sys.argv = ['dualcontrol', '--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_cli_choices_match_the_core() -> None:
    from dualcontrol import accounting
    from dualcontrol.cli import accounts, monitor
    from dualcontrol.monitoring import engines, pipeline

    assert accounts.LEVELS == accounting.LEVELS
    assert accounts.GRAINS == accounting.GRAINS
    assert [e.value for e in monitor.Engine] == [e.value for e in engines.Engine]
    assert [c.value for c in monitor.Checks] == [c.value for c in pipeline.Checks]
