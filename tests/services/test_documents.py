"""The letterhead of printable reports comes from the station and its leader in the database."""

from __future__ import annotations

from datetime import date

import pytest

from broadcaster.app import App
from broadcaster.services.documents import letterhead, signer_title
from broadcaster.services.stations import find_station


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Phó Chủ tịch UBND phường", "PHÓ CHỦ TỊCH"),
        ("Chủ tịch Ủy ban nhân dân phường", "CHỦ TỊCH"),
        ("", "CHỦ TỊCH"),
    ],
)
def test_signer_title_is_the_office_in_capitals(title: str, expected: str) -> None:
    assert signer_title(title) == expected


def test_letterhead_from_the_seed_station(seeded: App) -> None:
    with seeded.tx() as s:
        head = letterhead(s, find_station(s, None), issued_on=date(2024, 1, 5))
    assert head.issuing_body == "PHƯỜNG PHÚ THỨ"
    assert head.place == "Phú Thứ"
    assert (head.signer_name, head.signer_title) == ("Vũ Văn Khôi", "PHÓ CHỦ TỊCH")
