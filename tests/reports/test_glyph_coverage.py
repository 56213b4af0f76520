"""Every character a printed PDF draws has a real glyph in the font embedded for it: no boxes."""

from __future__ import annotations

import dataclasses
import io
import itertools
import re
import struct
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from pypdf import PdfReader
from pypdf.generic import ContentStream, DictionaryObject
from test_printable import LETTERHEAD, aired, compliance_document, log_document

from broadcaster.app import App
from broadcaster.reports import printable as P
from broadcaster.reports.docx import compliance_docx, programme_log_docx
from broadcaster.reports.fonts import VIETNAMESE_LETTERS, find_serif_fonts
from broadcaster.reports.pdf import compliance_pdf, programme_log_pdf
from broadcaster.reports.periods import PeriodKind
from broadcaster.services.documents import compliance_document as stored_compliance_document
from broadcaster.services.documents import programme_log_document, render_document
from broadcaster.services.stations import find_station

OLD_SERIF = Path("/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf")  # fonts-liberation 1.07
# The alphabet in words of one vowel's six tones, so that it wraps like text.
ALPHABET = " ".join(VIETNAMESE_LETTERS[i : i + 6] for i in range(0, len(VIETNAMESE_LETTERS), 6))


@dataclass(frozen=True)
class Drawn:
    """One character shown by a text operator, as the PDF's own font program will paint it."""

    font: str  # the embedded font's name, e.g. AAAAAA+LiberationSerif-Bold
    char: str  # what the font's ToUnicode map says the code is; "\0" is reportlab's code for "no glyph"
    glyph: int  # glyph index in the embedded font program; 0 is .notdef, the box
    inked: bool  # the glyph has outlines

    @property
    def painted(self) -> bool:
        """Whether a reader sees this character: a real glyph, with ink unless it is a space."""
        known = self.char not in ("", "\0")
        return known and self.glyph != 0 and (self.inked or self.char.isspace())


def _tables(program: bytes) -> dict[bytes, bytes]:
    count = struct.unpack_from(">H", program, 4)[0]
    tables = {}
    for i in range(count):
        tag, _, offset, length = struct.unpack_from(">4sLLL", program, 12 + 16 * i)
        tables[tag] = program[offset : offset + length]
    return tables


def _code_to_glyph(cmap: bytes) -> dict[int, int]:
    """The byte-code → glyph map of a simple font's cmap (formats 0 and 6, what subsetters write)."""
    mapping: dict[int, int] = {}
    for i in range(struct.unpack_from(">H", cmap, 2)[0]):
        (offset,) = struct.unpack_from(">L", cmap, 4 + 8 * i + 4)
        (fmt,) = struct.unpack_from(">H", cmap, offset)
        if fmt == 0:
            mapping.update(enumerate(cmap[offset + 6 : offset + 6 + 256]))
        elif fmt == 6:
            first, count = struct.unpack_from(">HH", cmap, offset + 6)
            glyphs = struct.unpack_from(f">{count}H", cmap, offset + 10)
            mapping.update((first + n, glyph) for n, glyph in enumerate(glyphs))
        else:
            raise AssertionError(f"cmap format {fmt} in an embedded subset: teach the test to read it")
    return mapping


def _outline_lengths(tables: dict[bytes, bytes]) -> list[int]:
    (glyphs,) = struct.unpack_from(">H", tables[b"maxp"], 4)
    (long_offsets,) = struct.unpack_from(">h", tables[b"head"], 50)
    if long_offsets:
        loca = struct.unpack_from(f">{glyphs + 1}L", tables[b"loca"])
    else:
        loca = tuple(2 * x for x in struct.unpack_from(f">{glyphs + 1}H", tables[b"loca"]))
    return [end - start for start, end in itertools.pairwise(loca)]


