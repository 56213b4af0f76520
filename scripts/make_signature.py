"""Generate the station's original signature chime (bell-like tones, ~4 s) into audio/signature.ogg."""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf

from broadcaster.files import replacing

RATE = 44100
# A rising-then-resolving pentatonic motif (G4, C5, E5, G5, then C5 again), one strike each.
STRIKES: tuple[tuple[float, float, float], ...] = (
    # (start s, fundamental Hz, relative level)
    (0.00, 392.00, 0.85),
    (0.45, 523.25, 0.85),
    (0.90, 659.25, 0.85),
    (1.35, 783.99, 1.00),
    (2.10, 523.25, 0.90),
)
# Inharmonic partials of a small bell (ratio to fundamental, level, decay time in s).
PARTIALS: tuple[tuple[float, float, float], ...] = (
    (0.50, 0.20, 1.60),  # hum tone
    (1.00, 1.00, 1.30),
    (2.00, 0.45, 0.80),
    (2.76, 0.30, 0.50),
    (5.40, 0.12, 0.25),
)
LENGTH_S = 4.2


def bell(freq: float, seconds: float) -> npt.NDArray[np.float64]:
    """One bell strike: decaying partials with a 4 ms attack so the onset does not click."""
    t = np.arange(int(seconds * RATE)) / RATE
    tone = np.zeros_like(t)
    for ratio, level, decay in PARTIALS:
        tone += level * np.sin(2 * np.pi * freq * ratio * t) * np.exp(-t / decay)
    attack = np.minimum(1.0, t / 0.004)
    return tone * attack


def chime() -> npt.NDArray[np.float64]:
    """The whole motif, peak-normalised to −3 dBFS, with a gentle fade at the end."""
    out = np.zeros(int(LENGTH_S * RATE))
    for start, freq, level in STRIKES:
        first = int(start * RATE)
        strike = bell(freq, LENGTH_S - start)
        out[first : first + len(strike)] += level * strike[: len(out) - first]
    fade = int(0.5 * RATE)
    out[-fade:] *= np.linspace(1.0, 0.0, fade)
    peak = float(np.max(np.abs(out)))
    return out * (10 ** (-3 / 20) / peak)


def main() -> None:
    """Write the chime as Ogg Vorbis via ffmpeg (atomic replace)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent.parent / "audio" / "signature.ogg"
    )
    args = parser.parse_args()
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "chime.wav"
        sf.write(wav, chime(), RATE, subtype="FLOAT")
        # -bitexact and no metadata keep the file reproducible from run to run.
        cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-map_metadata", "-1", "-bitexact"]
        with replacing(out) as part:
            subprocess.run([*cmd, "-c:a", "libvorbis", "-q:a", "4", "-f", "ogg", str(part)], check=True)
    print(f"{out} ({out.stat().st_size} bytes, {LENGTH_S:.1f} s)")


if __name__ == "__main__":
    main()
