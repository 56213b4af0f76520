"""The `broadcaster` command: one error boundary that turns every BroadcasterError into one line."""

from __future__ import annotations

import os
import sys
import traceback

import click

from broadcaster.cli.common import State
from broadcaster.errors import BroadcasterError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--station", metavar="MÃ", help="Mã đài (mặc định: [station] code trong cấu hình, hoặc đài duy nhất)."
)
@click.version_option(package_name="broadcaster")
@click.pass_context
def cli(ctx: click.Context, station: str | None) -> None:
    """broadcaster — lập lịch và phát bản tin tuyên truyền cho đài truyền thanh phường."""
    ctx.obj = State(station)


def _register() -> None:
    from broadcaster.cli import audio, bulletin, demo, init, log, play, report, schedule, speech, user

    for module in (init, user, schedule, bulletin, speech, audio, play, log, report, demo):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


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