class _EmbeddedFont:
    """A PDF font: its ToUnicode map, and the cmap and outlines of its embedded TrueType program."""

    def __init__(self, font: DictionaryObject) -> None:
        self.name = str(font["/BaseFont"]).lstrip("/")
        descriptor = font.get("/FontDescriptor")
        if font.get("/Subtype") != "/TrueType" or descriptor is None or "/FontFile2" not in descriptor:
            raise AssertionError(f"text drawn in {self.name}, which is not an embedded TrueType font")
        cmap = font["/ToUnicode"].get_data().decode("ascii")
        self.unicode = {
            int(code, 16): chr(int(value, 16))
            for code, value in re.findall(r"<([0-9A-Fa-f]{2})>\s*<([0-9A-Fa-f]{4})>", cmap)
        }
        tables = _tables(descriptor["/FontFile2"].get_data())
        self.glyphs = _code_to_glyph(tables[b"cmap"])
        self.lengths = _outline_lengths(tables)

    def drawn(self, code: int) -> Drawn:
        glyph = self.glyphs.get(code, 0)
        inked = glyph < len(self.lengths) and self.lengths[glyph] > 0
        return Drawn(self.name, self.unicode.get(code, ""), glyph, inked)


def drawn_characters(pdf: bytes) -> list[Drawn]:
    """Every character that the pages' text operators (Tj, TJ, ', ") show, with the glyph painted."""
    reader = PdfReader(io.BytesIO(pdf))
    drawn: list[Drawn] = []
    for page in reader.pages:
        resources = page["/Resources"].get("/Font", {})
        fonts: dict[str, _EmbeddedFont] = {}
        current = ""
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"Tf":  # reportlab also sets its default Helvetica in text objects showing nothing
                current = str(operands[0])
                continue
            if operator in (b"Tj", b"'", b'"'):
                shown = [operands[-1]]
            elif operator == b"TJ":
                shown = [item for item in operands[0] if isinstance(item, str | bytes)]
            else:
                continue
            assert current, "text shown before a font was set"
            font = fonts.get(current) or fonts.setdefault(current, _EmbeddedFont(resources[current]))
            for item in shown:
                raw = getattr(item, "original_bytes", item)
                codes = raw.encode("latin-1") if isinstance(raw, str) else raw
                drawn += [font.drawn(code) for code in codes]
    return drawn


def boxes(pdf: bytes) -> list[Drawn]:
    """The characters drawn as a box or not at all."""
    return [d for d in drawn_characters(pdf) if not d.painted]


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    )
    return unicodedata.normalize("NFC", done.stdout)


def alphabet_letterhead() -> P.Letterhead:
    """A letterhead drawing the alphabet in the regular (parent body), bold and italic (place) faces."""
    return dataclasses.replace(LETTERHEAD, parent_body=ALPHABET, issuing_body=ALPHABET, place=ALPHABET)


def alphabet_log() -> P.ProgrammeLogDocument:
    """The weekly log with one more airing whose title and agency are the whole alphabet."""
    document = log_document()
    extra = dataclasses.replace(aired(document.week.start, "MD", 60.0, ALPHABET), agency=ALPHABET)
    return dataclasses.replace(document, letterhead=alphabet_letterhead(), records=(*document.records, extra))


def heading_lines(pdf: bytes, tmp_path: Path) -> list[str]:
    """The first two lines of the left column of the heading, as pdftotext lays them out."""
    lines = pdftotext(pdf, tmp_path).splitlines()[:2]
    return [re.split(r"\s{2,}", line.strip())[0] for line in lines]  # the motto shares the lines, right


PRINTED: dict[str, Callable[[], bytes]] = {
    "compliance report": lambda: compliance_pdf(compliance_document()),
    "weekly programme log": lambda: programme_log_pdf(log_document()),
}
ALPHABET_PRINTED: dict[str, Callable[[], bytes]] = {
    "compliance report": lambda: compliance_pdf(
        dataclasses.replace(compliance_document(), letterhead=alphabet_letterhead(), intro=ALPHABET)
    ),
    "weekly programme log": lambda: programme_log_pdf(alphabet_log()),
}


@pytest.mark.parametrize("name", PRINTED)
def test_every_character_drawn_has_a_glyph_in_the_embedded_font(name: str, tmp_path: Path) -> None:
    pdf = PRINTED[name]()
    assert len(drawn_characters(pdf)) > 500
    assert boxes(pdf) == []
    assert heading_lines(pdf, tmp_path) == ["ỦY BAN NHÂN DÂN", "PHƯỜNG PHÚ THỨ"]


