#!/usr/bin/env bash
# Installs and starts what the tests need beyond Python packages, then writes
# var/test-env.sh with the environment the tests read. Safe to run again.
#
# PostgreSQL (section at the end): installed with apt-get if missing, then a throwaway
# cluster under var/pg (owned by the `postgres` user when run as root, since the server
# refuses to run as root) on 127.0.0.1:$DUALCONTROL_PG_PORT (default 55432) with a
# database `dualcontrol_test`. Stop it with `scripts/test-services.sh stop`.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
ROOT="$(pwd)"
PORT="${DUALCONTROL_PG_PORT:-55432}"
DB=dualcontrol_test

choose_cluster_dir() {
    PGBASE="$ROOT/var/pg"
    if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1 \
            && ! runuser -u postgres -- test -x "$ROOT/var" 2>/dev/null; then
        # a parent directory (e.g. /root) is closed to the server user: keep the
        # cluster in a per-checkout directory it can reach
        PGBASE="/var/tmp/dualcontrol-pg-$(echo "$ROOT" | md5sum | cut -c1-8)"
    fi
    PGDATA="$PGBASE/data"
    PGRUN="$PGBASE/run"
    PGLOG="$PGBASE/server.log"
}

pg_bindir() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
    done
    command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
    return 1
}

install_postgres() {
    if pg_bindir >/dev/null; then return 0; fi
    echo "test-services: installing PostgreSQL with apt-get" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo -n"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq </dev/null
    $sudo apt-get install -y -qq --no-install-recommends postgresql postgresql-contrib </dev/null >/dev/null
}

# Run a PostgreSQL binary as the cluster owner (postgres when we are root).
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

stop_postgres() {
    local bin
    bin="$(pg_bindir)" || return 0
    if [ -f "$PGDATA/postmaster.pid" ]; then
        as_owner "$bin/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null || true
    fi
}


if [ "${1:-}" = "stop" ]; then
    choose_cluster_dir
    stop_postgres
    exit 0
fi

: > var/test-env.sh

# --- Chromium for the browser tests (tests/browser, marked `browser`) -------------------
# Debian's package; Playwright drives it by its path and never downloads a browser.
# A CJK font so Chinese pages and PDFs render (no web fonts are ever loaded).
if [ ! -x /usr/bin/chromium ]; then
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo -n"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >/dev/null
fi
echo "export DUALCONTROL_CHROMIUM=/usr/bin/chromium" >> var/test-env.sh

# --- Chinese fonts for the pages and the A4 PDF bulletin (issue 20) --------------------
# Debian's fonts-noto-cjk (Noto Sans/Serif CJK SC, SIL OFL): the bulletin's stylesheet
# names it first; Chromium embeds it in the PDF. No web font is ever loaded.
if ! fc-list 2>/dev/null | grep -q "Noto Sans CJK"; then
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo -n"
    if $SUDO apt-get install -y -qq --no-install-recommends fonts-noto-cjk >/dev/null 2>&1 || \
        { $SUDO apt-get update -qq && \
          $SUDO apt-get install -y -qq --no-install-recommends fonts-noto-cjk >/dev/null; }; then
        fc-cache -f >/dev/null 2>&1 || true
    else
        echo "test-services: fonts-noto-cjk not installed; the PDF falls back to another CJK font" >&2
    fi
fi

# --- Spark (issue 8): Java for PySpark local mode -------------------------------------
# The Spark-marked tests run the monitoring pipeline on a local[2] session; they are
# skipped where Java is missing. Java 17 comes from Debian's openjdk-17-jre-headless.
if ! command -v java >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null
    else
        echo "test-services: java not found; Spark tests will be skipped" >&2
    fi
fi
if command -v java >/dev/null 2>&1; then
    {
        echo "export SPARK_LOCAL_IP=127.0.0.1"
        echo "export DUALCONTROL_SPARK_PARTITIONS=1"  # tiny test data: one shuffle partition
    } >> var/test-env.sh
fi
# --- end Spark ------------------------------------------------------------------------

# --- PostgreSQL for the store tests (DUALCONTROL_TEST_PG) ---------------------------------
install_postgres
BIN="$(pg_bindir)"
choose_cluster_dir  # after the install, which creates the postgres user

mkdir -p "$PGRUN"
if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres: "$PGBASE"
fi

if [ ! -f "$PGDATA/PG_VERSION" ]; then
    rm -rf "$PGDATA"
    as_owner "$BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        >/dev/null 2>&1 || as_owner "$BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 \
        --locale=C >/dev/null
fi

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if as_owner "$BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    PORT="$(sed -n 4p "$PGDATA/postmaster.pid")"  # our cluster is up: use its port
else
    # another server (e.g. another checkout's cluster) may hold the port: take the next
    while port_busy "$PORT"; do PORT=$((PORT + 1)); done
    as_owner "$BIN/pg_ctl" -D "$PGDATA" -l "$PGLOG" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $PGRUN -c fsync=off" start >/dev/null
fi

if ! as_owner "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$DB'" postgres | grep -q 1; then
    as_owner "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
fi

cat >> var/test-env.sh <<EOF
export DUALCONTROL_TEST_PG=postgresql+psycopg://postgres@127.0.0.1:$PORT/$DB
EOF
echo "test-services: PostgreSQL on 127.0.0.1:$PORT, database $DB (var/test-env.sh)" >&2
