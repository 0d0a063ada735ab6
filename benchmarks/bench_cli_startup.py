"""Start-up time of ``dualcontrol --help`` against ``python -c "import typer"``.

Prints the median wall time of 5 runs of each, measured in the same run, so the figure
compares with the baseline of the same (possibly loaded) machine.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

RUNS = 5


def median_seconds(args: list[str]) -> float:
    """Return the median wall time of running ``args`` [s]."""
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    baseline = median_seconds([sys.executable, "-c", "import typer"])
    help_s = median_seconds([sys.executable, "-m", "dualcontrol", "--help"])
    convert_s = median_seconds([sys.executable, "-m", "dualcontrol", "convert", "1", "t",
                                "raw_coal", "--json"])
    print(f"python -c 'import typer'         {baseline:6.2f} s (baseline, median of {RUNS})")
    print(f"dualcontrol --help               {help_s:6.2f} s ({help_s - baseline:+.2f} s)")
    print(f"dualcontrol convert 1 t raw_coal {convert_s:6.2f} s ({convert_s - baseline:+.2f} s)")


if __name__ == "__main__":
    main()
