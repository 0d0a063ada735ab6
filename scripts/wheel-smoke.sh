#!/usr/bin/env bash
# Build the wheel, install it outside the checkout and use it as a user would.
#
#   scripts/wheel-smoke.sh            # dependencies reused from $PYTHON's environment (fast)
#   scripts/wheel-smoke.sh --fresh    # dependencies installed with -c constraints.txt
#
# PYTHON (default .venv/bin/python) builds the wheel and makes the smoke venv. By
# default the smoke venv sees PYTHON's site-packages through a plain path in a .pth
# file (so that environment's editable install of dualcontrol is not activated) and
# gets the wheel with --no-deps: ~20 s. --fresh installs every dependency at its
# pinned version from pip's cache or the index: a few minutes, what a new user does.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
MODE=reuse
[[ "${1:-}" == "--fresh" ]] && MODE=fresh

WORK="$(mktemp -d "${TMPDIR:-/tmp}/dualcontrol-wheel.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
say() { printf '== %s\n' "$*" >&2; }

say "build the wheel"
"$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir "$WORK/dist" "$ROOT" >/dev/null
WHEEL="$(ls "$WORK"/dist/dualcontrol-*.whl)"

say "compare $(basename "$WHEEL") with git ls-files src/dualcontrol"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$ROOT" ls-files src/dualcontrol > "$WORK/tracked.txt"
    "$PYTHON" - "$WHEEL" "$WORK/tracked.txt" <<'EOF'
import sys
import zipfile

wheel, tracked_list = sys.argv[1], sys.argv[2]
names = {n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("dualcontrol/")}
tracked = {line.strip()[len("src/"):] for line in open(tracked_list, encoding="utf-8")
           if line.strip()}
missing = sorted(tracked - names)
if missing:
    sys.exit("files of src/dualcontrol missing from the wheel (pyproject.toml "
             "[tool.setuptools.package-data]):\n  " + "\n  ".join(missing))
other = len([n for n in tracked if not n.endswith(".py")])
print(f"wheel {wheel.rsplit('/', 1)[-1]}: {len(names)} files of the package, "
      f"{other} of them not Python")
EOF
fi

say "install it into a fresh venv ($MODE dependencies)"
"$PYTHON" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
if [[ $MODE == reuse ]]; then
    deps="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    site="$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    echo "$deps" > "$site/_dualcontrol_smoke_deps.pth"
    "$VPY" -m pip install --quiet --no-deps "$WHEEL"
else
    "$VPY" -m pip install --quiet -c "$ROOT/constraints.txt" "$WHEEL"
fi

say "smoke test from an empty directory"
mkdir -p "$WORK/cwd" "$WORK/home"
cd "$WORK/cwd"
export DUALCONTROL_HOME="$WORK/home"
unset DUALCONTROL_DB PYTHONPATH
DC="$WORK/venv/bin/dualcontrol"
"$DC" --help >/dev/null
"$DC" convert 1 t raw_coal --json > convert.json
"$VPY" -c 'import json; d = json.load(open("convert.json")); assert abs(d["tce"] - 0.7143) < 1e-4, d'
"$DC" reference carriers >/dev/null
"$VPY" - "$WORK/venv" "$DC" <<'EOF'
import subprocess
import sys
from pathlib import Path

import dualcontrol
from fastapi.testclient import TestClient

from dualcontrol.regions import make_uscc
from dualcontrol.store import open_store
from dualcontrol.store.migrate import current_revision, head_revision
from dualcontrol.web.server import store_app

venv, dc = Path(sys.argv[1]).resolve(), sys.argv[2]
assert venv in Path(dualcontrol.__file__).resolve().parents, \
    f"dualcontrol imported from {dualcontrol.__file__}, not from the installed wheel"
with open_store() as store:  # a fresh store: every migration runs
    assert current_revision(store) == head_revision(store), "migrations did not run"
# An energy and an economic report through the CLI: the overview needs both (on a store
# without them it fails: web/data.py StoreData._cached compares MAX(id) = NA, and
# prepare_accounts misses gdp_const_10k_yuan).
Path("energy.csv").write_text(
    "统一社会信用代码,企业名称,行政区划代码,统计期,能源名称,消费量,计量单位\n"
    f"{make_uscc('150602', 1)},鄂尔多斯甲公司,150602,2023-01,原煤,1000,吨\n", encoding="utf-8")
Path("gdp.csv").write_text(
    'Region code,Year,Sector,"GDP (10k yuan, current prices)",'
    "GDP index (previous year = 100),Industrial value added (10k yuan)\n"
    "150000,2022,,230000000,104.2,\n150000,2023,,245000000,107.3,\n", encoding="utf-8")
for report, kind in (("energy.csv", "energy"), ("gdp.csv", "economic")):
    subprocess.run([dc, "ingest", report, "--kind", kind, "--user", "smoke"], check=True,
                   stdout=subprocess.DEVNULL)
served = store_app(inputs=None)
try:
    with TestClient(served.app) as client:
        for page in ("/", "/login", "/static/style.css"):
            response = client.get(page)
            assert response.status_code == 200, (page, response.status_code,
                                                  response.text[:500])
        assert "<html" in client.get("/login").text.lower()
finally:
    served.data.store.close()
print(f"web app rendered / and /login from {Path(dualcontrol.__file__).parent}")
EOF
say "wheel smoke test passed"
