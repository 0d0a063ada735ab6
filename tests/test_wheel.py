"""The built wheel, installed outside the checkout, works (scripts/wheel-smoke.sh)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_wheel_installs_and_runs_outside_the_checkout() -> None:
    # The smoke venv reuses this interpreter's packages: ~1 min instead of a full install.
    env = {**os.environ, "PYTHON": sys.executable}
    env.pop("PYTHONPATH", None)
    result = subprocess.run(["bash", str(ROOT / "scripts" / "wheel-smoke.sh")], env=env,
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    assert "wheel smoke test passed" in result.stderr
