"""File helpers every layer shares: whole-or-nothing writes and streamed sha256."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path


def temp_beside(path: Path, suffix: str | None = None) -> Path:
    """A fresh hidden name in `path`'s folder that ends in `suffix` (default: `path`'s own suffix).

    The suffix stays last so a tool that picks its format by extension (ffmpeg, espeak-ng) still does;
    the stem keeps word characters only, so the name is safe in an ffmpeg tee or concat spec.
    """
    stem = re.sub(r"[^\w-]", "_", path.stem)[:40]
    end = path.suffix if suffix is None else suffix
    return path.with_name(f".{stem}.{secrets.token_hex(6)}.part{end}")


@contextlib.contextmanager
def replacing(path: Path, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temp path beside `path` to write into; on success it replaces `path`, on any error it goes.

    For writers that stream into a file of their own (ffmpeg, a TTS engine, a copy): only a complete file
    ever reaches `path`, and a reader never sees half of one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_beside(path, suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):  # on a read-only mount even this unlink fails
            tmp.unlink(missing_ok=True)


def write_atomic(path: Path, data: bytes, *, fsync: bool = True) -> Path:
    """Write a file whole or not at all (temp file in the same folder, fsync, then rename).

    `fsync=False` skips the flush to disk where a torn file after a power cut is detected and redone.
    """
    # Not mkstemp: its 0600 mode would survive the rename; "x" mode gives the usual umask permissions.
    with replacing(path) as tmp, tmp.open("xb") as handle:
        handle.write(data)
        if fsync:
            handle.flush()
            os.fsync(handle.fileno())
    return path


def existing_parent(path: Path) -> Path:
    """The path itself if it exists, else its nearest existing parent (where its file system is)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def file_sha256(path: Path) -> str:
    """sha256 of a file, streamed."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
