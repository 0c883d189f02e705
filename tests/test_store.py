"""The local database: where it lives, WAL, schema versions, and clear errors (CARD3)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from callsys import store
from callsys.errors import StoreError
from callsys.settings import DATABASE, Settings
from callsys.store import MIGRATIONS, database_path, open_database, schema_version


def test_creates_the_file_named_in_settings_with_the_current_schema(tmp_path: Path) -> None:
    settings = Settings({DATABASE.key: str(tmp_path / "sub" / "dir" / "cs.sqlite3")})
    db = open_database(settings)
    try:
        assert (tmp_path / "sub" / "dir" / "cs.sqlite3").exists()
        assert schema_version(db) == len(MIGRATIONS)
        assert {"calls", "parties", "party_numbers"} <= set(db.table_names())
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] == store.BUSY_TIMEOUT_MS
    finally:
        db.close()


def test_default_location_is_the_platform_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "data_dir", lambda: tmp_path / "data")
    assert database_path(Settings()) == tmp_path / "data" / store.DB_FILENAME
    db = open_database(Settings())
    db.close()
    assert (tmp_path / "data" / store.DB_FILENAME).exists()


def test_reopening_keeps_data_and_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "cs.sqlite3"
    db = open_database(path)
    db.execute("INSERT INTO calls (id, direction, state, started_at) VALUES ('x', 'incoming', 'ended', 't')")
    db.close()
    db = open_database(str(path))
    try:
        assert db.execute("SELECT id FROM calls").fetchall() == [("x",)]
        assert schema_version(db) == len(MIGRATIONS)
    finally:
        db.close()


def test_a_second_connection_sees_committed_writes(tmp_path: Path) -> None:
    path = tmp_path / "cs.sqlite3"
    first, second = open_database(path), open_database(path)
    try:
        first.execute(
            "INSERT INTO calls (id, direction, state, started_at) VALUES ('a', 'incoming', 'ringing', 't')"
        )
        assert second.execute("SELECT count(*) FROM calls").fetchone()[0] == 1
    finally:
        first.close()
        second.close()


def test_garbage_file_is_a_store_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.sqlite3"
    path.write_bytes(b"this is not sqlite" * 500)
    with pytest.raises(StoreError, match=r"broken\.sqlite3.*damaged"):
        open_database(path)


def test_folder_instead_of_file_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a folder"):
        open_database(tmp_path)


def test_unusable_parent_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="Cannot create the folder"):
        open_database(blocker / "db.sqlite3")


def test_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    conn.close()
    with pytest.raises(StoreError, match="newer callsys"):
        open_database(path)


def test_a_failing_migration_leaves_the_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(db: object) -> None:
        store._run(db, "CREATE TABLE half_done (x); SELECT * FROM no_such_table")  # type: ignore[arg-type]

    monkeypatch.setattr(store, "MIGRATIONS", (*MIGRATIONS, broken))
    path = tmp_path / "cs.sqlite3"
    with pytest.raises(StoreError):
        open_database(path)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "half_done" not in tables
    finally:
        conn.close()


def test_memory_database_for_tests() -> None:
    db = open_database(":memory:")
    try:
        assert schema_version(db) == len(MIGRATIONS)
    finally:
        db.close()


def test_memory_database_from_settings() -> None:
    db = open_database(Settings({DATABASE.key: ":memory:"}))
    try:
        assert schema_version(db) == len(MIGRATIONS)
    finally:
        db.close()
    assert not Path(":memory:").exists()


def test_two_processes_opening_a_new_file_at_once_migrate_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second launch (a tel: link) opens the database while the first one migrates it: the
    second waits for the write lock and does not run a step again (ALTER TABLE ADD COLUMN
    failed "duplicate column name" the second time)."""
    import threading
    import time

    started = threading.Event()

    def slow_alter(db: object) -> None:
        started.set()
        time.sleep(0.3)  # the other connection reads the version meanwhile
        store._run(db, "ALTER TABLE calls ADD COLUMN late_column TEXT")  # type: ignore[arg-type]

    monkeypatch.setattr(store, "MIGRATIONS", (*MIGRATIONS, slow_alter))
    path = tmp_path / "cs.sqlite3"
    failures: list[BaseException] = []

    def open_it() -> None:
        try:
            open_database(path).conn.close()
        except BaseException as exc:  # the test reports it
            failures.append(exc)

    first = threading.Thread(target=open_it)
    first.start()
    assert started.wait(10)
    open_it()  # while the first is inside the slow step
    first.join(10)
    assert failures == []
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1
    finally:
        conn.close()
