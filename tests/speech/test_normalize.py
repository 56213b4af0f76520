"""Table-driven tests of the Vietnamese administrative-text normaliser."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broadcaster.errors import SpeechError
from broadcaster.speech.normalize import (
    NORMALIZER_VERSION,
    DocNumberRule,
    Normalizer,
    Rewrite,
)

SEED = Path("/work/shared/seed/ke-hoach-phong-chong-mai-dam-phu-thu-2023.txt")
Y2023 = "hai nghìn không trăm hai mươi ba"
Y2021 = "hai nghìn không trăm hai mươi mốt"
Y2025 = "hai nghìn không trăm hai mươi lăm"
Y2020 = "hai nghìn không trăm hai mươi"
PHONE = "không chín một hai, ba bốn năm, sáu bảy tám"


@pytest.fixture(scope="module")
def normalizer() -> Normalizer:
    return Normalizer()


def speak(normalizer: Normalizer, text: str) -> str:
    """normalize() without the sentence mark every paragraph ends with."""
    return normalizer.normalize(text).removesuffix(".")


CASES: list[tuple[str, str]] = [
    # --- cardinals -------------------------------------------------------------------------
    ("0", "không"),
    ("1", "một"),
    ("4", "bốn"),
    ("5", "năm"),
    ("10", "mười"),
    ("11", "mười một"),
    ("14", "mười bốn"),
    ("15", "mười lăm"),
    ("20", "hai mươi"),
    ("21", "hai mươi mốt"),
    ("24", "hai mươi tư"),
    ("25", "hai mươi lăm"),
    ("31", "ba mươi mốt"),
    ("44", "bốn mươi tư"),
    ("55", "năm mươi lăm"),
    ("99", "chín mươi chín"),
    ("100", "một trăm"),
    ("101", "một trăm linh một"),
    ("104", "một trăm linh bốn"),
    ("105", "một trăm linh năm"),
    ("110", "một trăm mười"),
    ("115", "một trăm mười lăm"),
    ("121", "một trăm hai mươi mốt"),
    ("1000", "một nghìn"),
    ("1001", "một nghìn không trăm linh một"),
    ("1010", "một nghìn không trăm mười"),
    ("2023", Y2023),
    ("03", "ba"),
    # --- thousands dot ----------------------------------------------------------------------
    ("1.500", "một nghìn năm trăm"),
    ("10.000", "mười nghìn"),
    ("15.000", "mười lăm nghìn"),
    ("21.000", "hai mươi mốt nghìn"),
    ("100.000", "một trăm nghìn"),
    ("1.000.000", "một triệu"),
    ("1.500.000", "một triệu năm trăm nghìn"),
    ("1.000.005", "một triệu không trăm linh năm"),
    ("1.050.000", "một triệu không trăm năm mươi nghìn"),
    ("2.000.000.000", "hai tỷ"),
    ("3.005.000.000", "ba tỷ không trăm linh năm triệu"),
    ("1.000.000.000.000", "một nghìn tỷ"),
    ("mục 1.2", "mục một chấm hai"),
    # --- decimal comma ----------------------------------------------------------------------
    ("2,5", "hai phẩy năm"),
    ("0,5", "không phẩy năm"),
    ("12,25", "mười hai phẩy hai mươi lăm"),
    ("0,05", "không phẩy không năm"),
    ("1.234,5", "một nghìn hai trăm ba mươi tư phẩy năm"),
    ("3,141", "ba phẩy một bốn một"),
    ("năm 2021, 2022", f"năm {Y2021}, hai nghìn không trăm hai mươi hai"),
    # --- percentages ------------------------------------------------------------------------
    ("20%", "hai mươi phần trăm"),
    ("12,5%", "mười hai phẩy năm phần trăm"),
    ("100%", "một trăm phần trăm"),
    ("đạt 95 %", "đạt chín mươi lăm phần trăm"),
    ("từ 20-30%", "từ hai mươi đến ba mươi phần trăm"),
    ("từ 5.000.000đ - 10.000.000đ", "từ năm triệu đồng đến mười triệu đồng"),
    ("năm 2023 - Tăng cường", f"năm {Y2023} Tăng cường"),
    # --- units and money --------------------------------------------------------------------
    ("500.000đ", "năm trăm nghìn đồng"),
    ("500.000 đ", "năm trăm nghìn đồng"),
    ("2.000.000 VNĐ", "hai triệu đồng"),
    ("50.000 đồng", "năm mươi nghìn đồng"),
    ("5 km", "năm ki lô mét"),
    ("5km", "năm ki lô mét"),
    ("50 km/h", "năm mươi ki lô mét trên giờ"),
    ("3 ha", "ba héc ta"),
    ("100 m2", "một trăm mét vuông"),
    ("100m²", "một trăm mét vuông"),
    ("20 kg", "hai mươi ki lô gam"),
    ("1,5 m", "một phẩy năm mét"),
    ("30 cm", "ba mươi xen ti mét"),
    ("10 USD", "mười đô la mỹ"),
    ("5 mẫu", "năm mẫu"),
    ("3 hộ", "ba hộ"),
    ("2 đợt", "hai đợt"),
    ("6 giờ sáng", "sáu giờ sáng"),
    # --- dates ------------------------------------------------------------------------------
    ("03/03/2023", f"ngày ba tháng ba năm {Y2023}"),
    ("ngày 03/03/2023", f"ngày ba tháng ba năm {Y2023}"),
    ("Ngày 03/03/2023", f"Ngày ba tháng ba năm {Y2023}"),
    ("16/3/2023", f"ngày mười sáu tháng ba năm {Y2023}"),
    ("4/4/2024", "ngày bốn tháng tư năm hai nghìn không trăm hai mươi tư"),
    ("01/01/2024", "ngày một tháng một năm hai nghìn không trăm hai mươi tư"),
    ("31.12.2023", f"ngày ba mươi mốt tháng mười hai năm {Y2023}"),
    ("16-3-2023", f"ngày mười sáu tháng ba năm {Y2023}"),
    ("30/4", "ngày ba mươi tháng tư"),
    ("ngày 2/9", "ngày hai tháng chín"),
    ("mùng 5/5", "mùng năm tháng năm"),
    ("từ 1/3 đến 5/3", "từ ngày một tháng ba đến ngày năm tháng ba"),
    ("tháng 3/2023", f"tháng ba năm {Y2023}"),
    ("tháng 03/2023", f"tháng ba năm {Y2023}"),
    ("tháng 12", "tháng mười hai"),
    ("tháng 4", "tháng tư"),
    ("3/2023", f"tháng ba năm {Y2023}"),
    ("ngày 16 tháng 3 năm 2023", f"ngày mười sáu tháng ba năm {Y2023}"),
    ("năm 2023", f"năm {Y2023}"),
    ("năm 1990", "năm một nghìn chín trăm chín mươi"),
    ("năm 2000", "năm hai nghìn"),
    ("năm 2005", "năm hai nghìn không trăm linh năm"),
    ("năm 2010", "năm hai nghìn không trăm mười"),
    ("2021-2025", f"{Y2021} đến {Y2025}"),
    ("2021 – 2025", f"{Y2021} đến {Y2025}"),
    ("2021 - 2025", f"{Y2021} đến {Y2025}"),
    ("2021—2025", f"{Y2021} đến {Y2025}"),
    ("giai đoạn 2021-2025", f"giai đoạn {Y2021} đến {Y2025}"),
    ("từ 5-7 ngày", "từ năm đến bảy ngày"),
    ("45/3", "bốn mươi lăm trên ba"),
    ("50/100 hộ", "năm mươi trên một trăm hộ"),
    # --- times ------------------------------------------------------------------------------
    ("7h30", "bảy giờ ba mươi phút"),
    ("17h", "mười bảy giờ"),
    ("17h00", "mười bảy giờ"),
    ("5h05", "năm giờ năm phút"),
    ("17:30", "mười bảy giờ ba mươi phút"),
    ("6 giờ 30", "sáu giờ ba mươi phút"),
    ("6 giờ 30 phút", "sáu giờ ba mươi phút"),
    ("lúc 5h30 sáng", "lúc năm giờ ba mươi phút sáng"),
    ("7h30'", "bảy giờ ba mươi phút"),
    ("7h30 phút", "bảy giờ ba mươi phút"),
    ("24h", "hai mươi tư giờ"),
    ("từ 7h đến 11h30", "từ bảy giờ đến mười một giờ ba mươi phút"),
    # --- telephone numbers ------------------------------------------------------------------
    ("0912 345 678", PHONE),
    ("0912345678", PHONE),
    ("0912.345.678", PHONE),
    ("0912-345-678", PHONE),
    ("0220.3821.456", "không hai hai không, ba tám hai một, bốn năm sáu"),
    ("024 3825 1234", "không hai bốn, ba tám hai năm, một hai ba bốn"),
    ("+84 912 345 678", "cộng tám bốn, chín một hai, ba bốn năm, sáu bảy tám"),
    ("1900 1234", "một chín không không, một hai ba bốn"),
    ("gọi 113", "gọi một một ba"),
    ("Gọi 115", "Gọi một một năm"),
    ("đường dây nóng 111", "đường dây nóng một một một"),
    ("gọi ngay 114", "gọi ngay một một bốn"),
    ("tổng đài 1022", "tổng đài một không hai hai"),
    ("điện thoại 0912 345 678", f"điện thoại {PHONE}"),
    ("liên hệ ĐT: 0912 345 678", f"liên hệ điện thoại: {PHONE}"),
    ("113 hộ", "một trăm mười ba hộ"),
    ("gọi 200 người", "gọi hai trăm người"),
    # --- Roman numerals and ordinals --------------------------------------------------------
    ("quý IV", "quý bốn"),
    ("Quý I/2023", f"Quý một năm {Y2023}"),
    ("mục II", "mục hai"),
    ("chương III", "chương ba"),
    ("phần V", "phần năm"),
    ("khóa XV", "khóa mười lăm"),
    ("kỳ IX", "kỳ chín"),
    ("Đại hội XIII", "Đại hội mười ba"),
    ("lần thứ XIII", "lần thứ mười ba"),
    ("lần thứ I", "lần thứ nhất"),
    ("thế kỷ XXI", "thế kỷ hai mươi mốt"),
    ("PHẦN II", "Phần hai"),
    ("phần lớn", "phần lớn"),
    ("quý 4", "quý bốn"),
    ("I. MỤC ĐÍCH", "Một. Mục đích"),
    ("II. NỘI DUNG", "Hai. Nội dung"),
    ("IV. TỔ CHỨC THỰC HIỆN", "Bốn. Tổ chức thực hiện"),
    ("1. Mục đích:", "Một. Mục đích"),
    ("thứ 2", "thứ hai"),
    ("thứ 4", "thứ tư"),
    ("Thứ 7", "Thứ bảy"),
    ("lần thứ 1", "lần thứ nhất"),
    ("thứ 14", "thứ mười bốn"),
    # --- document numbers (default rule: natural) -------------------------------------------
    ("Kế hoạch số 61/KH-UBND", "Kế hoạch số sáu mươi mốt của ủy ban nhân dân"),
    ("theo 61/KH-UBND", "theo kế hoạch số sáu mươi mốt của ủy ban nhân dân"),
    ("Số 15/2023/NĐ-CP", f"Nghị định số mười lăm năm {Y2023} của chính phủ"),
    ("Nghị định 30/2020/NĐ-CP", f"Nghị định ba mươi năm {Y2020} của chính phủ"),
    (
        "Thông tư 39/2020/TT-BTTTT",
        f"Thông tư ba mươi chín năm {Y2020} của bộ thông tin và truyền thông",
    ),
    ("Quyết định số 123/QĐ-UBND", "Quyết định số một trăm hai mươi ba của ủy ban nhân dân"),
    ("Báo cáo số 05/BC-UBND", "Báo cáo số năm của ủy ban nhân dân"),
    ("Chỉ thị 12/CT-TTg", "Chỉ thị mười hai của thủ tướng chính phủ"),
    ("Số: /KH-UBND", "Kế hoạch của ủy ban nhân dân"),
    (
        "Thông tư liên tịch 01/2020/TTLT-BYT-BCA",
        f"Thông tư liên tịch một năm {Y2020} của bộ y tế và bộ công an",
    ),
    # --- abbreviations ----------------------------------------------------------------------
    ("UBND phường", "Ủy ban nhân dân phường"),
    ("của UBND", "của ủy ban nhân dân"),
    ("của HĐND", "của hội đồng nhân dân"),
    ("của MTTQ", "của mặt trận tổ quốc"),
    ("công chức VH-XH", "công chức văn hóa xã hội"),
    ("ngành TDTT", "ngành thể dục thể thao"),
    ("phòng LĐ-TB&XH", "phòng lao động thương binh và xã hội"),
    ("trường THCS", "trường trung học cơ sở"),
    ("trường THPT", "trường trung học phổ thông"),
    ("Đ/c Hùng", "Đồng chí Hùng"),
    ("gặp đ/c Hùng", "gặp đồng chí Hùng"),
    ("TP. Hải Dương", "Thành phố Hải Dương"),
    ("tại TP.HCM", "tại thành phố hồ chí minh"),
    ("xây dựng KH", "xây dựng kế hoạch"),
    ("phòng chống HIV/AIDS", "phòng chống hát i vê ết"),
    ("xét nghiệm HIV", "xét nghiệm hát i vê"),
    ("lực lượng CAND", "lực lượng công an nhân dân"),
    ("BCH đoàn", "Ban chấp hành đoàn"),
    ("thẻ BHYT", "thẻ bảo hiểm y tế"),
    ("công tác PCCC", "công tác phòng cháy chữa cháy"),
    ("dịch COVID-19", "dịch cô vít mười chín"),
    ("theo NĐ-CP", "theo nghị định chính phủ"),
    ("kinh tế - xã hội", "kinh tế xã hội"),
    ("ubnd", "ubnd"),
    ("UBNDX", "UBNDX"),
    ("TM. ỦY BAN NHÂN DÂN", "Thay mặt Ủy ban nhân dân"),
    ("KẾ HOẠCH PHÒNG CHỐNG MA TÚY", "Kế hoạch phòng chống ma túy"),
    ("MỤC ĐÍCH, CHỈ TIÊU", "Mục đích, chỉ tiêu"),
    # --- punctuation and lines --------------------------------------------------------------
    ("- Tăng cường tuyên truyền", "Tăng cường tuyên truyền"),
    ("• Nội dung", "Nội dung"),
    ("khẩu hiệu…", "khẩu hiệu"),
    ("băng rôn, khẩu hiệu...; tờ rơi", "băng rôn, khẩu hiệu, tờ rơi"),
    ("cuộc vận động “Toàn dân đoàn kết”", "cuộc vận động Toàn dân đoàn kết"),
    ("về phường (qua công chức Tư pháp) để tổng hợp", "về phường, qua công chức Tư pháp, để tổng hợp"),
    ("cho phù hợp./.", "cho phù hợp"),
    ("ý một;  ý hai", "ý một, ý hai"),
    ("Độc lập – Tự do – Hạnh phúc", "Độc lập, Tự do, Hạnh phúc"),
    ("nhiều   khoảng \t trắng", "nhiều khoảng trắng"),
    ("trên địa \nbàn phường", "trên địa bàn phường"),
    ("Xã \n\nhội", "Xã hội"),
    ("thị xã Kinh \nMôn", "thị xã Kinh Môn"),
    ("dòng một.\nDòng hai", "dòng một.\nDòng hai"),
    ("- Ý một;\n- Ý hai", "Ý một.\nÝ hai"),
    ("và/hoặc", "và hoặc"),
    ("mục đích:", "mục đích"),
    ("Chú ý!", "Chú ý!"),
    ("phòng chống \n\nHIV/AIDS và ma túy", "phòng chống hát i vê ết và ma túy"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_spoken_form(normalizer: Normalizer, text: str, expected: str) -> None:
    assert speak(normalizer, text) == expected


def test_table_is_large_and_unique() -> None:
    assert len(CASES) >= 150
    assert len({text for text, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("text", "_expected"), CASES)
def test_output_has_no_digits_and_no_banned_readings(
    normalizer: Normalizer, text: str, _expected: str
) -> None:
    spoken = normalizer.normalize(text)
    assert not re.search(r"\d", spoken)
    for bad in ("xuyệt", "khách hàng", "ca hát", "lẻ"):
        assert bad not in spoken
    assert unicodedata.is_normalized("NFC", spoken)


@pytest.mark.parametrize(("_text", "spoken"), CASES)
def test_spoken_text_is_a_fixed_point(normalizer: Normalizer, _text: str, spoken: str) -> None:
    once = normalizer.normalize(spoken)
    assert normalizer.normalize(once) == once


DOC_RULE_CASES: list[tuple[DocNumberRule, str, str]] = [
    (DocNumberRule.SLASH, "61/KH-UBND", "sáu mươi mốt trên kế hoạch ủy ban nhân dân"),
    (
        DocNumberRule.SLASH,
        "Số 15/2023/NĐ-CP",
        f"Số mười lăm trên {Y2023} trên nghị định chính phủ",
    ),
    (DocNumberRule.SLASH, "Số: /KH-UBND", "Số kế hoạch ủy ban nhân dân"),
    (DocNumberRule.NUMBER, "Kế hoạch số 61/KH-UBND", "Kế hoạch số sáu mươi mốt"),
    (DocNumberRule.NUMBER, "Nghị định 30/2020/NĐ-CP", f"Nghị định ba mươi năm {Y2020}"),
    (DocNumberRule.NATURAL, "Kế hoạch số 61/KH-UBND", "Kế hoạch số sáu mươi mốt của ủy ban nhân dân"),
]


@pytest.mark.parametrize(("rule", "text", "expected"), DOC_RULE_CASES)
def test_document_number_rules(rule: DocNumberRule, text: str, expected: str) -> None:
    assert speak(Normalizer(doc_rule=rule), text) == expected


def test_doc_rule_accepts_its_string_value() -> None:
    assert Normalizer(doc_rule="slash").doc_rule is DocNumberRule.SLASH
    assert {r.value for r in DocNumberRule} == {"natural", "slash", "number"}


def test_unknown_doc_rule_is_a_speech_error() -> None:
    with pytest.raises(SpeechError, match="không hợp lệ") as caught:
        Normalizer(doc_rule="xuyet")
    assert caught.value.hint == "Hãy chọn một trong: natural, slash, number."


def test_fingerprint_depends_on_rule_and_version() -> None:
    natural, slash = Normalizer(), Normalizer(doc_rule=DocNumberRule.SLASH)
    assert natural.fingerprint != slash.fingerprint
    assert natural.fingerprint.startswith(NORMALIZER_VERSION)
    assert Normalizer().fingerprint == natural.fingerprint


def test_explain_lists_rewrites_in_reading_order(normalizer: Normalizer) -> None:
    text = "Kế hoạch số 61/KH-UBND ngày 03/03/2023 của UBND, phát lúc 7h30, đạt 20%."
    assert normalizer.explain(text) == [
        Rewrite("số 61/KH-UBND", "số sáu mươi mốt của ủy ban nhân dân", "doc_number"),
        Rewrite("ngày 03/03/2023", f"ngày ba tháng ba năm {Y2023}", "date"),
        Rewrite("UBND", "ủy ban nhân dân", "lexicon"),
        Rewrite("7h30", "bảy giờ ba mươi phút", "time"),
        Rewrite("20%", "hai mươi phần trăm", "percent"),
    ]


def test_explain_is_empty_for_plain_prose(normalizer: Normalizer) -> None:
    assert normalizer.explain("Tăng cường tuyên truyền phòng, chống mại dâm.") == []


def test_explain_names_every_rule_family(normalizer: Normalizer) -> None:
    text = "Gọi 113 hoặc 0912 345 678, quý IV, thứ 2, tháng 3/2023, 2021-2025, 2,5 km, 1/3 và 50/100."
    rules = {r.rule for r in normalizer.explain(text)}
    assert {"phone", "roman", "ordinal", "date", "range", "unit", "fraction"} <= rules


def _seed_output(normalizer: Normalizer) -> list[str]:
    return normalizer.normalize(SEED.read_text(encoding="utf-8")).split("\n")


def test_seed_plan_sentences_read_correctly(normalizer: Normalizer) -> None:
    lines = _seed_output(normalizer)
    assert any(
        line.startswith(
            "Căn cứ Kế hoạch số sáu mươi mốt của ủy ban nhân dân ngày ba tháng ba năm "
            f"{Y2023} của ủy ban nhân dân thị xã Kinh Môn về phòng, chống mại dâm năm {Y2023}, "
        )
        for line in lines
    )
    assert any(
        line.startswith(
            "Triển khai thực hiện nghiêm túc các quan điểm chỉ đạo của Đảng, Chính phủ về phòng, "
            f"chống mại dâm giai đoạn {Y2021} đến {Y2025}, các văn bản"
        )
        for line in lines
    )
    assert "Một. Mục đích, chỉ tiêu." in lines
    assert "Hai. Chỉ tiêu." in lines
    assert (
        "Cung cấp tài liệu truyền thông về an toàn tình dục, phòng chống hát i vê ết và các bệnh lây "
        "truyền qua đường tình dục."
    ) in lines
    assert "Một. Công chức văn hóa xã hội phụ trách lĩnh vực Lao động Thương binh và Xã hội." in lines
    assert any(
        line.startswith("Mặt trận tổ quốc, các đoàn thể chính trị xã hội xây dựng kế hoạch") for line in lines
    )
    assert any("chống hát i vê ết. một trăm phần trăm tố giác" in line for line in lines)
    assert any(line.startswith("Ít nhất hai mươi phần trăm đội ngũ cán bộ") for line in lines)


def test_seed_plan_has_no_written_forms_left(normalizer: Normalizer) -> None:
    spoken = "\n".join(_seed_output(normalizer))
    assert not re.search(r"\d|UBND|HĐND|MTTQ|VH-XH|TDTT|HIV|/|%|;|…|“|”|\(|\)", spoken)
    assert "  " not in spoken
    assert all(line.endswith((".", "!", "?")) for line in spoken.split("\n"))
    assert normalizer.normalize(spoken) == spoken


def test_empty_and_blank_text_give_empty_output(normalizer: Normalizer) -> None:
    assert normalizer.normalize("") == ""
    assert normalizer.normalize(" \n\t ") == ""
    assert normalizer.normalize("- \n ./.") == ""


def test_windows_line_ends_and_decomposed_input(normalizer: Normalizer) -> None:
    decomposed = unicodedata.normalize("NFD", "Ủy ban nhân dân phường\r\ntổ chức")
    assert normalizer.normalize(decomposed) == "Ủy ban nhân dân phường tổ chức."


def test_invalid_dates_are_not_read_as_dates(normalizer: Normalizer) -> None:
    assert speak(normalizer, "32/13/2023") == f"ba mươi hai trên mười ba trên {Y2023}"
    assert speak(normalizer, "quý IIII/2023") == f"quý IIII năm {Y2023}"


_TOKENS = st.sampled_from(
    [
        "7h30", "03/03/2023", "UBND", "KẾ HOẠCH", "I.", "thứ", "quý IV", ",", ".", "\n", "- ",
        "61/KH-UBND", "20%", "2021-2025", "0912 345 678", "ngày", "tháng 3", "Số", "HIV/AIDS",
        "(", ")", "“", "”", ";", "…", "phòng", "Chống", "mại dâm", "2,5", "1.500.000đ", "gọi 113",
        "II.", "1.", "TP.", "Đ/c", "VH-XH", "\n\n", "17:30", "6 giờ 30", "km", "–",
    ]
)  # fmt: skip


@given(st.lists(_TOKENS, max_size=30).map(" ".join))
def test_normalising_twice_changes_nothing(text: str) -> None:
    spoken = _MODULE_NORMALIZER.normalize(text)
    assert _MODULE_NORMALIZER.normalize(spoken) == spoken
    assert not re.search(r"\d", spoken)


_MODULE_NORMALIZER = Normalizer()
