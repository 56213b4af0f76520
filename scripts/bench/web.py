"""Benchmark: the web console's pages on a year of history, and the emergency from click to loudspeaker.

Run: .venv/bin/python scripts/bench/web.py [--requests 300] [--concurrency 4] [--tries 20] [--home DIR]
Builds a temporary home (SQLite) with a year of history (scripts/bench/web_setup.py: the seed station,
about 500 approved bulletins, about 20,000 as-run rows), starts a real `broadcaster run` daemon on a
PulseAudio null sink (tests/pulse.py) and serves the console with uvicorn in a subprocess of this script
(as many workers as `broadcaster web` starts on this machine; --workers), signed in as the operator.
Pages: after a warm-up, `--requests` GETs of each of the dashboard (/), the week view (/lich-phat) and
the log page (/nhat-ky), `--concurrency` at a time from a thread pool (local only, keep-alive
connections), in rounds that alternate the pages; p50/p99/max latency and requests/s.
Peer measured in the same run: a bare Starlette "hello" route served by the same uvicorn server (the
bench's ASGI wrapper around `create_web` answers it), loaded the same way in the same rounds.
Emergency (scripts/bench/web_emergency.py): `--tries` times, the operator's confirm form of /khan-cap is
posted and the first audio of the chosen 1-s recording is timed at the null sink (parec chunk arrival).
Goals: dashboard and week view p99 < 150 ms; emergency p99 < 1 s.
`--profile` then profiles each page in this process (cProfile around the page handlers, 50 views each).
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from web_client import csrf_of, sign_in, stats_ms
from web_history import OPERATOR
from web_setup import PASSWORD, Built, bench_env, ensure_home, open_app

from broadcaster.web.server import worker_count

HELLO = "/__bench/hello"
PAGES = (("/", "Tổng quan (/)"), ("/lich-phat", "Lịch phát (/lich-phat)"), ("/nhat-ky", "Nhật ký (/nhat-ky)"))
GOAL_MS = 150.0
GOAL_PAGES = ("/", "/lich-phat")


# -- the server ----------------------------------------------------------------------------------
def bench_asgi() -> object:
    """The console of the home in BROADCASTER_HOME plus the bare hello route (one per worker process)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.types import Receive, Scope, Send

    from broadcaster.web.server import create_web

    async def hello(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    console = create_web(open_app(Path(os.environ["BROADCASTER_HOME"])))
    bare = Starlette(routes=[Route(HELLO, hello)])

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == HELLO:
            await bare(scope, receive, send)
        else:
            await console(scope, receive, send)

    return asgi


def serve(home: Path, port: int, workers: int) -> None:
    """Serve `bench_asgi` with uvicorn in `workers` processes, as `broadcaster web` does (the subprocess)."""
    import uvicorn

    from broadcaster.web.context import load_secret

    os.environ["BROADCASTER_HOME"] = str(home)
    load_secret(home / "web-secret")  # once, before the workers start (as broadcaster.web.server.serve)
    from broadcaster.web.serving import NoDelayH11Protocol

    options = {"host": "127.0.0.1", "port": port, "log_level": "warning", "access_log": False}
    options["http"] = NoDelayH11Protocol  # as broadcaster.web.server.serve
    if workers == 1:
        uvicorn.run(bench_asgi(), **options)  # type: ignore[arg-type]
    else:
        uvicorn.run(
            "web:bench_asgi",
            factory=True,
            workers=workers,
            app_dir=str(Path(__file__).resolve().parent),
            **options,
        )  # type: ignore[arg-type]


def free_port() -> int:
    """A free local TCP port."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def console_server(home: Path, workers: int) -> Iterator[int]:
    """The bench's uvicorn server in a subprocess until the block ends; yields its port."""
    port = free_port()
    log = home.parent / "web.log"
    argv = [
        sys.executable,
        __file__,
        "serve",
        "--home",
        str(home),
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=bench_env(home), stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the console did not start:\n{log.read_text(encoding='utf-8')[-3000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", HELLO)
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the console did not answer within 60 s")
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        said = log.read_text(encoding="utf-8")
        if "Traceback" in said:
            print(f"  (the console logged a traceback; see {log})\n{said[-2000:]}")


# -- the load ------------------------------------------------------------------------------------
@dataclass
class Measured:
    """One target's latencies (seconds) and the wall time its rounds took."""

    latencies: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    errors: list[str] = field(default_factory=list)
    size: int = 0


def load(port: int, cookie: str, path: str, count: int, concurrency: int, into: Measured) -> None:
    """`count` GETs of `path`, `concurrency` at a time, each worker on its own keep-alive connection."""
    share = [count // concurrency + (1 if n < count % concurrency else 0) for n in range(concurrency)]
    lock = threading.Lock()

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Cookie": cookie} if cookie else {}
        try:
            for _ in range(n):
                began = time.perf_counter()
                conn.request("GET", path, headers=headers)
                answer = conn.getresponse()
                body = answer.read()
                took = time.perf_counter() - began
                with lock:
                    into.latencies.append(took)
                    into.size = len(body)
                    if answer.status != 200:
                        into.errors.append(f"{answer.status} {answer.getheader('location', '')}")
        finally:
            conn.close()

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(worker, share))
    into.wall_s += time.perf_counter() - began


def bench_pages(port: int, cookie: str, args: argparse.Namespace) -> dict[str, Measured]:
    """Warm every target up, then load them in `args.rounds` rounds that alternate the targets."""
    targets = [HELLO, *(p for p, _ in PAGES)]
    for path in targets:
        load(port, cookie, path, args.warmup, args.concurrency, Measured())
    results = {path: Measured() for path in targets}
    base, extra = divmod(args.requests, args.rounds)
    per_round = [base + (1 if r < extra else 0) for r in range(args.rounds)]
    for count in per_round:
        for path in targets:
            load(port, cookie, path, count, args.concurrency, results[path])
    return results


def report_pages(results: dict[str, Measured], built: Built, args: argparse.Namespace) -> None:
    """The table: each page beside the bare hello route, and the goals."""
    print(
        f"console pages: {args.requests} requests each after {args.warmup} warm-up, concurrency "
        f"{args.concurrency}, {args.rounds} alternating rounds, {args.workers} uvicorn worker(s) "
        "(what broadcaster web starts here), signed in as the operator"
    )
    print(
        f"  home: SQLite, {built.asrun_rows:,} as-run rows, {built.bulletins} bulletins, "
        f"{built.airings:,} airings; a `broadcaster run` daemon beating beside it"
    )
    print(
        f"  {'page':<28}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'req/s':>9}{'kB':>7}   vs hello (p50, req/s)"
    )
    peer = results[HELLO]
    peer_p50 = stats_ms(peer.latencies)[0]
    peer_rps = len(peer.latencies) / peer.wall_s
    for path, name in ((HELLO, "hello (bare Starlette)"), *PAGES):
        m = results[path]
        p50, p99, worst = stats_ms(m.latencies)
        rps = len(m.latencies) / m.wall_s
        ratio = "" if path == HELLO else f"   ×{p50 / peer_p50:.0f} slower, ×{peer_rps / rps:.0f} fewer"
        print(f"  {name:<28}{p50:9.1f}{p99:9.1f}{worst:9.1f}{rps:9.1f}{m.size / 1024:7.0f}{ratio}")
        if m.errors:
            print(f"    errors: {len(m.errors)} {sorted(set(m.errors))[:3]}")
    for path in GOAL_PAGES:
        p99 = stats_ms(results[path].latencies)[1]
        verdict = "met" if p99 < GOAL_MS and not results[path].errors else "NOT met"
        print(f"  goal {path} p99 < {GOAL_MS:.0f} ms: {verdict} ({p99:.1f} ms)")


# -- profiling -----------------------------------------------------------------------------------
def profile_pages(home: Path, views: int = 50) -> None:
    """cProfile around the page handlers (in the worker threads), `views` views of each page."""
    import cProfile
    import pstats

    import fastapi.routing
    from fastapi.testclient import TestClient

    from broadcaster.web.server import create_web

    original = getattr(fastapi.routing, "run_in_threadpool")  # noqa: B009 (not re-exported)
    profiler = cProfile.Profile()

    async def profiled(func: Callable[..., object], *args: object, **kwargs: object) -> object:
        return await original(lambda: profiler.runcall(func, *args, **kwargs))

    setattr(fastapi.routing, "run_in_threadpool", profiled)  # noqa: B010
    try:
        client = TestClient(create_web(open_app(home)))
        page = client.get("/dang-nhap")
        client.post(
            "/dang-nhap",
            data={"name": OPERATOR, "password": PASSWORD, "csrf": csrf_of(page.content)},
            follow_redirects=False,
        )
        for path, name in PAGES:
            client.get(path)  # warm (first-use caches) outside the profile
            profiler.clear()
            for _ in range(views):
                assert client.get(path).status_code == 200
            print(f"\nprofile of {name}, {views} views (cumulative, broadcaster/ functions first):")
            stats = pstats.Stats(profiler).sort_stats("cumulative")
            stats.print_stats(r"broadcaster/", 18)
            stats.sort_stats("tottime").print_stats(10)
        client.close()
    finally:
        setattr(fastapi.routing, "run_in_threadpool", original)  # noqa: B010


# -- main ----------------------------------------------------------------------------------------
def parse() -> argparse.Namespace:
    """The command line (the hidden `serve` sub-command runs the server subprocess)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("mode", nargs="?", default="bench", choices=("bench", "serve"))
    parser.add_argument("--requests", type=int, default=300, help="requests per page (default 300)")
    parser.add_argument("--warmup", type=int, default=30, help="warm-up requests per page (default 30)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--rows", type=int, default=20_000, help="as-run rows of history (default 20,000)")
    parser.add_argument("--bulletins", type=int, default=500, help="bulletins in all (default 500)")
    parser.add_argument("--tries", type=int, default=20, help="emergencies timed (default 20)")
    parser.add_argument("--no-emergency", action="store_true", help="pages only (no PulseAudio needed)")
    parser.add_argument("--profile", action="store_true", help="then profile each page (cProfile)")
    parser.add_argument("--home", type=Path, help="build the home here and reuse it when it is there")
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--workers", type=int, default=worker_count(0), help="uvicorn workers (default: as broadcaster web)"
    )
    return parser.parse_args()


def main() -> None:
    """Build (or reuse) the home, start the daemon and the console, measure, print."""
    args = parse()
    if args.mode == "serve":
        serve(args.home, args.port, args.workers)
        return
    from web_emergency import EmergencyRun, report_emergency, run_emergencies, station_daemon

    folder = Path(tempfile.mkdtemp(prefix="web-bench-")) if args.home is None else args.home.parent
    home = args.home or folder / "home"
    try:
        built = ensure_home(home, rows=args.rows, total_bulletins=args.bulletins, tones=args.tries)
        if built.seconds:
            print(f"built the home in {built.seconds:.0f} s ({home})")
        with (
            station_daemon(home, pulse=not args.no_emergency) as sink,
            console_server(home, args.workers) as port,
        ):
            operator = sign_in(port)
            results = bench_pages(port, operator.cookie_header(), args)
            report_pages(results, built, args)
            if sink is not None:
                run: EmergencyRun = run_emergencies(operator, sink, built.emergency_ids[: args.tries])
                report_emergency(run)
            elif not args.no_emergency:
                print("emergency: not measured (no PulseAudio null sink here)")
            operator.close()
        if args.profile:
            profile_pages(home)
    finally:
        if args.home is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
