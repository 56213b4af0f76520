"""Abbreviation lexicons: the shipped TOML file plus station files (TOML or CSV) that override it."""

from __future__ import annotations

import csv
import hashlib
import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from broadcaster.errors import SpeechError

# File names looked up in the data home, applied in this order (CSV last, so it wins).
STATION_LEXICON_NAMES: tuple[str, ...] = ("lexicon.toml", "lexicon.csv")
_TABLES = {"words": "word", "document_types": "type", "document_codes": "code"}
_SCOPES = frozenset(_TABLES.values())
_TOML_LINE_RE = re.compile(r"at line (\d+)")
_HINT_TOML = 'Mỗi dòng có dạng "UBND" = "ủy ban nhân dân" (viết tắt và cách đọc đều đặt trong dấu ngoặc kép).'
_HINT_CSV = "Mỗi dòng có dạng UBND,ủy ban nhân dân (thêm ,type hoặc ,code cho ký hiệu văn bản)."


@dataclass(frozen=True)
class Lexicon:
    """Abbreviation → spoken words, split by where they apply."""

    words: Mapping[str, str] = field(default_factory=dict)
    document_types: Mapping[str, str] = field(default_factory=dict)
    document_codes: Mapping[str, str] = field(default_factory=dict)

    @property
    def entries(self) -> Mapping[str, str]:
        """The abbreviations read wherever they stand (the `words` table)."""
        return self.words

    def code(self, code: str) -> str | None:
        """Spoken form of one part of a document number: types, then codes, then words."""
        return self.document_types.get(code) or self.document_codes.get(code) or self.words.get(code)

    def merged(self, other: Lexicon) -> Lexicon:
        """A new lexicon where `other`'s entries add to and override this one's."""
        return Lexicon(
            {**self.words, **other.words},
            {**self.document_types, **other.document_types},
            {**self.document_codes, **other.document_codes},
        )

    def digest(self) -> str:
        """A stable hash of every entry (part of the normaliser fingerprint and render cache keys)."""
        text = repr(sorted((t, k, v) for t, d in self._tables().items() for k, v in d.items()))
        return hashlib.sha256(text.encode()).hexdigest()

    def _tables(self) -> dict[str, Mapping[str, str]]:
        return {
            "words": self.words,
            "document_types": self.document_types,
            "document_codes": self.document_codes,
        }

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        """Read a lexicon file (.toml or .csv); any problem is a SpeechError naming file and line."""
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise SpeechError(
                f"Không đọc được tệp từ điển viết tắt {path}: {exc.strerror or exc}.",
                "Kiểm tra đường dẫn và quyền đọc tệp.",
            ) from exc
        try:
            text = unicodedata.normalize("NFC", raw.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise SpeechError(
                f"Tệp từ điển viết tắt {path}, dòng {line}: không phải mã UTF-8.",
                "Hãy lưu tệp với bảng mã UTF-8.",
            ) from exc
        suffix = path.suffix.lower()
        if suffix == ".toml":
            return cls.from_toml(text, str(path))
        if suffix == ".csv":
            return cls.from_csv(text, str(path))
        raise SpeechError(
            f"Tệp từ điển viết tắt {path} không phải .toml hoặc .csv.",
            "Hãy dùng tệp lexicon.toml hoặc lexicon.csv.",
        )

    @classmethod
    def from_toml(cls, text: str, source: str) -> Lexicon:
        """Parse TOML text: tables words/document_types/document_codes; top-level keys count as words."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            found = _TOML_LINE_RE.search(str(exc))
            where = f", dòng {found.group(1)}" if found else ""
            raise SpeechError(
                f"Tệp từ điển viết tắt {source}{where}: sai cú pháp ({exc}).", _HINT_TOML
            ) from exc
        tables: dict[str, dict[str, str]] = {name: {} for name in _TABLES}
        for key, value in data.items():
            if isinstance(value, dict):
                if key not in _TABLES:
                    line = _line_of(text, f"[{key}]")
                    raise SpeechError(
                        f"Tệp từ điển viết tắt {source}, dòng {line}: bảng [{key}] không được hỗ trợ.",
                        "Chỉ dùng các bảng [words], [document_types], [document_codes].",
                    )
                for abbr, spoken in value.items():
                    tables[key][abbr] = _checked(abbr, spoken, source, _line_of(text, abbr), _HINT_TOML)
            else:
                tables["words"][key] = _checked(key, value, source, _line_of(text, key), _HINT_TOML)
        return cls(tables["words"], tables["document_types"], tables["document_codes"])

    @classmethod
    def from_csv(cls, text: str, source: str) -> Lexicon:
        """Parse CSV lines `abbr,spoken[,scope]` (scope word|type|code); skips '#' lines and a header."""
        tables: dict[str, dict[str, str]] = {name: {} for name in _TABLES}
        by_scope = {scope: name for name, scope in _TABLES.items()}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            row = [cell.strip() for cell in next(csv.reader([line]))]
            if [c.casefold() for c in row[:2]] == ["abbr", "spoken"]:
                continue
            if len(row) not in (2, 3):
                raise SpeechError(
                    f"Tệp từ điển viết tắt {source}, dòng {number}: cần 2 hoặc 3 cột, có {len(row)} cột.",
                    _HINT_CSV,
                )
            scope = row[2].casefold() if len(row) == 3 and row[2] else "word"
            if scope not in _SCOPES:
                raise SpeechError(
                    f"Tệp từ điển viết tắt {source}, dòng {number}: phạm vi '{row[2]}' không hợp lệ.",
                    "Cột thứ ba chỉ nhận word, type hoặc code.",
                )
            tables[by_scope[scope]][row[0]] = _checked(row[0], row[1], source, number, _HINT_CSV)
        return cls(tables["words"], tables["document_types"], tables["document_codes"])


def _line_of(text: str, key: str) -> int:
    """The first line that defines `key` (bare or quoted), for error messages; 0 if not found."""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith((f'"{key}"', f"'{key}'", key)):
            return number
    return 0


def _checked(abbr: str, spoken: Any, source: str, line: int, hint: str) -> str:
    """Validate one entry; the spoken form must be words only, so the normaliser never re-reads it."""
    problem = None
    if not abbr or any(c.isspace() for c in abbr):
        problem = f"viết tắt '{abbr}' trống hoặc chứa khoảng trắng"
    elif not isinstance(spoken, str) or not spoken.strip():
        problem = f"cách đọc của '{abbr}' phải là một chuỗi chữ không trống"
    elif any(c.isdigit() for c in spoken):
        problem = f"cách đọc của '{abbr}' chứa chữ số; hãy viết số bằng chữ"
    if problem:
        raise SpeechError(f"Tệp từ điển viết tắt {source}, dòng {line}: {problem}.", hint)
    assert isinstance(spoken, str)
    return " ".join(spoken.split())


def load_lexicon(path: Path) -> Lexicon:
    """Load a station lexicon file (.toml or .csv); errors name the file and line number."""
    return Lexicon.load(path)


def default_lexicon() -> Lexicon:
    """The lexicon shipped in the package (broadcaster/speech/lexicon.toml)."""
    text = resources.files("broadcaster.speech").joinpath("lexicon.toml").read_text(encoding="utf-8")
    return Lexicon.from_toml(unicodedata.normalize("NFC", text), "lexicon.toml (gói broadcaster)")


def station_lexicon(data_home: Path, base: Lexicon | None = None) -> Lexicon:
    """The shipped lexicon (or `base`) overridden by lexicon.toml then lexicon.csv in the data home."""
    lexicon = base if base is not None else default_lexicon()
    for name in STATION_LEXICON_NAMES:
        path = data_home / name
        if path.is_file():
            lexicon = lexicon.merged(load_lexicon(path))
    return lexicon
