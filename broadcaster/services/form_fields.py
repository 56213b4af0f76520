"""Fields typed into the console's forms, read one way everywhere: dates, a date range, a campaign.

Each reader either returns the value or notes a Vietnamese message under the form field's name in
`errors` (so a page shows every problem beside its field at once); `parse_day` raises instead.
"""

from __future__ import annotations

from datetime import date, datetime

from broadcaster.errors import InputError
from broadcaster.planning.calendar import END_BEFORE_START, in_order

DAY_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")  # a date input sends the first; people type the second
DAY_HINT = "Viết dạng 20/03/2023 hoặc chọn trong lịch."


def read_day(text: str) -> date:
    """A date typed as YYYY-MM-DD or DD/MM/YYYY; ValueError when it is neither."""
    for fmt in DAY_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def bad_day(text: str) -> str:
    """The message beside a date field that holds no date."""
    return f"Ngày không hợp lệ: «{text.strip()}». {DAY_HINT}"


def parse_day(text: str, field: str) -> date:
    """A required date; InputError naming the form field."""
    try:
        return read_day(text)
    except ValueError:
        raise InputError(f"Ngày không hợp lệ: «{text}».", DAY_HINT, field=field) from None


def day_field(text: str, field: str, errors: dict[str, str]) -> date | None:
    """An optional date (blank: None); a bad one is noted in `errors` under `field`."""
    if not text.strip():
        return None
    try:
        return read_day(text)
    except ValueError:
        errors[field] = bad_day(text)
        return None


def day_range(first: str, last: str, errors: dict[str, str]) -> tuple[date | None, date | None]:
    """The optional range of the fields tu (from) and den (to); an end before the start is noted."""
    start, end = day_field(first, "tu", errors), day_field(last, "den", errors)
    if not in_order(start, end):
        errors["den"] = END_BEFORE_START
    return start, end


def campaign_field(titles: dict[str, str], text: str, errors: dict[str, str]) -> str | None:
    """An optional campaign code (blank or "all": every campaign) of this station, field chien_dich."""
    code = text.strip() or None
    if code is None or code == "all":
        return None
    if code not in titles:
        known = ", ".join(sorted(titles.values())) or "(chưa có)"
        errors["chien_dich"] = f"Không có chiến dịch «{code}» ở đài này. Các chiến dịch: {known}."
    return code
