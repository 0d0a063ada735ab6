"""Tests of the store: migrations on both backends, regions, locking, datasets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from dualcontrol.store import StoreError, open_store, schema
from dualcontrol.store.migrate import current_revision, head_revision


def test_open_migrates_to_head_and_loads_regions(store) -> None:
    assert current_revision(store) == head_revision(store)
    levels = store.read_sql("SELECT level, COUNT(*) AS n FROM regions GROUP BY level")
    counts = dict(zip(levels["level"], levels["n"], strict=True))
    assert counts == {"region": 1, "league": 12, "county": 103}


def test_reopen_keeps_data(store_url: str) -> None:
    first = open_store(store_url)
    with first.begin() as conn:
        conn.execute(schema.users.insert().values(username="alice", role="analyst",
                                                  created_at=sa.func.now()))
    first.close()
    second = open_store(store_url)
    try:
        users = second.read_sql("SELECT username, role, password_hash FROM users")
        assert users.to_dict("records") == [{"username": "alice", "role": "analyst",
                                             "password_hash": None}]
    finally:
        second.close()


def test_sequences_give_distinct_ids(store) -> None:
    with store.begin() as conn:
        ids = [conn.execute(schema.users.insert().values(
            username=f"u{i}", created_at=sa.func.now()).returning(schema.users.c.id)
        ).scalar_one() for i in range(3)]
    assert len(set(ids)) == 3


def test_duckdb_file_is_free_after_close(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'x.duckdb'}"
    open_store(url).close()
    # another process can open it at once (and would wait, not fail, while it is held)
    code = ("from dualcontrol.store import open_store; "
            f"s = open_store({url!r}, lock_timeout_s=5); s.close()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr


def test_default_url_follows_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                         ) -> None:
    from dualcontrol.store import default_url

    monkeypatch.delenv("DUALCONTROL_DB", raising=False)
    monkeypatch.setenv("DUALCONTROL_HOME", str(tmp_path))
    assert default_url() == f"duckdb:///{tmp_path.as_posix()}/dualcontrol.duckdb"
    monkeypatch.setenv("DUALCONTROL_DB", "postgresql+psycopg://u@h/db")
    assert default_url() == "postgresql+psycopg://u@h/db"


def test_unsupported_url_is_refused() -> None:
    with pytest.raises(StoreError, match="unsupported database URL"):
        open_store("sqlite:///x.db")
