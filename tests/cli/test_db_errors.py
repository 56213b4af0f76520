"""Database faults in the CLI are one Vietnamese line naming the file and what to do (issue 10.6).

A file that is not a database, a truncated database, a database locked past the busy timeout during a
write, an unusable database URL, and `init` on a bad database file (which must write nothing).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from seedpaths import SEED

BIN = str(Path(sys.executable).with_name("broadcaster"))


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed console script with offline speech."""
    full = {**os.environ, "BROADCASTER_SPEECH_ENGINES": "espeak", **(env or {})}
    return subprocess.run([BIN, *args], capture_output=True, text=True, env=full, timeout=120, check=False)


def one_vietnamese_line(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """The single error line: exit 1, no traceback, no SQLAlchemy link or driver English."""
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi: "), result.stderr
    line = lines[0]
    for banned in (
        "Traceback",
        "sqlalche.me",
        "Background on this error",
        "DatabaseError",
        "OperationalError",
    ):
        assert banned not in line
    assert "không mong đợi" not in line
    for needle in needles:
        assert needle in line, line
    return line


@pytest.fixture
def home(clean_env: Path) -> Path:
    """An initialised home with the seed station imported."""
    assert run("init").returncode == 0
    assert run("schedule", "import", str(SEED)).returncode == 0
    return clean_env


def _checkpoint(db: Path) -> None:
    """Fold the WAL into the main file, so that cutting the file cuts real data."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def test_a_file_that_is_not_a_database(home: Path) -> None:
    db = home / "broadcaster.db"
    _checkpoint(db)
    db.write_bytes(b"Danh sach ban tin - khong phai co so du lieu\n" * 200)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    line = one_vietnamese_line(run("bulletin", "list"), str(db), "không phải là cơ sở dữ liệu")
    assert "sao lưu" in line and "broadcaster init" in line
    one_vietnamese_line(run("bulletin", "retire", "1", "--as", "lan"), str(db))


def test_a_truncated_database(home: Path) -> None:
    db = home / "broadcaster.db"
    _checkpoint(db)
    with db.open("r+b") as f:
        f.truncate(db.stat().st_size // 2)
    one_vietnamese_line(run("bulletin", "list"), str(db), "bị hỏng", "sao lưu")
    one_vietnamese_line(run("init"), str(db), "bị hỏng")


def test_a_database_locked_during_a_write(home: Path) -> None:
    db = home / "broadcaster.db"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        # A one-second busy timeout (from the URL) instead of the default thirty keeps the test short.
        env = {"BROADCASTER_DATABASE_URL": f"sqlite:///{db}?timeout=1"}
        result = run("bulletin", "retire", "1", "--as", "lan", env=env)
        line = one_vietnamese_line(result, str(db), "đang bị một chương trình khác khóa quá 1 giây")
        assert "chạy lại" in line
        assert run("bulletin", "list", env=env).returncode == 0  # reading is not blocked (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    listed = run("bulletin", "show", "1", "--json")
    assert listed.returncode == 0 and '"status": "approved"' in listed.stdout  # the write did not happen


def test_init_on_a_bad_database_file_writes_nothing(clean_env: Path) -> None:
    clean_env.mkdir(parents=True)
    db = clean_env / "broadcaster.db"
    db.write_bytes(b"\x00garbage, not SQLite\n" * 100)
    one_vietnamese_line(run("init"), str(db), "không phải là cơ sở dữ liệu")
    assert sorted(p.name for p in clean_env.iterdir()) == ["broadcaster.db"]  # no config, no folders
    assert db.read_bytes() == b"\x00garbage, not SQLite\n" * 100


def test_an_unusable_database_url_is_one_line_without_its_password(clean_env: Path) -> None:
    env = {"BROADCASTER_DATABASE_URL": "mysql://tram:matkhau-bi-mat@may-chu/broadcaster"}
    line = one_vietnamese_line(run("user", "list", env=env), "mysql")
    assert "matkhau-bi-mat" not in line
