"""Shared test settings."""

from __future__ import annotations

from hypothesis import settings

# Timing deadlines make property tests flaky on a loaded 2-core machine: none here;
# speed is measured in benchmarks/, not in tests.
settings.register_profile("dualcontrol", deadline=None, derandomize=False)
settings.load_profile("dualcontrol")
