"""Fast commands: `--help` and `speech normalize` import no heavy library; the lazy command table is whole."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

import broadcaster.cli
from broadcaster.cli import main as cli_main

HEAVY = ("numpy", "scipy", "reportlab", "sqlalchemy", "alembic", "pydub", "gtts", "apscheduler")

# Runs the CLI as the console script does, then reports which heavy packages ended up loaded.
PROBE = """
import json, sys
from broadcaster.cli.main import main
heavy = json.loads(sys.argv[1])
try:
    main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
else:
    code = 0
loaded = sorted(name for name in heavy if name in sys.modules)
print(json.dumps({"exit": code, "loaded": loaded}), file=sys.stderr)
"""


def probe(*args: str) -> tuple[str, int, list[str]]:
    """Run the CLI with `args` in a fresh interpreter: its stdout, exit code and heavy modules loaded."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(HEAVY), *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=60,
        check=False,
    )
    report = json.loads(result.stderr.strip().splitlines()[-1])
    return result.stdout, report["exit"] or 0, report["loaded"]


def test_help_imports_no_heavy_module() -> None:
    out, code, loaded = probe("--help")
    assert code == 0
    for name in cli_main.COMMAND_TABLE:
        assert f"  {name} " in out
    assert loaded == []


def test_speech_help_imports_no_heavy_module() -> None:
    out, code, loaded = probe("speech", "normalize", "--help")
    assert code == 0 and "--explain" in out
    assert loaded == []


def test_normalize_reads_the_home_config_and_lexicon_without_heavy_modules(clean_env: Path) -> None:
    clean_env.mkdir(parents=True)
    (clean_env / "broadcaster.toml").write_text('[speech]\ndoc_number_rule = "slash"\n', encoding="utf-8")
    (clean_env / "lexicon.csv").write_text("PTT,phường Phú Thứ\n", encoding="utf-8")
    out, code, loaded = probe("speech", "normalize", "Kế hoạch số 61/KH-UBND của PTT")
    assert code == 0
    # "trên kế hoạch" is the configured slash rule; "phường Phú Thứ" comes from the home's lexicon.csv.
    assert out.strip() == "Kế hoạch số sáu mươi mốt trên kế hoạch ủy ban nhân dân của phường Phú Thứ."
    assert loaded == []


def test_a_command_that_opens_the_database_still_loads_it(clean_env: Path) -> None:
    """The probe sees imports: a command that needs SQLAlchemy is reported as loading it."""
    _out, code, loaded = probe("init")
    assert code == 0 and (clean_env / "broadcaster.db").exists()
    assert "sqlalchemy" in loaded


def real_commands() -> dict[str, tuple[str, str]]:
    """Every command in a COMMANDS list of a broadcaster.cli module: name → (module, first paragraph)."""
    found: dict[str, tuple[str, str]] = {}
    for info in pkgutil.iter_modules(broadcaster.cli.__path__, "broadcaster.cli."):
        module = importlib.import_module(info.name)
        for command in getattr(module, "COMMANDS", []):
            assert command.name is not None
            assert command.name not in found, f"{command.name} is defined twice"
            first = (command.help or "").split("\n\n")[0]
            found[command.name] = (info.name, command.short_help or " ".join(first.split()))
    return found


def test_lazy_table_lists_every_real_command_with_its_help() -> None:
    assert real_commands() == cli_main.COMMAND_TABLE


def test_lazy_help_is_what_click_prints_for_the_real_commands() -> None:
    eager = click.Group(
        name=cli_main.cli.name,
        params=cli_main.cli.params,
        callback=cli_main.cli.callback,
        help=cli_main.cli.help,
        context_settings=cli_main.cli.context_settings,
    )
    for module, _help in set(cli_main.COMMAND_TABLE.values()):
        for command in importlib.import_module(module).COMMANDS:
            eager.add_command(command)
    settings = cli_main.cli.context_settings  # -h/--help and the content width, as `main` uses them
    for width in (60, 80, 120):
        helps = [
            group.get_help(click.Context(group, info_name="broadcaster", terminal_width=width, **settings))
            for group in (cli_main.cli, eager)
        ]
        assert helps[0] == helps[1]
        assert "Lệnh:" in helps[0]  # click_vi: click's own headings in Vietnamese


@pytest.mark.parametrize("name", sorted(cli_main.COMMAND_TABLE))
def test_each_command_resolves_to_the_real_one(name: str) -> None:
    module, _help = cli_main.COMMAND_TABLE[name]
    command = cli_main.cli.get_command(click.Context(cli_main.cli), name)
    assert command is not None and command.name == name
    assert command in importlib.import_module(module).COMMANDS


def test_an_unknown_name_is_no_command() -> None:
    assert cli_main.cli.get_command(click.Context(cli_main.cli), "nosuch") is None
