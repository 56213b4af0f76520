"""Finding the report fonts checks their glyphs: Liberation Serif 2.x passes, 1.07 is refused in one line."""

from __future__ import annotations

import dataclasses
import shutil
import unicodedata
from pathlib import Path

import pytest
from test_printable import aired, compliance_document, log_document

from broadcaster.errors import ToolMissingError
from broadcaster.reports import printable as P
from broadcaster.reports.chart import weekly_airtime_png
from broadcaster.reports.fonts import (
    FONT_DIRS,
    VIETNAMESE_LETTERS,
    SerifFonts,
    check_serif_fonts,
    find_serif_fonts,
    missing_glyphs,
)
from broadcaster.reports.pdf import compliance_pdf, programme_log_pdf

OLD_DIR = Path("/usr/share/fonts/truetype/liberation")  # fonts-liberation 1.07, installed by scripts/setup
NEW_DIR = Path("/usr/share/fonts/truetype/liberation2")  # fonts-liberation2 2.x
HEADING = "ỦY BAN NHÂN DÂN PHƯỜNG PHÚ THỨ"


@pytest.fixture
def old_faces(tmp_path: Path) -> Path:
    """A font directory holding only the four Liberation Serif 1.07 faces."""
    faces = sorted(OLD_DIR.glob("LiberationSerif-*.ttf"))
    assert len(faces) == 4, "scripts/setup installs fonts-liberation (1.07) beside fonts-liberation2"
    folder = tmp_path / "fonts"
    folder.mkdir()
    for face in faces:
        shutil.copy(face, folder)
    return folder


def refusal(dirs: list[Path], text: str = "") -> str:
    with pytest.raises(ToolMissingError) as caught:
        find_serif_fonts(dirs, text=text)
    return str(caught.value)


def test_the_alphabet_is_twelve_vowels_in_six_tones_and_d_in_both_cases() -> None:
    assert len(VIETNAMESE_LETTERS) == len(set(VIETNAMESE_LETTERS)) == 146
    assert unicodedata.normalize("NFC", VIETNAMESE_LETTERS) == VIETNAMESE_LETTERS
    lower = {c for c in VIETNAMESE_LETTERS if c.islower()}
    assert len(lower) == 73 and {c.upper() for c in lower} == set(VIETNAMESE_LETTERS) - lower
    assert set("aàáảãạưừứửữựđĐƠỚỢỴ") <= set(VIETNAMESE_LETTERS)


def test_liberation_serif_2_covers_the_alphabet_and_is_found_first() -> None:
    fonts = find_serif_fonts(text=HEADING)
    assert fonts.faces == tuple(
        NEW_DIR / f"LiberationSerif-{face}.ttf" for face in ("Regular", "Bold", "Italic", "BoldItalic")
    )
    assert fonts.family == "Liberation Serif"
    assert [missing_glyphs(face, VIETNAMESE_LETTERS) for face in fonts.faces] == ["", "", "", ""]


def test_liberation_serif_1_07_lacks_most_toned_letters(old_faces: Path) -> None:
    for face in sorted(old_faces.iterdir()):
        missing = missing_glyphs(face, VIETNAMESE_LETTERS)
        assert len(missing) == 92, face.name  # it has the 54 letters of Latin-1 and Latin Extended-A
        assert missing_glyphs(face, HEADING) == "ỦƯỜỨ", face.name
        assert "â" not in missing and "đ" not in missing and "ư" in missing and "ơ" in missing


def test_missing_glyphs_names_each_character_once_in_order_and_skips_newlines() -> None:
    face = OLD_DIR / "LiberationSerif-Regular.ttf"
    assert missing_glyphs(face, "Ủy ban\nỦy ban\tphường") == "Ủườ"
    assert missing_glyphs(face, "") == ""


