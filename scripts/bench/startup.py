"""Benchmark: start-up wall time of `broadcaster --help` and `speech normalize` against `import click`.

Run: .venv/bin/python scripts/bench/startup.py [ROUNDS]   (default 15)
Peer measured in the same run: `python -c "import click"` with the same interpreter, the least any
click command can cost. The three commands run interleaved, ROUNDS times each, in a fresh data home
made by `broadcaster init`; the figures are medians. Goal (issue 9): each command under 3x the peer.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL = 3.0
HEAVY = ("numpy", "scipy", "reportlab", "sqlalchemy", "alembic", "pydub", "gtts", "apscheduler")
SAMPLE = "Kế hoạch số 61/KH-UBND ngày 03/03/2023"


def broadcaster_command() -> str:
    """The console script installed beside this interpreter (what a station user runs)."""
    script = Path(sys.executable).with_name("broadcaster")
    if not script.exists():
        raise SystemExit(f"no broadcaster script beside {sys.executable}: run scripts/setup first")
    return str(script)


def clean_env(home: Path) -> dict[str, str]:
    """This environment without any BROADCASTER_* setting, pointed at `home`, with .pyc caching on."""
    # PYTHONDONTWRITEBYTECODE would make every run recompile the package's sources: a station PC
    # writes its .pyc files once, so the warm-up run here does too.
    drop = {"PYTHONDONTWRITEBYTECODE"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_") and k not in drop}
    env["BROADCASTER_HOME"] = str(home)
    return env


def wall(argv: list[str], env: dict[str, str]) -> float:
    """Seconds one run of `argv` took; the run must succeed."""
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def heavy_imports(argv: list[str], env: dict[str, str]) -> list[str]:
    """The heavy top-level packages that one run of the CLI (under -X importtime) imports."""
    code = "import sys; from broadcaster.cli.main import main; main(sys.argv[1:])"
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code, *argv],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    names = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if "|" in line}
    return [h for h in HEAVY if h in names]


def main() -> int:
    """Print the medians, each command's ratio to the peer, and the goal."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    exe = broadcaster_command()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        env = clean_env(home)
        subprocess.run([exe, "init"], env=env, check=True, stdout=subprocess.DEVNULL)
        cases = {
            'python -c "import click" (peer)': [sys.executable, "-c", "import click"],
            "broadcaster --help": [exe, "--help"],
            f'broadcaster speech normalize "{SAMPLE}"': [exe, "speech", "normalize", SAMPLE],
        }
        for argv in cases.values():  # warm the page cache and the .pyc files
            wall(argv, env)
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(rounds):
            for name, argv in cases.items():
                times[name].append(wall(argv, env))
        heavy = {
            "broadcaster --help": heavy_imports(["--help"], env),
            "speech normalize": heavy_imports(["speech", "normalize", SAMPLE], env),
        }
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    peer = next(iter(medians.values()))
    print(f"median wall time of {rounds} interleaved runs each, {sys.executable}")
    width = max(len(name) for name in medians)
    met = True
    for n, (name, median) in enumerate(medians.items()):
        ratio = median / peer
        note = "" if n == 0 else f"  {ratio:.2f}x the peer"
        met = met and (n == 0 or ratio < GOAL)
        print(f"  {name:<{width}}  {median * 1000:7.1f} ms{note}")
    for name, found in heavy.items():
        print(f"  heavy modules imported by {name}: {', '.join(found) or 'none'}")
    print(f"goal: each command under {GOAL:.0f}x the peer — {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
