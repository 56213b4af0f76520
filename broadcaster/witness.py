"""Signed heads of the as-run chain, kept outside the database so that rewriting rows is not enough.

The chain is unkeyed: whoever can write the database can append a row with correct hashes, or rewrite
and re-hash the whole chain. So after every append the station signs its head (row count and last
hash) with an Ed25519 key that lives in the data home, not in the database, and writes it to
`heads/<station>.json` (and once a day a line to `heads/<station>.log`). `log verify` then checks the
chain against the last signed head: rows deleted or rewritten, or rows appended without a signature,
are caught unless the forger also holds the key. The key's fingerprint is printed by `log verify` and
on reports so an inspector can compare it with the one on paper (or at the district).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import weakref
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from broadcaster.airlog import APPENDED
from broadcaster.errors import AirLogError, BroadcasterError
from broadcaster.files import write_atomic

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from broadcaster.clock import Clock


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignedHead:
    """A station's chain head at one moment, signed by the station key."""

    station: str
    rows: int
    head_hash: str
    at: str  # UTC, ISO 8601 to the millisecond
    key: str  # fingerprint of the public key that signed it
    signature: str  # base64 Ed25519 signature over `payload()`

    def payload(self) -> bytes:
        """The bytes that are signed: every field but the signature, canonical JSON."""
        data = {k: v for k, v in asdict(self).items() if k != "signature"}
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def to_json(self) -> dict[str, Any]:
        """The head as stored and exported."""
        return asdict(self)


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """Short, readable identity of a public key: the first 16 hex digits of sha256 of its raw bytes."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class StationKey:
    """The station's Ed25519 key in `keys/station-ed25519.pem` under the home (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._private: Ed25519PrivateKey | None = None

    def _load(self) -> Ed25519PrivateKey:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        if self._private is not None:
            return self._private
        if self.path.is_file():
            key = serialization.load_pem_private_key(self.path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise AirLogError(
                    f"Khóa của đài {self.path} không phải khóa Ed25519.", "Khôi phục tệp khóa từ bản sao."
                )
        else:
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(self.path, pem)
            os.chmod(self.path, 0o600)
        self._private = key
        return key

    def exists(self) -> bool:
        """True once the key has been created."""
        return self.path.is_file()

    def fingerprint(self) -> str:
        """Fingerprint of this station's public key."""
        return fingerprint(self._load().public_key())

    def sign(self, station: str, rows: int, head_hash: str, at: datetime) -> SignedHead:
        """Sign a head."""
        moment = at.isoformat(timespec="milliseconds")
        unsigned = SignedHead(station, rows, head_hash, moment, self.fingerprint(), "")
        signature = base64.b64encode(self._load().sign(unsigned.payload())).decode()
        return SignedHead(station, rows, head_hash, moment, unsigned.key, signature)

    def check(self, head: SignedHead) -> bool:
        """True when `head` was signed by this key."""
        from cryptography.exceptions import InvalidSignature

        if head.key != self.fingerprint():
            return False
        try:
            self._load().public_key().verify(base64.b64decode(head.signature), head.payload())
        except (InvalidSignature, ValueError):
            return False
        return True


class HeadStore:
    """The signed heads of each station under `heads/` in the home, out of the database writer's reach."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _file(self, station: str) -> Path:
        return self.folder / f"{station}.json"

    def load(self, station: str) -> SignedHead | None:
        """The last signed head of `station`, or None if none was ever written."""
        path = self._file(station)
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return SignedHead(**data)
        except (ValueError, TypeError) as exc:
            raise AirLogError(
                f"Tệp mốc chuỗi {path} bị hỏng ({exc}).", "Tệp này không được sửa tay; khôi phục từ bản sao."
            ) from exc

    def save(self, head: SignedHead) -> None:
        """Replace the station's head, and add a line to its daily log the first time each day."""
        text = json.dumps(head.to_json(), ensure_ascii=False, sort_keys=True)
        write_atomic(self._file(head.station), (text + "\n").encode())
        daily = self.folder / f"{head.station}.log"
        day = head.at[:10]
        last = _last_line(daily)
        if last is None or json.loads(last).get("at", "")[:10] != day:
            with daily.open("a", encoding="utf-8") as fh:
                fh.write(text + "\n")
                fh.flush()
                os.fsync(fh.fileno())

    def _ack_file(self, station: str) -> Path:
        return self.folder / f"{station}.district.json"

    def acknowledged(self, station: str) -> tuple[int, str] | None:
        """(rows, last hash) of the chain as the district last acknowledged holding it, if it ever did."""
        path = self._ack_file(station)
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return int(data["rows"]), str(data["head_hash"])
        except (ValueError, KeyError, TypeError) as exc:
            raise AirLogError(
                f"Tệp xác nhận của huyện {path} bị hỏng ({type(exc).__name__}).",
                "Tệp này không được sửa tay; chạy 'broadcaster sync' để huyện xác nhận lại.",
            ) from exc

    def acknowledge(self, station: str, rows: int, head_hash: str, *, url: str, at: datetime) -> None:
        """Keep the head the district acknowledged (the district is the station's witness)."""
        data = {"rows": rows, "head_hash": head_hash, "acked_at": at.isoformat(), "url": url}
        write_atomic(self._ack_file(station), json.dumps(data).encode())


def _last_line(path: Path) -> str | None:
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines[-1] if lines else None


@dataclass(frozen=True)
class Witness:
    """The station key and the head store together: what signs heads after appends and checks them."""

    key: StationKey
    heads: HeadStore

    def record(self, station: str, rows: int, head_hash: str, at: datetime) -> SignedHead:
        """Sign and store the current head of a station's chain."""
        head = self.key.sign(station, rows, head_hash, at)
        self.heads.save(head)
        return head

    def last(self, station: str) -> SignedHead | None:
        """The stored head, or None; refuses a head this station's key did not sign."""
        head = self.heads.load(station)
        if head is not None and not self.key.check(head):
            raise AirLogError(
                f"Mốc chuỗi đã ký của đài {station} không khớp chữ ký của đài "
                "(tệp mốc đã bị sửa hoặc khóa đã bị thay).",
                "Báo cho lãnh đạo: đối chiếu mã khóa với bản đã ghi; không ký lại khi chưa rõ nguyên nhân.",
            )
        return head


# The witness of each database engine an App built: commits on any session bound to it sign heads.
_BY_ENGINE: weakref.WeakKeyDictionary[Engine, tuple[Witness, Clock]] = weakref.WeakKeyDictionary()


def sign_after_commit(engine: Engine, witness: Witness, clock: Clock) -> None:
    """After every commit on `engine` that appended as-run rows, sign and store each touched station's head.

    Any session counts, whether it came from the App's factory or was bound to a connection by hand (the
    daemon's short-timeout transactions). A failure to write the head (a read-only home) never undoes the
    committed rows: it is logged, and `log verify` then reports the rows after the last signed head.
    """
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    _BY_ENGINE[engine] = (witness, clock)
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


def _engine_of(session: Session) -> Engine | None:
    bind = session.get_bind()
    return getattr(bind, "engine", None)


def _after_commit(session: Session) -> None:
    heads: dict[str, tuple[int, str]] = session.info.pop(APPENDED, None) or {}
    if not heads:
        return
    engine = _engine_of(session)
    found = _BY_ENGINE.get(engine) if engine is not None else None
    if found is None:
        return  # a database no App of this process serves (a test's raw session): nothing to sign with
    witness, clock = found
    for station, (rows, head_hash) in heads.items():
        try:
            witness.record(station, rows, head_hash, clock.now())
        except (OSError, BroadcasterError) as exc:
            log.error("không ký được mốc nhật ký của đài %s: %s", station, exc)


def _after_rollback(session: Session) -> None:
    session.info.pop(APPENDED, None)
