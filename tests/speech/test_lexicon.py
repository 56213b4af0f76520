"""Abbreviation lexicons (shipped and station files) and bulletin text validation."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from broadcaster.errors import InputError, SpeechError
from broadcaster.speech.lexicon import Lexicon, default_lexicon, load_lexicon, station_lexicon
from broadcaster.speech.normalize import Normalizer, validate_text


def test_shipped_lexicon_has_the_required_entries() -> None:
    lexicon = default_lexicon()
    assert len(lexicon.words) >= 30
    required = {
        "UBND": "ủy ban nhân dân",
        "HĐND": "hội đồng nhân dân",
        "MTTQ": "mặt trận tổ quốc",
        "VH-XH": "văn hóa xã hội",
        "TDTT": "thể dục thể thao",
        "LĐ-TB&XH": "lao động thương binh và xã hội",
        "THCS": "trung học cơ sở",
        "THPT": "trung học phổ thông",
        "Đ/c": "đồng chí",
        "TP.": "thành phố",
        "KH": "kế hoạch",
        "CAND": "công an nhân dân",
        "BCH": "ban chấp hành",
    }
    for abbr, spoken in required.items():
        assert lexicon.entries[abbr] == spoken
    assert lexicon.code("NĐ") == "nghị định"
    assert lexicon.code("CP") == "chính phủ"
    assert lexicon.code("BTTTT") == "bộ thông tin và truyền thông"
    assert lexicon.code("UBND") == "ủy ban nhân dân"


def test_every_shipped_entry_is_read(tmp_path: Path) -> None:
    normalizer = Normalizer()
    for abbr, spoken in default_lexicon().words.items():
        assert normalizer.normalize(f"của {abbr} phường") == f"của {spoken} phường.", abbr


def test_station_toml_overrides_and_extends(tmp_path: Path) -> None:
    (tmp_path / "lexicon.toml").write_text(
        '"CLB" = "câu lạc bộ"\n[words]\n"UBND" = "ủy ban"\n[document_codes]\n"UBND" = "ủy ban phường"\n',
        encoding="utf-8",
    )
    lexicon = station_lexicon(tmp_path)
    normalizer = Normalizer(lexicon)
    assert normalizer.normalize("của CLB và UBND") == "của câu lạc bộ và ủy ban."
    assert normalizer.normalize("Kế hoạch số 5/KH-UBND") == "Kế hoạch số năm của ủy ban phường."
    assert lexicon.words["HĐND"] == "hội đồng nhân dân"
    assert Normalizer(lexicon).fingerprint != Normalizer().fingerprint


def test_station_csv_with_header_comments_and_scopes(tmp_path: Path) -> None:
    (tmp_path / "lexicon.csv").write_text(
        "abbr,spoken\n# câu lạc bộ\n\nCLB,câu lạc bộ\nTB,thông báo,type\nBQLDA,ban quản lý dự án,code\n"
        '"TT-VH","trung tâm văn hóa"\n',
        encoding="utf-8-sig",
    )
    normalizer = Normalizer(station_lexicon(tmp_path))
    assert normalizer.normalize("của CLB, TT-VH") == "của câu lạc bộ, trung tâm văn hóa."
    assert normalizer.normalize("theo 7/TB-BQLDA") == "theo thông báo số bảy của ban quản lý dự án."
    assert normalizer.normalize("BQLDA") == "BQLDA."


def test_csv_wins_over_toml_in_the_data_home(tmp_path: Path) -> None:
    (tmp_path / "lexicon.toml").write_text('"CLB" = "câu lạc bộ"\n', encoding="utf-8")
    (tmp_path / "lexicon.csv").write_text("CLB,câu lạc bộ thể thao\n", encoding="utf-8")
    assert station_lexicon(tmp_path).words["CLB"] == "câu lạc bộ thể thao"


def test_missing_station_files_leave_the_shipped_lexicon(tmp_path: Path) -> None:
    assert station_lexicon(tmp_path) == default_lexicon()


@pytest.mark.parametrize(
    ("name", "content", "line", "fragment"),
    [
        ("lexicon.csv", "abbr,spoken\nCLB,câu lạc bộ\nHTX\n", 3, "2 hoặc 3 cột"),
        ("lexicon.csv", "CLB,câu lạc bộ,word,extra\n", 1, "2 hoặc 3 cột"),
        ("lexicon.csv", "CLB,câu lạc bộ\nĐT2,điện thoại 2\n", 2, "chữ số"),
        ("lexicon.csv", "CLB,câu lạc bộ,issuer\n", 1, "phạm vi"),
        ("lexicon.csv", "CLB,\n", 1, "không trống"),
        ("lexicon.csv", "C LB,câu lạc bộ\n", 1, "khoảng trắng"),
        ("lexicon.toml", '"CLB" = "câu lạc bộ"\n"HTX" = hợp tác xã\n', 2, "sai cú pháp"),
        ("lexicon.toml", '[words]\n"CLB" = "câu lạc bộ"\n"HTX" = 5\n', 3, "chuỗi chữ"),
        ("lexicon.toml", '[words]\n"CLB" = "câu lạc bộ"\n[others]\n"X" = "ích"\n', 3, "[others]"),
    ],
)
def test_malformed_station_file_names_file_and_line(
    tmp_path: Path, name: str, content: str, line: int, fragment: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SpeechError) as caught:
        load_lexicon(path)
    assert str(path) in caught.value.message
    assert f"dòng {line}" in caught.value.message
    assert fragment in caught.value.message
    assert caught.value.hint


def test_station_lexicon_raises_on_malformed_file(tmp_path: Path) -> None:
    (tmp_path / "lexicon.csv").write_text("CLB\n", encoding="utf-8")
    with pytest.raises(SpeechError, match="dòng 1"):
        station_lexicon(tmp_path)


def test_non_utf8_and_unknown_suffix(tmp_path: Path) -> None:
    latin = tmp_path / "lexicon.csv"
    latin.write_bytes("CLB,câu lạc bộ\nHTX,hợp tác xã\n".encode("cp1258", errors="replace"))
    with pytest.raises(SpeechError, match="UTF-8"):
        load_lexicon(latin)
    other = tmp_path / "lexicon.txt"
    other.write_text("CLB,câu lạc bộ\n", encoding="utf-8")
    with pytest.raises(SpeechError, match=r"\.toml hoặc \.csv"):
        load_lexicon(other)
    with pytest.raises(SpeechError, match="Không đọc được"):
        load_lexicon(tmp_path / "absent.csv")


def test_lexicon_merge_is_non_destructive() -> None:
    base = Lexicon({"A1": "một"})
    merged = base.merged(Lexicon({"A1": "hai", "B": "ba"}))
    assert dict(merged.words) == {"A1": "hai", "B": "ba"}
    assert dict(base.words) == {"A1": "một"}


def test_all_caps_keys_are_case_sensitive_and_whole_token() -> None:
    normalizer = Normalizer()
    assert normalizer.normalize("ubnd Ubnd UBNDs XUBND") == "ubnd Ubnd UBNDs XUBND."
    assert normalizer.normalize("Đ/C Lan, đ/c Hoa") == "Đồng chí Lan, đồng chí Hoa."


# --- validate_text -----------------------------------------------------------------------------
def test_validate_returns_nfc_text() -> None:
    decomposed = unicodedata.normalize("NFD", "Thông báo\r\ntiêm chủng\tđợt hai")
    assert validate_text(decomposed) == "Thông báo\ntiêm chủng\tđợt hai"


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
def test_validate_rejects_empty_text(text: str) -> None:
    with pytest.raises(InputError) as caught:
        validate_text(text)
    assert caught.value.message == "Nội dung bản tin trống."
    assert caught.value.hint is not None and caught.value.hint.startswith("Hãy nhập nội dung")


def test_validate_rejects_too_long_text() -> None:
    assert validate_text("a" * 5000) == "a" * 5000
    with pytest.raises(InputError, match="5001 ký tự, vượt giới hạn 5000 ký tự") as caught:
        validate_text("a" * 5001)
    assert caught.value.hint and "chia thành nhiều bản tin" in caught.value.hint
    with pytest.raises(InputError, match="giới hạn 10 ký tự"):
        validate_text("Thông báo khẩn", max_chars=10)


@pytest.mark.parametrize(
    ("text", "where"), [("ab\x07c", "dòng 1, cột 3"), ("dòng một\nx\x00", "dòng 2, cột 2")]
)
def test_validate_rejects_control_characters(text: str, where: str) -> None:
    with pytest.raises(InputError) as caught:
        validate_text(text)
    assert "ký tự điều khiển" in caught.value.message
    assert where in caught.value.message
    assert caught.value.hint and caught.value.hint.startswith("Hãy xóa")


def test_validate_rejects_a_lone_carriage_return() -> None:
    with pytest.raises(InputError, match="U\\+000D"):
        validate_text("a\rb")