@pytest.mark.parametrize("name", ALPHABET_PRINTED)
def test_the_whole_alphabet_is_drawn_in_regular_bold_and_italic(name: str) -> None:
    drawn = drawn_characters(ALPHABET_PRINTED[name]())
    assert [d for d in drawn if not d.painted] == []
    by_face: dict[str, set[str]] = {}
    for d in drawn:
        by_face.setdefault(d.font.split("+")[-1], set()).add(d.char)
    for face in ("LiberationSerif", "LiberationSerif-Bold", "LiberationSerif-Italic"):
        assert set(VIETNAMESE_LETTERS) <= by_face[face], face


@pytest.mark.parametrize("kind", ["compliance", "log"])
def test_reports_from_the_seed_station_read_back_their_heading_exactly(
    seeded: App, kind: str, tmp_path: Path
) -> None:
    now = datetime(2023, 4, 10, 3, tzinfo=UTC)
    with seeded.tx() as s:
        station = find_station(s, None)
        document = (
            stored_compliance_document(s, station, None, PeriodKind.MONTH, now=now)
            if kind == "compliance"
            else programme_log_document(s, station, date(2023, 4, 5), now=now)
        )
    pdf = render_document(document, "pdf")
    assert boxes(pdf) == []
    assert heading_lines(pdf, tmp_path) == ["ỦY BAN NHÂN DÂN", "PHƯỜNG PHÚ THỨ"]


# Drawn in a fresh interpreter: reportlab hands out one font per PostScript name, and 1.07 and 2.x
# are both "LiberationSerif".
DRAW_WITH_OLD_FACE = """
import sys
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
pdfmetrics.registerFont(TTFont("Old", sys.argv[1]))
canvas = Canvas(sys.argv[2])
canvas.setFont("Old", 12)
canvas.drawString(72, 720, "ỦY BAN NHÂN DÂN")
canvas.drawString(72, 700, "PHƯỜNG PHÚ THỨ")
canvas.save()
"""


def test_the_checker_sees_the_boxes_a_font_without_the_glyphs_draws(tmp_path: Path) -> None:
    # Drawn with the 1.07 face directly, past the writer's refusal: the check must catch what a reader saw.
    assert OLD_SERIF.is_file(), "scripts/setup installs fonts-liberation (1.07) as well as fonts-liberation2"
    pdf = tmp_path / "boxes.pdf"
    subprocess.run([sys.executable, "-c", DRAW_WITH_OLD_FACE, str(OLD_SERIF), str(pdf)], check=True)
    drawn = drawn_characters(pdf.read_bytes())
    assert len(drawn) == len("ỦY BAN NHÂN DÂNPHƯỜNG PHÚ THỨ")
    # Ủ, Ư, Ờ, Ứ: the 1.07 face has Â, Ú and the ASCII letters only.
    assert [d.char for d in drawn if not d.painted] == ["\0"] * 4
    assert "Y BAN NHÂN DÂN" in pdftotext(pdf.read_bytes(), tmp_path)  # what the issue saw: letters gone


def test_docx_names_times_new_roman_for_every_script_and_embeds_no_font() -> None:
    for data in (
        compliance_docx(compliance_document(), find_serif_fonts()),
        programme_log_docx(log_document()),
    ):
        document = Document(io.BytesIO(data))
        fonts = document.styles["Normal"].element.rPr.rFonts
        slots = {slot: fonts.get(qn(f"w:{slot}")) for slot in ("ascii", "hAnsi", "cs", "eastAsia")}
        assert slots == dict.fromkeys(slots, "Times New Roman")
        # Word uses the reader's Times New Roman, which covers Vietnamese; nothing is embedded to check.
        assert not document.settings.element.findall(qn("w:embedTrueTypeFonts"))
        assert not [
            p for p in document.part.package.iter_parts() if str(p.partname).startswith("/word/fonts/")
        ]
