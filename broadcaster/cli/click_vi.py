"""Click's own words in Vietnamese: usage errors ("Thiếu tùy chọn '--to'"), help headings, prompts.

Click marks every message it prints for translation with gettext (each module binds `_` and
`ngettext`); `install` points those names at the catalog below, so that a station user who mistypes
a command reads Vietnamese, as everywhere else. A message missing from the catalog stays in English
rather than failing; tests/cli/test_vietnamese_output.py checks that each key is still one of
click's messages, so a click upgrade that rewords one is noticed.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

# click's message templates → Vietnamese. Placeholders stay as click fills them; str.format ignores
# one a translation leaves out (the English type name in "is not a valid {number_type}").
CATALOG: Mapping[str, str] = {
    # help pages
    "Usage:": "Cách dùng:",
    "Options": "Tùy chọn",
    "Commands": "Lệnh",
    "Show this message and exit.": "Hiện trợ giúp này rồi thoát.",
    "Show the version and exit.": "Hiện phiên bản rồi thoát.",
    "%(prog)s, version %(version)s": "%(prog)s, phiên bản %(version)s",
    "default: {default}": "mặc định: {default}",
    "required": "bắt buộc",
    "env var: {var}": "biến môi trường: {var}",
    "(dynamic)": "(tùy lúc chạy)",
    "(Deprecated) {text}": "(Không còn dùng) {text}",
    # usage errors
    "Error: {message}": "Lỗi: {message}",
    "Try '{command} {option}' for help.": "Xem '{command} {option}' để được hướng dẫn.",
    "Missing command.": "Thiếu lệnh.",
    "No such command {name!r}.": "Không có lệnh {name!r}.",
    "Missing argument": "Thiếu đối số",
    "Missing option": "Thiếu tùy chọn",
    "Missing parameter": "Thiếu tham số",
    "Missing {param_type}": "Thiếu {param_type}",
    "Missing parameter: {param_name}": "Thiếu tham số: {param_name}",
    "No such option: {name}": "Không có tùy chọn {name}",
    "Did you mean {possibility}?": "Có phải ý bạn là {possibility}?",
    "(Possible options: {possibilities})": "(Các tùy chọn gần giống: {possibilities})",
    "Invalid value: {message}": "Giá trị không hợp lệ: {message}",
    "Invalid value for {param_hint}: {message}": "Giá trị không hợp lệ cho {param_hint}: {message}",
    "Got unexpected extra argument ({args})": "Thừa đối số ({args})",
    "Got unexpected extra arguments ({args})": "Thừa đối số ({args})",
    "Option {name!r} requires an argument.": "Tùy chọn {name!r} cần một giá trị.",
    "Option {name!r} requires {nargs} arguments.": "Tùy chọn {name!r} cần {nargs} giá trị.",
    "Option {name!r} does not take a value.": "Tùy chọn {name!r} không nhận giá trị.",
    "Argument {name!r} takes {nargs} values.": "Đối số {name!r} nhận {nargs} giá trị.",
    "Takes {nargs} values but 1 was given.": "Cần {nargs} giá trị nhưng mới có 1.",
    "Takes {nargs} values but {len} were given.": "Cần {nargs} giá trị nhưng có {len}.",
    "Value must be an iterable.": "Giá trị phải là một danh sách.",
    # values of the wrong type
    "{value!r} is not {choice}.": "{value!r} không phải là {choice}.",
    "{value!r} is not one of {choices}.": "{value!r} không thuộc các giá trị {choices}.",
    "Choose from:\n\t{choices}": "Chọn một trong:\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "{value!r} không phải là số hợp lệ.",
    "{value} is not in the range {range}.": "{value} nằm ngoài khoảng {range}.",
    "{value!r} is not a valid boolean.": "{value!r} không phải là giá trị có/không hợp lệ.",
    "{value!r} does not match the format {format}.": "{value!r} không đúng dạng {format}.",
    "{value!r} does not match the formats {formats}.": "{value!r} không đúng dạng nào trong {formats}.",
    "file": "tệp",
    "directory": "thư mục",
    "path": "đường dẫn",
    "{name} {filename!r} does not exist.": "Không có {name} {filename!r}.",
    "{name} {filename!r} is a file.": "{name} {filename!r} là một tệp, không phải thư mục.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} là một thư mục, không phải tệp.",
    "{name} {filename!r} is not readable.": "Không đọc được {name} {filename!r}.",
    "{name} {filename!r} is not writable.": "Không ghi được vào {name} {filename!r}.",
    "{name} {filename!r} is not executable.": "Không chạy được {name} {filename!r}.",
    "Could not open file {filename!r}: {message}": "Không mở được tệp {filename!r}: {message}",
    "unknown error": "lỗi không rõ",
    # prompts
    "Aborted!": "Đã hủy.",
    "Repeat for confirmation": "Nhập lại để xác nhận",
    "Error: The value you entered was invalid.": "Lỗi: giá trị vừa nhập không hợp lệ.",
    "Error: {e.message}": "Lỗi: {e.message}",
    "Error: The two entered values do not match.": "Lỗi: hai lần nhập không khớp nhau.",
    "Error: invalid input": "Lỗi: nhập không hợp lệ",
    "Press any key to continue...": "Nhấn phím bất kỳ để tiếp tục...",
}

# The click modules that translate their messages through a module-level `_` / `ngettext`.
MODULES = (
    "click.core",
    "click.types",
    "click.parser",
    "click.exceptions",
    "click.formatting",
    "click.decorators",
    "click.termui",
)


def gettext(message: str) -> str:
    """The Vietnamese of one click message, or the message itself when the catalog lacks it."""
    return CATALOG.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Vietnamese has no plural forms: the translation of whichever form click chose."""
    return gettext(singular if n == 1 else plural)


def install() -> None:
    """Make click print its messages in Vietnamese (idempotent)."""
    for name in MODULES:
        module = importlib.import_module(name)
        names = vars(module)
        if "_" in names:
            names["_"] = gettext
        if "ngettext" in names:
            names["ngettext"] = ngettext
