"""The audit log's hash chain (issue 19): who changed what, and tampering detected.

Each test tampers with the store the way someone with the file or a database login
would (UPDATE, DELETE, INSERT straight into ``audit_log``) and checks that
``verify_chain`` and ``dualcontrol db check`` name the row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from typer.testing import CliRunner

from dualcontrol.cli import app
from dualcontrol.ingest import ingest_file
from dualcontrol.store import open_store
from dualcontrol.store.audit import GENESIS, chain_hash, os_user, seal_pending, verify_chain
from dualcontrol.store.migrate import alembic_config
from test_ingest import GOOD, TODAY, write_csv


def _imported(store, tmp_path: Path) -> None:
    ingest_file(store, write_csv(tmp_path / "good.csv", GOOD), user="analyst-claim",
                today=TODAY)


def _check(store):
    with store.connect() as conn:
        return verify_chain(conn)


def _audit(store) -> list[tuple]:
    with store.connect() as conn:
        return conn.execute(sa.text(
            "SELECT id, chain_seq, username, os_user, prev_hash, row_hash FROM audit_log "
            "ORDER BY chain_seq")).all()


def test_an_import_seals_its_audit_rows_with_the_claim_and_the_account(
        store, tmp_path: Path) -> None:
    _imported(store, tmp_path)
    rows = _audit(store)
    # two enterprises registered, two enterprise-months created (A 2023-01, B 2023-02)
    assert len(rows) == 4
    assert [r.chain_seq for r in rows] == [1, 2, 3, 4]
    assert {r.username for r in rows} == {"analyst-claim"}  # what --user said
    assert {r.os_user for r in rows} == {os_user()}  # who really ran it
    assert rows[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.row_hash for a, b in itertools.pairwise(rows))
    check = _check(store)
    assert check.intact and check.rows == 4
    assert (check.head_seq, check.head_hash) == (4, rows[-1].row_hash)


def test_a_row_hash_is_sha256_of_the_chain_fields(store, tmp_path: Path) -> None:
    """The hash written out by hand for the first row, from the documented layout."""
    _imported(store, tmp_path)
    with store.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT * FROM audit_log WHERE chain_seq = 1")).mappings().one()
    changed = row["changed_at"]
    changed = changed.replace(tzinfo=dt.UTC) if changed.tzinfo is None else changed
    micros = (changed - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)

    def part(value: object) -> str:
        if value is None:
            return "~"
        text = str(value)
        return f"{len(text.encode())}:{text}"

    fields = [row["id"], micros, row["username"], row["action"], row["entity"],
              row["entity_key"], row["before_json"], row["after_json"], row["submission_id"]]
    content = hashlib.sha256("|".join(part(v) for v in fields).encode()).hexdigest()
    expected = hashlib.sha256(
        f"{GENESIS}|1|{row['os_user']}|{content}".encode()).hexdigest()
    assert row["row_hash"] == expected == chain_hash(GENESIS, 1, row["os_user"], content)


def test_a_changed_row_is_detected(store, tmp_path: Path) -> None:
    _imported(store, tmp_path)
    target = _audit(store)[2].id
    with store.begin() as conn:
        conn.execute(sa.text("UPDATE audit_log SET username = 'mallory' WHERE id = :i"),
                     {"i": target})
    check = _check(store)
    assert not check.intact
    assert check.problems == [f"audit row {target} (position 3) was changed after it was "
                              "written"]


def test_a_deleted_row_is_detected(store, tmp_path: Path) -> None:
    _imported(store, tmp_path)
    target = _audit(store)[1].id
    with store.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE id = :i"), {"i": target})
    [problem] = _check(store).problems
    assert "positions 2..2 of the chain are missing" in problem


def test_rows_cut_from_the_end_are_detected(store, tmp_path: Path) -> None:
    _imported(store, tmp_path)
    with store.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE chain_seq >= 3"))
    [problem] = _check(store).problems
    assert "ends at position 2 but its head says 4" in problem


def test_a_row_added_outside_dualcontrol_is_detected(store, tmp_path: Path) -> None:
    _imported(store, tmp_path)
    with store.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO audit_log (changed_at, username, action, entity, entity_key) "
            "VALUES (:t, 'ghost', 'revise', 'energy_reports', 'x')"),
            {"t": dt.datetime.now(dt.UTC)})
    [problem] = _check(store).problems
    assert "has no seal" in problem


def test_db_check_exits_0_when_intact_and_2_naming_the_row_after_tampering(
        tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'c.duckdb'}"
    with open_store(url) as store:
        _imported(store, tmp_path)
    runner = CliRunner()
    good = runner.invoke(app, ["db", "check"], env={"DUALCONTROL_DB": url})
    assert good.exit_code == 0, good.output
    assert "audit chain of 4 rows, head 4" in good.output
    with open_store(url) as store, store.begin() as conn:
        conn.execute(sa.text("UPDATE audit_log SET after_json = '{}' WHERE chain_seq = 4"))
    bad = runner.invoke(app, ["db", "check", "--json"], env={"DUALCONTROL_DB": url})
    assert bad.exit_code == 2
    assert '"ok": false' in bad.stdout and "(position 4) was changed" in bad.stdout


def test_web_audit_entries_are_sealed_too(store) -> None:
    from dualcontrol.web.store_users import StoreUsers

    users = StoreUsers(store)
    users.audit(username="web-user", action="login", entity="session", entity_key="k1")
    users.audit(username="web-user", action="logout", entity="session", entity_key="k1")
    check = _check(store)
    assert check.intact and check.rows == 2


def test_migration_seals_the_rows_already_there(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'old.duckdb'}"
    with open_store(url, upgrade=False) as store:
        command.upgrade(alembic_config(store), "0004")
        with store.begin() as conn:
            for n in range(3):
                conn.execute(sa.text(
                    "INSERT INTO audit_log (changed_at, username, action, entity, "
                    "entity_key) VALUES (:t, 'old', 'create', 'enterprises', :k)"),
                    {"t": dt.datetime(2025, 1, 1, tzinfo=dt.UTC), "k": str(n)})
    with open_store(url) as store:  # migrates to head
        rows = _audit(store)
        assert [r.chain_seq for r in rows] == [1, 2, 3]
        assert {r.os_user for r in rows} == {"migration 0007"}  # not who wrote them
        assert _check(store).intact


@pytest.mark.postgres
def test_concurrent_writers_on_postgresql_form_one_chain(pg_store) -> None:
    store = pg_store
    now = dt.datetime.now(dt.UTC)

    def write(conn, who: str) -> None:
        conn.execute(sa.text(
            "INSERT INTO audit_log (changed_at, username, action, entity, entity_key) "
            "VALUES (:t, :u, 'create', 'x', :k)"), {"t": now, "u": who, "k": who})
        seal_pending(conn)

    first = store.engine.connect()
    tx = first.begin()
    write(first, "first")
    done: list[object] = []

    def second() -> None:
        try:
            with store.begin() as conn:
                write(conn, "second")  # waits on the chain's head until the first commits
            done.append("ok")
        except Exception as exc:
            done.append(exc)

    worker = threading.Thread(target=second)
    worker.start()
    time.sleep(0.5)
    assert worker.is_alive()
    tx.commit()
    first.close()
    worker.join(timeout=20)
    assert done == ["ok"]
    rows = _audit(store)
    assert [r.username for r in rows] == ["first", "second"]
    assert _check(store).intact


@pytest.fixture
def pg_store():
    from conftest import drop_pg_schema, make_pg_url, pg_base_url

    base = pg_base_url()
    if base is None:
        pytest.skip("DUALCONTROL_TEST_PG not set (run scripts/test-services.sh)")
    url, name = make_pg_url(base)
    store = open_store(url)
    try:
        yield store
    finally:
        store.close()
        drop_pg_schema(base, name)


def test_measures_and_projects_seal_their_audit_rows(store) -> None:
    """The other writers of the audit log (measures registry, project pipeline) seal too."""
    from datetime import date

    from dualcontrol.store import projects as store_projects
    from dualcontrol.store.measures import save_measures
    from test_store_measures import registry

    save_measures(store, registry(), user="ana", file_name="m.xlsx",
                  now=dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC))
    store_projects.add_project(
        store, code="P1", name="Ordos coal-to-olefins", league_code="150600",
        county_code="150627", energy_tce=1.0e6, co2_t=2.6e6, reviewed_on=date(2026, 2, 1),
        username="reviewer1", industry="coal_chemicals", product="coal_to_olefins")
    check = _check(store)
    assert check.rows == 3 and check.intact, check.problems