def test_a_directory_of_1_07_faces_is_refused_in_one_vietnamese_line_naming_the_package(
    old_faces: Path,
) -> None:
    message = refusal([old_faces])
    assert "\n" not in message
    assert message.startswith(
        f"Phông Liberation Serif ở {old_faces} thiếu 92 chữ tiếng Việt (ả, ạ, ằ, ắ, ẳ, ẵ, …)"
    )
    assert message.endswith("Cài phông đủ chữ tiếng Việt: sudo apt-get install fonts-liberation2.")
    assert unicodedata.normalize("NFC", message) == message
    # The document's own missing characters come first.
    assert "thiếu 92 chữ tiếng Việt (Ủ, Ư, Ờ, Ứ, ả, ạ, …)" in refusal([old_faces], text=HEADING)


def test_a_refused_directory_does_not_stop_the_search(old_faces: Path) -> None:
    fonts = find_serif_fonts([old_faces, NEW_DIR])
    assert fonts.regular == NEW_DIR / "LiberationSerif-Regular.ttf"


def test_a_character_no_face_has_is_named_with_what_to_do() -> None:
    message = refusal(list(FONT_DIRS), text="Bản tin 漢 📢 \u0085")
    assert "thiếu 2 ký tự cần in (漢, 📢)" in message  # U+0085 is a control character: never drawn
    assert message.endswith(
        "— Bỏ ký tự đó khỏi nội dung cần in: không phông nào ở đây có nó "
        "(phông tiếng Việt: sudo apt-get install fonts-liberation2)."
    )


def test_no_faces_at_all_name_the_package(tmp_path: Path) -> None:
    message = refusal([tmp_path])
    assert message == (
        "Không tìm thấy phông chữ Liberation Serif (hoặc Times New Roman) để in báo cáo. — "
        "Cài phông đủ chữ tiếng Việt: sudo apt-get install fonts-liberation2."
    )


def test_a_damaged_face_covers_nothing(tmp_path: Path) -> None:
    for face in ("Regular", "Bold", "Italic", "BoldItalic"):
        (tmp_path / f"LiberationSerif-{face}.ttf").write_bytes(b"not a font" * 100)
    assert "thiếu 146 chữ tiếng Việt" in refusal([tmp_path])


def test_times_new_roman_file_names_of_windows_are_found(tmp_path: Path) -> None:
    # Windows names its Times New Roman faces times*.ttf; Liberation 2 stands in for it here.
    for face, name in zip(("Regular", "Bold", "Italic", "BoldItalic"), ("", "bd", "i", "bi"), strict=True):
        shutil.copy(NEW_DIR / f"LiberationSerif-{face}.ttf", tmp_path / f"times{name}.ttf")
    fonts = find_serif_fonts([tmp_path])
    assert (fonts.family, fonts.bold.name) == ("Times New Roman", "timesbd.ttf")


def old_fonts(folder: Path) -> SerifFonts:
    regular, bold, italic, bold_italic = (
        folder / f"LiberationSerif-{face}.ttf" for face in ("Regular", "Bold", "Italic", "BoldItalic")
    )
    return SerifFonts(regular, bold, italic, bold_italic)


def test_the_pdf_and_chart_writers_refuse_faces_they_are_handed_that_lack_glyphs(old_faces: Path) -> None:
    fonts = old_fonts(old_faces)
    with pytest.raises(ToolMissingError, match="fonts-liberation2"):
        compliance_pdf(compliance_document(), fonts)
    with pytest.raises(ToolMissingError, match="fonts-liberation2"):
        programme_log_pdf(log_document(), fonts)
    weeks, series = P.weekly_series(compliance_document().weekly)
    with pytest.raises(ToolMissingError, match=r"\(ờ, ư, ợ, ầ, ả"):  # "Thời lượng phát theo tuần"
        weekly_airtime_png(weeks, series, fonts)
    assert check_serif_fonts(find_serif_fonts(), "Thời lượng") == find_serif_fonts()


def test_the_pdf_writer_checks_the_documents_own_text() -> None:
    document = log_document()
    odd = dataclasses.replace(aired(document.week.start, "MD", 60.0, "Bản tin 漢"))
    with pytest.raises(ToolMissingError, match=r"thiếu 1 ký tự cần in \(漢\)"):
        programme_log_pdf(dataclasses.replace(document, records=(*document.records, odd)))
