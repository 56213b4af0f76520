"""Benchmark: our normaliser vs ffmpeg-normalize (EBU R128 mode) on 30 min of espeak-ng speech.

Also assembles and normalises a ~60-minute programme to show memory stays flat. Each run happens in a
fresh child process so its peak RSS (its own and its ffmpeg children's) is measured alone. Prints
ratios against the peer measured in the same run; asserts nothing about absolute times.

Usage: .venv/bin/python scripts/bench/loudness.py [--minutes 30] [--skip-programme]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from broadcaster.audio.assemble import ProgrammeLayout, assemble  # noqa: E402
from broadcaster.audio.ffmpeg import probe, run_ffmpeg  # noqa: E402
from broadcaster.audio.loudness import LoudnessMeasurement, measure, normalize  # noqa: E402
from broadcaster.files import replacing  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "broadcaster-bench"
PEER = ROOT / ".venv" / "bin" / "ffmpeg-normalize"
SENTENCES = (
    "Thực hiện kế hoạch của Ủy ban nhân dân phường về phòng chống dịch sốt xuất huyết năm nay.",
    "Đề nghị các hộ gia đình thu dọn vật dụng chứa nước đọng quanh nhà, phát quang bụi rậm.",
    "Khi có dấu hiệu sốt cao liên tục, hãy đến ngay trạm y tế phường để được khám và điều trị.",
    "Không tự ý dùng thuốc hạ sốt khi chưa có chỉ định của bác sĩ.",
    "Ban chỉ đạo phường sẽ tổ chức phun thuốc diệt muỗi tại các khu dân cư vào cuối tuần.",
    "Bà con lưu ý đậy kín các dụng cụ chứa nước, thả cá bảy màu vào bể nước lớn.",
    "Mọi thông tin xin liên hệ trạm y tế phường hoặc tổ trưởng tổ dân phố.",
    "Tiêm vắc xin đầy đủ, đúng lịch là cách tốt nhất để bảo vệ trẻ em khỏi bệnh sởi.",
    "Người dân tuyệt đối không đốt rơm rạ, rác thải gây ô nhiễm môi trường và nguy cơ cháy nổ.",
    "Xin trân trọng cảm ơn sự hợp tác của toàn thể bà con nhân dân trong phường.",
)
MP3_ARGS = ["-c:a", "libmp3lame", "-b:a", "128k", "-ar", "44100"]


def speech_file(minutes: float) -> Path:
    """Long espeak-ng speech (22.05 kHz mono WAV), built once by concatenating sentences, then cached."""
    CACHE.mkdir(exist_ok=True)
    out = CACHE / f"speech-{minutes:g}min.wav"
    if out.exists():
        return out
    parts = []
    for i, text in enumerate(SENTENCES):
        wav = CACHE / f"sentence-{i}.wav"
        subprocess.run(["espeak-ng", "-v", "vi", "-w", str(wav), text], check=True)
        parts.append((wav, probe(wav).duration_s))
    listing = CACHE / "concat.txt"
    total, lines = 0.0, []
    while total < minutes * 60:
        for wav, seconds in parts:
            lines.append(f"file '{wav}'")
            total += seconds
    listing.write_text("\n".join(lines) + "\n")
    with replacing(out) as part:
        run_ffmpeg(
            ["-f", "concat", "-safe", "0", "-i", str(listing), "-t", str(minutes * 60), "-y", str(part)]
        )
    return out


def programme_items(source: Path, minutes: float) -> list[Path]:
    """Two MP3 items (like rendered bulletins) cut from the speech file, cached."""
    items = []
    for i in range(2):
        out = CACHE / f"item-{i}-{minutes:g}min.mp3"
        if not out.exists():
            span = ["-ss", str(i * minutes * 60), "-t", str(minutes * 60)]
            run_ffmpeg([*span, "-i", str(source), *MP3_ARGS, "-y", str(out)])
        items.append(out)
    return items


class TreeRss:
    """Samples the summed RSS of this process and all its descendants (ffmpegs run concurrently)."""

    def __init__(self, period_s: float = 0.05) -> None:
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._period = period_s
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
            self.peak_bytes = max(self.peak_bytes, total)
            self._stop.wait(self._period)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def child(kind: str, args: list[str]) -> None:
    """Run one normalisation in this (fresh) process and print wall time and peak RSS as JSON."""
    with TreeRss() as tree:
        figures = _run_kind(kind, args)
    figures["rss_tree_mb"] = tree.peak_bytes / 2**20
    print(json.dumps(figures))


def _run_kind(kind: str, args: list[str]) -> dict[str, float]:
    start = time.perf_counter()
    if kind == "ours":
        normalize(Path(args[0]), Path(args[1]))
    elif kind == "peer":
        cmd = [str(PEER), args[0], "-nt", "ebu", "-t", "-16", "-tp", "-1.5", *MP3_ARGS, "-ext", "mp3"]
        subprocess.run([*cmd, "-o", args[1], "-f", "-q"], check=True)
    else:  # programme: signature, ident, items read twice, closing
        audio = [Path(a) for a in args[2:]]
        layout = ProgrammeLayout(signature=audio[0], ident=audio[1], closing=audio[2], repeat=2, gap_s=1.5)
        result = assemble(layout, [Path(args[0]), *audio[3:]], Path(args[1]))
        print(json.dumps({"predicted_s": result.duration_s}), file=sys.stderr)
    wall = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # ru_maxrss: largest descendant, KiB on Linux
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "rss_self_mb": own.ru_maxrss / 1024,
        "rss_children_mb": kids.ru_maxrss / 1024,
    }


def run_child(kind: str, *args: Path) -> dict[str, float]:
    """Start a fresh interpreter for one run and read back its figures."""
    cmd = [sys.executable, __file__, "--child", kind, *map(str, args)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    extra = [line for line in done.stderr.splitlines() if line.startswith("{")]
    if extra:
        figures.update(json.loads(extra[-1]))
    return figures


def describe(name: str, figures: dict[str, float], result: LoudnessMeasurement) -> str:
    """One line of figures for a run."""
    return (
        f"{name:<17} wall {figures['wall_s']:6.1f} s  CPU {figures['cpu_s']:6.1f} s   "
        f"peak RSS, whole process tree {figures['rss_tree_mb']:4.0f} MB "
        f"(largest single process {max(figures['rss_self_mb'], figures['rss_children_mb']):.0f})   "
        f"I {result.integrated_lufs:6.1f} LUFS   TP {result.true_peak_dbtp:5.1f} dBTP   "
        f"{result.duration_s:7.1f} s"
    )


def main() -> None:
    """Build inputs, run both normalisers and the programme assembly, print figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--skip-programme", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        child(opts.child[0], opts.child[1:])
        return
    source = speech_file(opts.minutes)
    src = measure(source)
    print(
        f"input: {source} {src.duration_s / 60:.1f} min, I {src.integrated_lufs:.1f} LUFS, "
        f"TP {src.true_peak_dbtp:.1f} dBTP, PLR {src.true_peak_dbtp - src.integrated_lufs:.1f} dB"
    )
    print("target: -16.0 LUFS, true peak <= -1.5 dBTP, output MP3 128 kb/s 44.1 kHz mono for both")
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        out = Path(tmp)
        ours = run_child("ours", source, out / "ours.mp3")
        ours_m = measure(out / "ours.mp3")
        peer = run_child("peer", source, out / "peer.mp3")
        peer_m = measure(out / "peer.mp3")
        print(describe("broadcaster", ours, ours_m))
        print(describe("ffmpeg-normalize", peer, peer_m))
        print(f"wall-time ratio ours/ffmpeg-normalize: {ours['wall_s'] / peer['wall_s']:.2f}")
        print(
            f"CPU-time ratio ours/ffmpeg-normalize: {ours['cpu_s'] / peer['cpu_s']:.2f} (less load-dependent)"
        )
        print(
            f"loudness error: ours {abs(ours_m.integrated_lufs + 16):.1f} LU, "
            f"ffmpeg-normalize {abs(peer_m.integrated_lufs + 16):.1f} LU"
        )
        if opts.skip_programme:
            return
        items = programme_items(source, opts.minutes / 2)
        clips = [ROOT / "audio" / "signature.ogg", CACHE / "sentence-0.wav", CACHE / "sentence-9.wav"]
        prog = run_child("programme", items[0], out / "programme.mp3", *clips, items[1])
        prog_m = measure(out / "programme.mp3")
        print(describe("programme (2x)", prog, prog_m))
        print(f"programme: predicted {prog['predicted_s']:.2f} s, decoded {prog_m.duration_s:.2f} s")


if __name__ == "__main__":
    main()
