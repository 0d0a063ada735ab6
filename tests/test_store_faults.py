"""Faults of the store (issue 19): every one a clear message and exit 2, nothing half-stored.

A lock held by another process, a PostgreSQL connection lost mid-command, a full disk,
a truncated store file, two imports registering one enterprise at once, and names too
long for their column. Locks are held by a real second process; the disk fills through
a file-size limit (``RLIMIT_FSIZE``, as ``ulimit -f``) in a child process; the server's
restart is its backend being terminated (what a restart does to every client).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dualcontrol.cli import app
from dualcontrol.errors import InputError
from dualcontrol.ingest import _register_enterprises, ingest_file
from dualcontrol.regions import make_uscc
from dualcontrol.store import (
    StoreDamagedError,
    StoreLockedError,
    StoreUnavailableError,
    open_store,
)
from dualcontrol.store.faults import StoreFullError, store_error
from dualcontrol.store.integrity import check_integrity
from test_ingest import GOOD, TODAY, A, nothing_stored, stored_rows, write_csv

SRC = str(Path(__file__).resolve().parents[1] / "src")
TESTS = str(Path(__file__).resolve().parent)


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([SRC, TESTS])
    env.update(extra)
    return env


class HeldLock:
    """A second process holding the DuckDB file open (as an import or the web does)."""

    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "import duckdb, sys, time\n"
             f"c = duckdb.connect({str(path)!r}); c.execute('SELECT 1')\n"
             "print('held', flush=True); sys.stdin.readline()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "held"

    def release(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=20)

    def __enter__(self) -> HeldLock:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.release()


def _duck(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "store.duckdb"
    open_store(f"duckdb:///{path}").close()
    return path, f"duckdb:///{path}"


# ------------------------------------------------------------------------------ locks

def test_locked_store_is_a_clear_error_after_the_wait_not_a_traceback(tmp_path: Path) -> None:
    path, url = _duck(tmp_path)
    with HeldLock(path) as held:
        started = time.monotonic()
        with pytest.raises(StoreLockedError) as info:
            open_store(url, lock_timeout_s=0.5)
        waited = time.monotonic() - started
        message = str(info.value)
        assert f"process {held.proc.pid}" in message and "gave up after waiting 0.5 s" in message
        assert "nothing of this command was stored" in message
        assert info.value.retry_after_s
        # it waited, but not the old 60 s (generous bound for a loaded machine)
        assert 0.5 <= waited < 15


def test_cli_ingest_on_a_locked_store_exits_2_with_a_message(tmp_path: Path) -> None:
    path, url = _duck(tmp_path)
    data = write_csv(tmp_path / "good.csv", GOOD)
    with HeldLock(path):
        result = CliRunner().invoke(app, ["ingest", str(data), "--wait", "0.5", "--json"],
                                    env={"DUALCONTROL_DB": url})
    assert result.exit_code == 2, result.output
    assert '"reason": "locked"' in result.stdout
    assert "in use by process" in result.output
    with open_store(url) as store:
        assert nothing_stored(store)
    # and once the lock is gone the same command stores the file
    result = CliRunner().invoke(app, ["ingest", str(data)], env={"DUALCONTROL_DB": url})
    assert result.exit_code == 0, result.output


def test_web_answers_503_with_retry_after_while_an_import_holds_the_lock(
        tmp_path: Path) -> None:
    from dualcontrol.web import create_app
    from dualcontrol.web.data import StoreData
    from dualcontrol.web.settings import WebSettings
    from dualcontrol.web.store_users import StoreUsers

    path, url = _duck(tmp_path)
    store = open_store(url, lock_timeout_s=0.3)
    try:
        web = create_app(data=StoreData(store), users=StoreUsers(store),
                         settings=WebSettings(environment="test",
                                              secret_key="test-secret-0123456789"))
        client = TestClient(web)
        with HeldLock(path):
            answer = client.get("/api/accounts", headers={"Authorization": "Bearer x" * 8})
        assert answer.status_code == 503, answer.text
        assert int(answer.headers["Retry-After"]) >= 1
        assert "in use by process" in answer.json()["detail"]
    finally:
        store.close()


# ------------------------------------------------------------------ damaged store file

def _filled_store(tmp_path: Path, rows: int = 300_000) -> Path:
    path, url = _duck(tmp_path)
    with open_store(url) as store, store.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO energy_reports SELECT i, 1, 'X', '2023-01', 'raw_coal', "
            "i * 1.5, 't', 'fuel', 'purchased', NULL FROM range(:n) t(i)"), {"n": rows})
    return path


def _cut_into_the_data(path: Path) -> None:
    """Truncate the file in the middle of the blocks holding energy_reports' rows.

    (Cutting at a fixed fraction may only remove unused blocks, which leaves every row
    readable: that file is not damaged.)
    """
    import duckdb

    with duckdb.connect(str(path), read_only=True) as conn:
        first, last = conn.execute(
            "SELECT MIN(block_id), MAX(block_id) FROM pragma_storage_info('energy_reports') "
            "WHERE block_id >= 0").fetchone()
        block = conn.execute("SELECT block_size FROM pragma_database_size()").fetchone()[0]
    assert last > first + 2  # several blocks of rows, so the cut leaves some and loses some
    with open(path, "r+b") as handle:
        handle.truncate(3 * 4096 + (first + last) // 2 * block)


def test_truncated_store_is_reported_damaged_by_db_upgrade(tmp_path: Path) -> None:
    path = _filled_store(tmp_path)
    url = f"duckdb:///{path}"
    healthy = CliRunner().invoke(app, ["db", "upgrade"], env={"DUALCONTROL_DB": url})
    assert healthy.exit_code == 0, healthy.output
    assert "rows read back in full" in healthy.output
    _cut_into_the_data(path)
    result = CliRunner().invoke(app, ["db", "upgrade"], env={"DUALCONTROL_DB": url})
    assert result.exit_code == 2, result.output
    assert "is damaged" in result.output and "Restore it from a backup" in result.output
    assert "Traceback" not in result.output


def test_integrity_check_reads_every_block(tmp_path: Path) -> None:
    """Opening (and reading the schema version) can succeed on a cut file; the scan not."""
    path = _filled_store(tmp_path)
    url = f"duckdb:///{path}"
    with open_store(url) as store:
        assert check_integrity(store).tables["energy_reports"] == 300_000
    _cut_into_the_data(path)
    with pytest.raises(StoreDamagedError, match="is damaged"), open_store(url) as store:
        check_integrity(store)


# --------------------------------------------------------------------------- full disk

_FILL = """
import resource, signal, sys
from typer.testing import CliRunner
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # as a full disk: write() fails, no signal
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from dualcontrol.cli import app
result = CliRunner().invoke(app, ["ingest", sys.argv[2]])
sys.stdout.write(result.output)
sys.exit(result.exit_code)
"""


def _many_rows(path: Path, enterprises: int = 150) -> Path:
    rows = []
    for n in range(enterprises):
        code = make_uscc("150602", n + 10)
        for year in (2021, 2022, 2023):
            for month in range(1, 13):
                rows.append([code, f"企业{n}", "150602", f"{year}-{month:02d}", "原煤",
                             str(1000 + n + month), "吨", "燃料", "外购"])
    return write_csv(path, rows)


def test_full_disk_during_import_stores_nothing_and_says_so(tmp_path: Path) -> None:
    path, url = _duck(tmp_path)
    data = _many_rows(tmp_path / "many.csv")
    with open_store(url) as store:
        before = store.read_sql("SELECT COUNT(*) AS n FROM submissions")["n"].iloc[0]
    limit = path.stat().st_size + 64 * 1024  # the store may grow by 64 KiB, no more
    done = subprocess.run([sys.executable, "-c", _FILL, str(limit), str(data)],
                          env=_env(DUALCONTROL_DB=url), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "is full" in done.stdout and "nothing of this command was stored" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    with open_store(url) as store:
        assert check_integrity(store).tables["energy_reports"] == 0
        assert store.read_sql("SELECT COUNT(*) AS n FROM submissions")["n"].iloc[0] == before
        assert nothing_stored(store)
        # with room again the same file is stored in full
        result = ingest_file(store, data, today=TODAY)
        assert result.rows_stored == 150 * 36


def test_os_errors_of_a_full_disk_are_explained() -> None:
    import errno

    error = store_error(OSError(errno.ENOSPC, "No space left on device"))
    assert isinstance(error, StoreFullError) and "is full" in str(error)
    assert store_error(OSError(errno.ENOENT, "No such file")) is None
    assert store_error(ValueError("not a store error")) is None


# --------------------------------------------------------------------------- PostgreSQL

@pytest.fixture
def pg_url() -> str:
    from conftest import drop_pg_schema, make_pg_url, pg_base_url

    base = pg_base_url()
    if base is None:
        pytest.skip("DUALCONTROL_TEST_PG not set (run scripts/test-services.sh)")
    url, name = make_pg_url(base)
    # a name of our own, so only this test's connections are ever terminated
    app_name = f"dc_faults_{uuid.uuid4().hex[:10]}"
    try:
        yield f"{url}&application_name={app_name}"
    finally:
        drop_pg_schema(base, name)


def _terminate(url: str) -> int:
    """Terminate every backend of this test (as a server restart does); return how many."""
    app_name = sa.make_url(url).query["application_name"]
    base = sa.make_url(url).set(query={})
    engine = sa.create_engine(base)
    try:
        with engine.begin() as conn:
            return len(conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :a AND pid <> pg_backend_pid()"),
                {"a": app_name}).all())
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_lost_connection_mid_import_is_a_clear_error_and_stores_nothing(
        pg_url: str, tmp_path: Path) -> None:
    data = _many_rows(tmp_path / "many.csv", enterprises=40)
    killed: list[int] = []

    def progress(done: int, total: int) -> None:
        if not killed:
            killed.append(_terminate(pg_url))

    with open_store(pg_url) as store:
        with pytest.raises(StoreUnavailableError) as info:
            ingest_file(store, data, today=TODAY, chunk_rows=100, progress=progress)
        assert killed and killed[0] >= 1
        assert "lost the connection" in str(info.value)
        assert "nothing of this command was stored" in str(info.value)
        # the next command reconnects (the pool drops the dead connection)
        assert nothing_stored(store)


@pytest.mark.postgres
def test_a_read_is_tried_again_once_after_a_lost_connection(pg_url: str) -> None:
    with open_store(pg_url) as store:
        killer = threading.Timer(0.7, _terminate, args=(pg_url,))
        killer.start()
        try:
            frame = store.read_sql("SELECT 42 AS answer FROM pg_sleep(2)")
        finally:
            killer.join()
        assert frame["answer"].tolist() == [42]


@pytest.mark.postgres
def test_two_imports_registering_one_enterprise_at_once_both_succeed(pg_url: str) -> None:
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    new = {A: ("鄂尔多斯甲公司", "150602")}
    with open_store(pg_url) as store:
        first = store.engine.connect()
        tx = first.begin()
        assert _register_enterprises(first, new, "alice", now, 1) == 1
        second_result: list[object] = []

        def second() -> None:
            try:
                with store.begin() as conn:  # blocks on the first's uncommitted key
                    second_result.append(_register_enterprises(conn, new, "bob", now, 2))
            except Exception as exc:  # the old code failed here with a duplicate key
                second_result.append(exc)

        worker = threading.Thread(target=second)
        worker.start()
        time.sleep(0.5)
        assert worker.is_alive()  # waiting for the first transaction
        tx.commit()
        first.close()
        worker.join(timeout=20)
        assert second_result == [0]  # already registered: nothing to insert, no error
        audit = store.read_sql("SELECT username FROM audit_log WHERE entity = 'enterprises'")
        assert audit["username"].tolist() == ["alice"]


def test_long_names_are_refused_with_their_row_on_both_stores(store, tmp_path: Path) -> None:
    rows = [r[:] for r in GOOD]
    long_name = "很" * 201
    rows[0][1] = rows[1][1] = long_name
    with pytest.raises(InputError) as info:
        ingest_file(store, write_csv(tmp_path / "long.csv", rows), today=TODAY)
    problems = [p for p in info.value.problems if p.field == "enterprise_name"]
    assert [p.row for p in problems] == [2, 3]
    assert "at most 200" in problems[0].message
    assert nothing_stored(store)


def test_long_unit_code_is_refused_with_its_row(store, tmp_path: Path) -> None:
    header = ["统一社会信用代码", "企业名称", "行政区划代码", "统计期", "生产装置编号", "产品名称",
              "产量", "计量单位"]
    rows = [[A, "鄂尔多斯甲公司", "150602", "2023-01", "G" * 33, "coal_power", "1000", "MWh"]]
    with pytest.raises(InputError) as info:
        ingest_file(store, write_csv(tmp_path / "out.csv", rows, header=header), "output",
                    today=TODAY)
    [problem] = info.value.problems
    assert (problem.row, problem.field) == (2, "unit_code")
    assert "at most 32" in problem.message
    assert stored_rows(store) == 0


# ------------------------------------------------------------------------- killed import

_IMPORT = """
import sys
from dualcontrol.ingest import ingest_file
from dualcontrol.store import open_store
from test_ingest import TODAY
with open_store(sys.argv[1]) as store:
    print("open", flush=True)
    ingest_file(store, sys.argv[2], today=TODAY, chunk_rows=500)
print("done", flush=True)
"""


@pytest.mark.parametrize("after_s", [0.3, 1.5, 4.0])
def test_an_import_killed_at_any_moment_stores_all_or_nothing(tmp_path: Path,
                                                              after_s: float) -> None:
    """SIGKILL while an import reads, stages or commits: the store is whole afterwards.

    Where the kill lands depends on the machine's speed; whichever it is, the store
    holds either none of the file or all of it, every table reads back in full and the
    audit chain is intact.
    """
    from dualcontrol.store.audit import verify_chain

    _, url = _duck(tmp_path)
    data = _many_rows(tmp_path / "many.csv", enterprises=120)
    child = subprocess.Popen([sys.executable, "-c", _IMPORT, url, str(data)], env=_env(),
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "open"
    time.sleep(after_s)
    child.kill()
    child.wait(timeout=30)
    with open_store(url) as store:
        tables = check_integrity(store).tables
        assert tables["energy_reports"] in (0, 120 * 36)
        assert tables["staging_energy_reports"] == 0 or tables["energy_reports"] == 0
        with store.connect() as conn:
            assert verify_chain(conn).intact
        # and the file can be imported (again) to completion
        ingest_file(store, data, today=TODAY)
        assert stored_rows(store) == 120 * 36
