"""Where the Liberation Serif faces (metric-compatible with Times New Roman, Vietnamese glyphs) live."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from broadcaster.errors import ToolMissingError

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/liberation2"),
    Path("/usr/share/fonts/truetype/liberation"),
    Path("C:/Windows/Fonts"),
)
_FACES = ("Regular", "Bold", "Italic", "BoldItalic")


@dataclass(frozen=True)
class SerifFonts:
    """Paths of the four Liberation Serif faces (metric-compatible with Times New Roman)."""

    regular: Path
    bold: Path
    italic: Path
    bold_italic: Path


def find_serif_fonts(dirs: Sequence[Path] = FONT_DIRS) -> SerifFonts:
    """Locate LiberationSerif-{Regular,Bold,Italic,BoldItalic}.ttf in the first directory holding all four."""
    for folder in dirs:
        paths = [folder / f"LiberationSerif-{face}.ttf" for face in _FACES]
        if all(p.is_file() for p in paths):
            return SerifFonts(*paths)
    raise ToolMissingError(
        "Không tìm thấy phông chữ Liberation Serif để in báo cáo.",
        "Cài gói phông: sudo apt-get install fonts-liberation (phông tương thích Times New Roman).",
    )
