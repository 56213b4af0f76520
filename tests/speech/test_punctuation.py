"""Line joining and pause punctuation for speech."""

from __future__ import annotations

from broadcaster.speech.punctuation import clean_paragraph, prepare, split_paragraphs


def test_lines_broken_mid_sentence_are_joined() -> None:
    text = "Căn cứ Kế hoạch của UBND thị xã Kinh \nMôn về phòng, chống \n\nmại dâm năm 2023; căn cứ"
    assert split_paragraphs(text) == [
        "Căn cứ Kế hoạch của UBND thị xã Kinh Môn về phòng, chống mại dâm năm 2023; căn cứ"
    ]


def test_bullets_headings_and_sentence_ends_start_paragraphs() -> None:
    text = "I. MỤC ĐÍCH\n1. Mục đích:\n - Ý một;\n- Ý hai \n\nhết ý.\nCâu mới\n. - Ý ba\n+ Ý bốn\n\nĐoạn mới"
    assert split_paragraphs(text) == [
        "I. MỤC ĐÍCH",
        "1. Mục đích:",
        "Ý một;",
        "Ý hai hết ý.",
        "Câu mới",
        "Ý ba",
        "Ý bốn",
        "Đoạn mới",
    ]


def test_a_blank_line_before_an_abbreviation_does_not_split_a_sentence() -> None:
    assert split_paragraphs("phòng chống \n\nHIV/AIDS và\n\nKẾ HOẠCH\n\nNội dung") == [
        "phòng chống HIV/AIDS và",
        "KẾ HOẠCH",
        "Nội dung",
    ]


def test_word_dashes_are_settled_but_ranges_kept() -> None:
    assert split_paragraphs("kinh tế - xã hội, Độc lập – Tự do, 2021 - 2025") == [
        "kinh tế xã hội, Độc lập, Tự do, 2021 - 2025"
    ]


def test_prepare_drops_quotes_and_control_characters() -> None:
    assert prepare("“Toàn dân”\r\nđoàn\x07kết 'x'") == "Toàn dân\nđoàn kết x"


def test_clean_paragraph_makes_pauses() -> None:
    assert (
        clean_paragraph("khẩu hiệu…; tờ rơi (nếu có) cho phù hợp./.")
        == "khẩu hiệu, tờ rơi, nếu có, cho phù hợp."
    )
    assert clean_paragraph(", , mở đầu ; ; giữa , . cuối :") == "mở đầu, giữa. cuối."
    assert clean_paragraph("Có hỏi?") == "Có hỏi?"
    assert clean_paragraph("- ./.") == ""
