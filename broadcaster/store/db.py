"""Database engine, connection pragmas and migrations (Alembic, run programmatically)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, select, text, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.errors import StoreError
from broadcaster.store.models import StationRow

MIGRATIONS = Path(__file__).with_name("migrations")
# Seconds a write waits for another writer (SQLite busy timeout; PostgreSQL lock timeout of plan locks).
BUSY_TIMEOUT_S = 30.0


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine; on SQLite with WAL journaling, foreign keys on and a busy timeout (URL `?timeout=S`)."""
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            db_path = parsed.database or ""
            if db_path and db_path != ":memory:":
                Path(db_path).parent.mkdir(parents=True, exist_ok=True)
            if "timeout" not in parsed.query:
                kwargs.setdefault("connect_args", {"timeout": BUSY_TIMEOUT_S})
        engine = create_engine(url, **kwargs)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
        raise StoreError(
            f"Không dùng được địa chỉ cơ sở dữ liệu '{_hide_password(url)}' (database.url).",
            "Để trống để dùng SQLite trong thư mục dữ liệu, hoặc dùng postgresql+psycopg://...",
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _hide_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def database_label(url: URL) -> str:
    """The database as the operator knows it: the SQLite file's path, or the server URL without password."""
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return url.render_as_string(hide_password=True)


_RESTORE = (
    "Khôi phục tệp từ bản sao lưu; không có bản sao lưu thì đổi tên tệp đó rồi chạy 'broadcaster init'."
)

# (words of the driver's message, SQLSTATE codes or classes, what went wrong, what to do); {db} is the
# SQLite file or the server. The first match wins.
_KNOWN_FAULTS: tuple[tuple[tuple[str, ...], tuple[str, ...], str, str], ...] = (
    (
        ("file is not a database",),
        (),
        "Tệp {db} không phải là cơ sở dữ liệu SQLite (có thể đã bị ghi đè).",
        _RESTORE,
    ),
    (
        ("malformed", "database corrupt"),
        ("XX001", "XX002"),
        "Cơ sở dữ liệu {db} bị hỏng (tệp bị cắt cụt hoặc ghi dở).",
        _RESTORE,
    ),
    (
        ("database is locked", "database table is locked"),
        ("55P03",),
        "Cơ sở dữ liệu {db} đang bị một chương trình khác khóa quá {timeout:g} giây.",
        "Đóng chương trình đang giữ cơ sở dữ liệu (sqlite3, DB Browser, một lệnh đang chạy dở) rồi chạy lại.",
    ),
    (
        ("readonly database",),
        ("25006",),
        "Cơ sở dữ liệu {db} chỉ cho đọc, không ghi được.",
        "Cấp quyền ghi tệp và thư mục chứa nó cho tài khoản chạy broadcaster.",
    ),
    (
        ("database or disk is full",),
        ("53100",),
        "Ổ đĩa chứa cơ sở dữ liệu {db} đã đầy.",
        "Giải phóng dung lượng ổ đĩa rồi chạy lại lệnh.",
    ),
    (
        ("unable to open database file", "disk i/o error"),
        (),
        "Không mở hoặc không đọc ghi được tệp cơ sở dữ liệu {db}.",
        "Kiểm tra thư mục còn đó, ổ đĩa còn gắn và quyền đọc ghi của BROADCASTER_HOME.",
    ),
    (
        ("connection failed", "could not connect", "connection refused", "server closed the connection"),
        ("08", "28", "3D000", "57P01", "57P03"),
        "Không kết nối được cơ sở dữ liệu {db}.",
        "Kiểm tra máy chủ PostgreSQL đang chạy và database.url trong broadcaster.toml.",
    ),
)


def store_error(exc: DBAPIError, url: URL) -> StoreError:
    """One Vietnamese line for a database fault: which file or server, what happened, what to do."""
    orig = exc.orig
    said = str(orig).lower()
    state = getattr(orig, "sqlstate", None)
    state = state if isinstance(state, str) else ""
    label = database_label(url)
    for words, states, message, hint in _KNOWN_FAULTS:
        if any(w in said for w in words) or (state and (state in states or state[:2] in states)):
            return StoreError(message.format(db=label, timeout=_busy_timeout(url)), hint)
    return StoreError(
        f"Cơ sở dữ liệu {label} báo lỗi ({type(orig).__name__}: {orig}).",
        "Chạy 'broadcaster init' để kiểm tra cơ sở dữ liệu, hoặc chạy lại với BROADCASTER_DEBUG=1.",
    )


def _busy_timeout(url: URL) -> float:
    value = url.query.get("timeout")
    try:
        return float(value if isinstance(value, str) else BUSY_TIMEOUT_S)
    except ValueError:
        return BUSY_TIMEOUT_S


@contextmanager
def database_errors(url: URL) -> Iterator[None]:
    """Turn the driver's faults (not a database, corrupt, locked, unreachable) into a StoreError.

    Constraint violations (IntegrityError) pass through: the service that caused one says what it means.
    """
    try:
        yield
    except IntegrityError:
        raise
    except DBAPIError as exc:
        raise store_error(exc, url) from exc


def is_unique_violation(exc: IntegrityError) -> bool:
    """True when the database refused a duplicate (a unique constraint or index), not another rule."""
    state = getattr(exc.orig, "sqlstate", None)
    return state == "23505" or "unique constraint" in str(exc.orig).lower()


def lock_station_plan(session: Session, station_id: int) -> None:
    """Serialise changes to one station's plan until the transaction ends.

    PostgreSQL: a row lock on the station (SELECT ... FOR UPDATE, waiting at most BUSY_TIMEOUT_S).
    SQLite: the database's write lock, taken now by a write to the station row, so that what the
    transaction reads next is the latest committed plan and no other writer can change it before commit
    (pysqlite opens the transaction at the first write; the busy timeout bounds the wait).
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(StationRow).where(StationRow.id == station_id).values(code=StationRow.code),
            execution_options={"synchronize_session": False},
        )
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL lock_timeout = '{int(BUSY_TIMEOUT_S * 1000)}ms'"))
    session.execute(select(StationRow.id).where(StationRow.id == station_id).with_for_update())


def check_database(url: str) -> None:
    """Before `init` writes anything: an existing database must open, pass SQLite's quick check and read."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if not path or path == ":memory:" or not Path(path).exists():
            return  # nothing there yet: init creates it
    engine = make_engine(url)
    try:
        with database_errors(engine.url), engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                problems = [row[0] for row in conn.exec_driver_sql("PRAGMA quick_check")]
                if problems != ["ok"]:
                    raise StoreError(
                        f"Cơ sở dữ liệu {database_label(engine.url)} bị hỏng ({len(problems)} lỗi cấu trúc).",
                        _RESTORE,
                    )
            MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration id shipped with this code (read once: every unit of work checks it)."""
    script = ScriptDirectory.from_config(_alembic_config(create_engine("sqlite://")))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None if never migrated)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> bool:
    """Upgrade to head; returns True if anything was applied."""
    with database_errors(engine.url):
        if current_revision(engine) == head_revision():
            return False
        command.upgrade(_alembic_config(engine), "head")
    return True


def require_migrated(engine: Engine) -> None:
    """Refuse to work on a database that `broadcaster init` has not prepared."""
    with database_errors(engine.url):
        rev = current_revision(engine)
    label = database_label(engine.url)
    if rev is None:
        raise StoreError(f"Cơ sở dữ liệu {label} chưa được khởi tạo.", "Chạy 'broadcaster init' trước.")
    if rev != head_revision():
        raise StoreError(
            f"Cơ sở dữ liệu {label} ở phiên bản cũ.",
            "Chạy 'broadcaster init' để nâng cấp (dữ liệu được giữ nguyên).",
        )


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error.

    A database fault (locked past the busy timeout, corrupt, unreachable) leaves as a StoreError that
    names the database; constraint violations stay IntegrityError for the caller to explain.
    """
    bind = factory.kw.get("bind")
    url = bind.url if isinstance(bind, Engine) else make_url("sqlite://")
    with database_errors(url), factory() as session, session.begin():
        yield session
