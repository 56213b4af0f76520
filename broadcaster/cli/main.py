"""The `broadcaster` command: one error boundary that turns every BroadcasterError into one line."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Mapping
from typing import Any

import click
from click.utils import make_default_short_help

from broadcaster.cli import click_vi
from broadcaster.cli.common import State
from broadcaster.errors import BroadcasterError

click_vi.install()  # click's own messages (usage errors, help headings) in Vietnamese, before any is made

# Every command: name → (module whose COMMANDS list holds it, the first paragraph of its help).
# `broadcaster --help` lists these without importing a module; a command's module is imported only
# when that command runs or shows its own help. tests/cli/test_startup_imports.py checks this table
# against the real commands, so a new command (a new module with COMMANDS) cannot be left out.
COMMAND_TABLE: dict[str, tuple[str, str]] = {
    "audio": ("broadcaster.cli.audio", "Âm thanh: đo độ lớn (LUFS, BS.1770) và chuẩn hóa tệp."),
    "bulletin": (
        "broadcaster.cli.bulletin",
        "Bản tin: viết, sửa, gửi duyệt, duyệt, trả lại, ngừng phát, xem.",
    ),
    "demo": (
        "broadcaster.cli.demo",
        "Chạy thử trọn vẹn: nhập lịch, dựng âm thanh, phát một buổi đúng giờ và ghi nhật ký.",
    ),
    "doctor": (
        "broadcaster.cli.doctor",
        "Tự kiểm tra trạm: chương trình, giọng đọc, phông chữ, loa, cơ sở dữ liệu, ổ đĩa, đồng hồ.",
    ),
    "init": (
        "broadcaster.cli.init",
        "Tạo thư mục dữ liệu, tệp cấu hình mẫu và cơ sở dữ liệu (chạy lại không thay đổi gì).",
    ),
    "log": ("broadcaster.cli.log", "Nhật ký phát sóng: kiểm tra, xem, xuất ra tệp, đính chính."),
    "play-now": (
        "broadcaster.cli.play",
        "Phát ngay một bản tin đã duyệt (trạm phát đang chạy sẽ phát sau vài giây).",
    ),
    "report": (
        "broadcaster.cli.report",
        "Báo cáo kết quả phát sóng theo chỉ tiêu chiến dịch (chỉ tính các lượt đã phát thực tế).",
    ),
    "run": (
        "broadcaster.cli.play",
        "Chạy trạm phát: phát các buổi đã xếp đúng giờ và ghi nhật ký phát sóng.",
    ),
    "schedule": (
        "broadcaster.cli.schedule",
        "Lịch phát: nhập tệp lịch, xếp bản tin vào buổi phát, xem kế hoạch.",
    ),
    "station": (
        "broadcaster.cli.district",
        "Liên kết đài với máy chủ của huyện (gửi nhật ký phát sóng lên huyện).",
    ),
    "sync": (
        "broadcaster.cli.district",
        "Gửi ngay nhật ký chưa gửi lên huyện và nhận bản tin huyện gửi (trạm phát cũng tự làm định kỳ).",
    ),
    "speech": (
        "broadcaster.cli.speech",
        "Lời đọc và âm thanh: xem cách đọc văn bản, nghe thử, tạo âm thanh bản tin.",
    ),
    "user": ("broadcaster.cli.user", "Quản lý người dùng, vai trò và mật khẩu đăng nhập."),
    "web": (
        "broadcaster.cli.web",
        "Chạy trang quản lý trên trình duyệt (máy tính hoặc điện thoại trong mạng của phường).",
    ),
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand is looked up."""

    def __init__(self, *args: Any, lazy: Mapping[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, sorted, without importing any command."""
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, importing its module on first use; None for an unknown name."""
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name not in self.lazy:
            return None
        module = importlib.import_module(self.lazy[cmd_name][0])
        commands: list[click.Command] = module.COMMANDS
        for command in commands:
            if command.name == cmd_name:
                self.add_command(command)
                return command
        raise LookupError(f"{module.__name__}.COMMANDS has no command named {cmd_name!r}")

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of --help, from the table: the same rows click would print, no imports."""
        names = [n for n in self.list_commands(ctx) if n in self.lazy or not self.commands[n].hidden]
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = [
            (
                n,
                make_default_short_help(self.lazy[n][1], limit)
                if n in self.lazy
                else self.commands[n].get_short_help_str(limit),
            )
            for n in names
        ]
        with formatter.section("Lệnh"):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    lazy=COMMAND_TABLE,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--station", metavar="MÃ", help="Mã đài (mặc định: [station] code trong cấu hình, hoặc đài duy nhất)."
)
@click.version_option(
    package_name="broadcaster", message="%(prog)s, phiên bản %(version)s", help="Hiện phiên bản rồi thoát."
)
@click.pass_context
def cli(ctx: click.Context, station: str | None) -> None:
    """broadcaster — lập lịch và phát bản tin tuyên truyền cho đài truyền thanh phường."""
    ctx.obj = State(station)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI; errors become one line on stderr and exit code 1."""
    try:
        cli.main(args=argv, prog_name="broadcaster", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Đã hủy.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        hint = ""
        ctx = getattr(exc, "ctx", None)
        if ctx is not None:
            hint = f" — xem '{ctx.command_path} --help'"
        click.echo(f"Lỗi: {exc.format_message()}{hint}", err=True)
        sys.exit(1)
    except BroadcasterError as exc:
        click.echo(f"Lỗi: {exc.one_line()}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Đã dừng.", err=True)
        sys.exit(130)
    except Exception as exc:  # the last line of defence: never a bare traceback for a station user
        if os.environ.get("BROADCASTER_DEBUG"):
            traceback.print_exc()
        click.echo(
            f"Lỗi không mong đợi: {type(exc).__name__}: {exc} — "
            "chạy lại với BROADCASTER_DEBUG=1 để xem chi tiết.",
            err=True,
        )
        sys.exit(1)
