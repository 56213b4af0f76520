"""Serif faces for the printed reports (Liberation Serif, Times-metric), checked to cover Vietnamese."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from broadcaster.errors import ToolMissingError

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/liberation2"),
    Path("/usr/share/fonts/truetype/liberation"),
    Path("/usr/share/fonts/truetype/msttcorefonts"),
    Path("C:/Windows/Fonts"),
)
FONT_PACKAGE = (
    "fonts-liberation2"  # Debian's Liberation 2.x; fonts-liberation (1.07) lacks most toned letters
)

# (family, file names of the regular, bold, italic and bold italic faces) in order of preference.
_FAMILIES: tuple[tuple[str, tuple[str, str, str, str]], ...] = (
    (
        "Liberation Serif",
        (
            "LiberationSerif-Regular.ttf",
            "LiberationSerif-Bold.ttf",
            "LiberationSerif-Italic.ttf",
            "LiberationSerif-BoldItalic.ttf",
        ),
    ),
    ("Times New Roman", ("times.ttf", "timesbd.ttf", "timesi.ttf", "timesbi.ttf")),  # Windows
    (
        "Times New Roman",  # Debian's ttf-mscorefonts-installer
        (
            "Times_New_Roman.ttf",
            "Times_New_Roman_Bold.ttf",
            "Times_New_Roman_Italic.ttf",
            "Times_New_Roman_Bold_Italic.ttf",
        ),
    ),
)

_VOWELS = "aăâeêioôơuưy"
_TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # ngang, huyền, sắc, hỏi, ngã, nặng
_LOWER = "".join(unicodedata.normalize("NFC", vowel + tone) for vowel in _VOWELS for tone in _TONES) + "đ"
VIETNAMESE_LETTERS = _LOWER + _LOWER.upper()  # 12 vowels × 6 tones + đ, both cases: 146 letters


@dataclass(frozen=True)
class SerifFonts:
    """Paths of the four faces of one Times-metric serif family (Liberation Serif or Times New Roman)."""

    regular: Path
    bold: Path
    italic: Path
    bold_italic: Path
    family: str = "Liberation Serif"

    @property
    def faces(self) -> tuple[Path, Path, Path, Path]:
        """The four face files: regular, bold, italic, bold italic."""
        return (self.regular, self.bold, self.italic, self.bold_italic)


@lru_cache(maxsize=64)
def _codepoints(path: str, mtime_ns: int, size: int) -> frozenset[int]:
    # Keyed by mtime and size too, so a font upgraded while the process runs is read again.
    from reportlab.pdfbase.ttfonts import TTFontFile  # loads slowly: only when a font is checked

    try:
        face = TTFontFile(path, charInfo=1, validate=0)
    except Exception:  # reportlab raises TTFError, struct.error or IndexError on a damaged file
        return frozenset()  # a face that cannot be read covers nothing
    return frozenset(face.charToGlyph or ())


def _covered(font_path: Path) -> frozenset[int]:
    try:
        stat = font_path.stat()
    except OSError:
        return frozenset()
    return _codepoints(str(font_path), stat.st_mtime_ns, stat.st_size)


def missing_glyphs(font_path: Path | str, text: str) -> str:
    """The characters of `text` (each once, in order) the font maps to no glyph; controls are never drawn."""
    covered = _covered(Path(font_path))
    return "".join(
        char
        for char in dict.fromkeys(text)
        if ord(char) not in covered and unicodedata.category(char) != "Cc"
    )


def _lacking(fonts: SerifFonts, text: str) -> str:
    lacking = "".join(missing_glyphs(face, text) for face in fonts.faces)
    return "".join(dict.fromkeys(lacking))


def _shown(chars: str, limit: int = 6) -> str:
    shown = [c if c.isprintable() and not c.isspace() else f"U+{ord(c):04X}" for c in chars[:limit]]
    return ", ".join(shown) + (", …" if len(chars) > limit else "")


def _coverage_error(fonts: SerifFonts, lacking: str) -> ToolMissingError:
    vietnamese = any(char in VIETNAMESE_LETTERS for char in lacking)
    what = "chữ tiếng Việt" if vietnamese else "ký tự cần in"
    install = f"sudo apt-get install {FONT_PACKAGE}"
    hint = f"Cài phông đủ chữ tiếng Việt: {install}."
    if not vietnamese:  # the alphabet is there: the document holds a rarer character
        hint = f"Bỏ ký tự đó khỏi nội dung cần in: không phông nào ở đây có nó (phông tiếng Việt: {install})."
    return ToolMissingError(
        f"Phông {fonts.family} ở {fonts.regular.parent} thiếu {len(lacking)} {what} ({_shown(lacking)}), "
        "báo cáo in ra sẽ có ô trống thay chữ.",
        hint,
    )


def check_serif_fonts(fonts: SerifFonts, text: str = "") -> SerifFonts:
    """`fonts` if every face has a glyph for every Vietnamese letter and every character of `text`."""
    lacking = _lacking(fonts, text + VIETNAMESE_LETTERS)
    if lacking:
        raise _coverage_error(fonts, lacking)
    return fonts


def find_serif_fonts(dirs: Sequence[Path] = FONT_DIRS, text: str = "") -> SerifFonts:
    """The first family in `dirs` whose four faces cover the Vietnamese alphabet and `text`.

    A family lacking any glyph is refused: with none left, ToolMissingError names the missing
    characters (the document's own first) and the package to install.
    """
    needed = text + VIETNAMESE_LETTERS
    refused: tuple[SerifFonts, str] | None = None
    for folder in dirs:
        for family, names in _FAMILIES:
            regular, bold, italic, bold_italic = (folder / name for name in names)
            fonts = SerifFonts(regular, bold, italic, bold_italic, family)
            if not all(path.is_file() for path in fonts.faces):
                continue
            lacking = _lacking(fonts, needed)
            if not lacking:
                return fonts
            refused = refused or (fonts, lacking)  # report the most preferred family
    if refused is not None:
        raise _coverage_error(*refused)
    raise ToolMissingError(
        "Không tìm thấy phông chữ Liberation Serif (hoặc Times New Roman) để in báo cáo.",
        f"Cài phông đủ chữ tiếng Việt: sudo apt-get install {FONT_PACKAGE}.",
    )
