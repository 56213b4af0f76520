"""The composition root: builds the database, clock, normaliser, TTS chain and player from a Config."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from broadcaster.clock import Clock, SystemClock
from broadcaster.config import Config, default_config_text
from broadcaster.errors import ConfigError
from broadcaster.files import write_atomic

# The database layer (SQLAlchemy, Alembic) is imported where it is used, so commands that never
# open the database (`speech normalize`) start fast.
if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from broadcaster.audio.loudness import LoudnessTarget, OutputFormat
    from broadcaster.domain import RelayOccurrence
    from broadcaster.planning import ProgrammeShape
    from broadcaster.playout.daemon import Daemon
    from broadcaster.playout.ear import Ear
    from broadcaster.playout.player import Player
    from broadcaster.services.doctor import DoctorSettings, Probes
    from broadcaster.services.forwarding import DistrictPort
    from broadcaster.services.media import MediaSettings
    from broadcaster.services.programmes import BuiltProgramme, FrameSettings, ProgrammeParts
    from broadcaster.services.queue import Lengths
    from broadcaster.speech.engines import Engine as TtsEngine
    from broadcaster.speech.normalize import Normalizer
    from broadcaster.speech.render import Renderer
    from broadcaster.speech.voices import VoiceOffer
    from broadcaster.store.models import RevisionRow, StationRow
    from broadcaster.witness import Witness

REPO_ROOT = Path(__file__).resolve().parents[1]
# How often the daemon retries off-air verdicts whose rows were late and prunes old recordings.
EAR_CHORE_S = 60.0


@dataclass
class App:
    """Everything a command or the daemon needs, built once from the Config."""

    config: Config
    clock: Clock = field(default_factory=SystemClock)

    @cached_property
    def engine(self) -> Engine:
        """The database engine."""
        from broadcaster.store import db

        return db.make_engine(self.config.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """Session factory; every commit that appends as-run rows signs the new chain head."""
        from broadcaster.store import db
        from broadcaster.witness import sign_after_commit

        sign_after_commit(self.engine, self.witness, self.clock)
        return db.session_factory(self.engine)

    @cached_property
    def witness(self) -> Witness:
        """The station key and the signed chain heads, in the home (outside the database)."""
        from broadcaster.witness import HeadStore, StationKey, Witness

        home = self.config.home
        return Witness(StationKey(home / "keys" / "station-ed25519.pem"), HeadStore(home / "heads"))

    @contextmanager
    def tx(self) -> Iterator[Session]:
        """A checked unit of work on an initialised database."""
        from broadcaster.store import db

        db.require_migrated(self.engine)
        with db.transaction(self.sessions) as session:
            yield session

    @contextmanager
    def station_tx(self, code: str | None) -> Iterator[tuple[Session, StationRow]]:
        """`tx` with the station named `code` (None: the configured or only one), as most commands need."""
        from broadcaster.services.stations import find_station

        with self.tx() as session:
            yield session, find_station(session, code)

    def init(self) -> list[str]:
        """Create the home, a commented config and the database; idempotent. Returns what was made."""
        from broadcaster.store import db

        made = []
        home = self.config.home
        if not home.exists():
            home.mkdir(parents=True)
            made.append(str(home))
        for sub in (self.config.media_dir, self.config.aired_dir):
            sub.mkdir(parents=True, exist_ok=True)
        if not self.config.config_path.exists():
            write_atomic(self.config.config_path, default_config_text().encode("utf-8"))
            made.append(str(self.config.config_path))
        if db.migrate(self.engine):
            made.append(self.config.database_url)
        if not self.witness.key.exists():
            from broadcaster.services.chain import sign_existing_chains

            self.witness.key.fingerprint()  # creates the key
            with self.tx() as session:
                sign_existing_chains(session, self.witness, self.clock.now())
            made.append(str(self.witness.key.path))
        return made

    @cached_property
    def normalizer(self) -> Normalizer:
        """The Vietnamese normaliser with the shipped lexicon plus the station's own file."""
        from broadcaster.speech.lexicon import station_lexicon
        from broadcaster.speech.normalize import DocNumberRule, Normalizer

        lexicon = station_lexicon(
            self.config.home
        )  # shipped entries, then the home's lexicon.toml / lexicon.csv
        rule = self.config.speech.doc_number_rule
        if rule not in {r.value for r in DocNumberRule}:
            raise ConfigError(
                f"Cách đọc số văn bản '{rule}' không hợp lệ (speech.doc_number_rule).",
                f"Chọn một trong: {', '.join(r.value for r in DocNumberRule)}.",
            )
        return Normalizer(lexicon, doc_rule=DocNumberRule(rule))

    def speak(self, text: str) -> str:
        """Validated text → the words the loudspeakers will say."""
        from broadcaster.speech.normalize import validate_text

        return self.normalizer.normalize(validate_text(text, self.config.speech.max_chars))

    def speak_frame(self, text: str) -> str:
        """Spoken ident or closing words; empty when the station configured none (that part is left out)."""
        from broadcaster.services.programmes import spoken_frame

        return spoken_frame(self.speak, text)

    @cached_property
    def renderer(self) -> Renderer:
        """The TTS fallback chain with its render cache under the home."""
        from broadcaster.speech.engines import create_engine
        from broadcaster.speech.normalize import NORMALIZER_VERSION
        from broadcaster.speech.render import RenderCache, Renderer

        sp = self.config.speech
        settings: dict[str, dict[str, Any]] = {
            "gtts": {"lang": sp.gtts_lang, "tld": sp.gtts_tld, "timeout": sp.gtts_timeout_s},
            "espeak": {"voice": sp.espeak_voice, "rate": sp.espeak_rate, "pitch": sp.espeak_pitch},
        }
        engines = [create_engine(name, **settings.get(name, {})) for name in sp.engines]
        cache = RenderCache(self.config.home / "cache" / "tts", clock=self.clock)
        return Renderer(engines, cache, NORMALIZER_VERSION, retries=sp.retries, voices=self.voice_engine)

    @cached_property
    def voices(self) -> VoiceOffer:
        """The voices this PC offers (installed engines only) and the station's default voice and speed."""
        from broadcaster.speech.voices import installed_voices, station_offer, voice_id

        sp = self.config.speech
        model = Path(sp.piper_model).expanduser() if sp.piper_model else None
        google = sp.gtts_lang if "gtts" in sp.engines else None  # Google only where the chain uses it
        offered = installed_voices(gtts_lang=google, piper_model=model)
        head = sp.engines[0] if sp.engines else ""
        espeak = voice_id("espeak", sp.espeak_voice)
        chain_default = voice_id("gtts", sp.gtts_lang) if head == "gtts" else espeak
        return station_offer(offered, sp.voice, chain_default, sp.speed)

    def voice_engine(self, voice: str) -> TtsEngine | None:
        """The TTS engine that speaks an offered voice with the station's settings (None: not offered)."""
        from broadcaster.speech.engines import create_engine
        from broadcaster.speech.engines.piper import PiperEngine

        chosen = self.voices.find(voice)
        if chosen is None:
            return None
        sp = self.config.speech
        if chosen.engine == "piper":
            return PiperEngine(Path(chosen.name))
        if chosen.engine == "gtts":
            return create_engine("gtts", lang=chosen.name, tld=sp.gtts_tld, timeout=sp.gtts_timeout_s)
        return create_engine("espeak", voice=chosen.name, rate=sp.espeak_rate, pitch=sp.espeak_pitch)

    @property
    def loudness_target(self) -> LoudnessTarget:
        """The configured loudness target."""
        from broadcaster.audio.loudness import LoudnessTarget

        a = self.config.audio
        return LoudnessTarget(
            integrated_lufs=a.target_lufs, true_peak_dbtp=a.true_peak_dbtp, trim_silence=a.trim_silence
        )

    @property
    def output_format(self) -> OutputFormat:
        """The configured format for air."""
        from broadcaster.audio.loudness import OutputFormat

        a = self.config.audio
        return OutputFormat(codec=a.format, sample_rate=a.sample_rate, channels=a.channels, bitrate=a.bitrate)

    @property
    def signature_path(self) -> Path | None:
        """The signature tune: configured, else the one shipped in audio/."""
        if not self.config.programme.use_signature:
            return None
        configured = self.config.programme.signature
        path = Path(configured).expanduser() if configured else REPO_ROOT / "audio" / "signature.ogg"
        return path if path.exists() else None

    def player_name(self) -> str:
        """The configured player; 'auto' means a PulseAudio output if a server answers, else the file sink."""
        name = self.config.playout.player
        if name != "auto":
            return name
        if shutil.which("pactl") and shutil.which("pacat"):
            probe = subprocess.run(["pactl", "info"], capture_output=True, timeout=5, check=False)
            if probe.returncode == 0:
                return "pacat"
        return "file"

    def player(self) -> Player:
        """The player that airs programmes."""
        from broadcaster.playout.player import create_player

        return create_player(
            self.player_name(),
            device=self.config.playout.device or None,
            clock=self.clock,
            out_dir=self.config.aired_dir,
            work_dir=self.config.home / "tmp",  # a killed daemon's leftovers are removed at its next start
        )

    def media_settings(self) -> MediaSettings:
        """Where air audio goes and its loudness target and format."""
        from broadcaster.services.media import MediaSettings

        return MediaSettings(self.config.media_dir, self.loudness_target, self.output_format)

    def programme_parts(self) -> ProgrammeParts:
        """The renderer, media settings, frame and speech that measuring and building programmes use."""
        from broadcaster.services.programmes import ProgrammeParts

        return ProgrammeParts(self.renderer, self.media_settings(), self.frame, self.speak)

    def frame(self, station: StationRow) -> FrameSettings:
        """Signature tune, ident and closing words around a station's items."""
        from broadcaster.services.programmes import FrameSettings

        p = self.config.programme
        return FrameSettings(self.signature_path, station.ident, p.closing, p.gap_s, p.repeat)

    def programme_shape(self, session: Session, station: StationRow) -> ProgrammeShape:
        """Durations of the frame parts, now (renders the ident and closing words if needed)."""
        from broadcaster.services.programmes import programme_shape

        return programme_shape(session, station, self.programme_parts(), now=self.clock.now())

    def duration_of(self, session: Session) -> Callable[[RevisionRow], float]:
        """Seconds of a revision's air audio, rendering it first if needed (the TTS chain is built on use)."""
        from broadcaster.services.programmes import revision_duration

        return lambda rev: revision_duration(session, rev, self.programme_parts(), now=self.clock.now())

    def lengths(self, session: Session, station: StationRow) -> Lengths:
        """The station's programme shape and revision durations, for the queue's capacity checks."""
        from broadcaster.services.programmes import lengths

        return lengths(session, station, self.programme_parts(), now=self.clock.now())

    def builder(self, station: StationRow) -> Callable[[Session, datetime], BuiltProgramme | None]:
        """Builds one session's programme for the daemon."""
        from broadcaster.services import programmes

        return lambda session, planned_start: programmes.build(
            session, station, planned_start, self.programme_parts(), now=self.clock.now()
        )

    def daemon(
        self, station: StationRow, *, outside_hours_ok: bool = False, note: str = "", **timing: Any
    ) -> Daemon:
        """The playout daemon for one station; `timing` overrides DaemonSettings fields (tests, benches)."""
        import dataclasses
        from datetime import timedelta

        from broadcaster.playout.daemon import Daemon, DaemonSettings
        from broadcaster.playout.wake import HomeSocket, PlanWatch
        from broadcaster.services.daemon_lease import StationLease
        from broadcaster.services.district_inbox import InboxChore, InboxParts
        from broadcaster.services.emergency import plan_stamp
        from broadcaster.services.forwarding import ForwardChore
        from broadcaster.services.programmes import hours_rule
        from broadcaster.services.station_playout import StationPlayout
        from broadcaster.services.stations import station_domain

        with self.tx() as session:
            domain = station_domain(session, station)

        p = self.config.playout
        settings = DaemonSettings(
            lead=timedelta(minutes=p.lead_minutes),
            grace=timedelta(seconds=p.grace_s),
            resync_s=p.resync_s,
            note=note,
            resume_policy=p.resume_policy,
            claim_wait_s=p.claim_wait_s,
            lease_ttl=timedelta(seconds=p.lease_s),
        )
        settings = dataclasses.replace(settings, **timing)
        source = StationPlayout(self.sessions, station.id, self.builder(station))
        lease = StationLease(self.sessions, station.id, wait_s=settings.claim_wait_s)
        # Woken at once after an emergency: a datagram from a console in this home, else a fast poll.
        watch = PlanWatch(lambda: plan_stamp(self.sessions, station.id, self.clock.now()))
        chores: list[tuple[float, Callable[[], None]]] = [(1.0, self.relay_chore(station))]
        if (
            district := self.district_port()
        ) is not None:  # forward the log, take in bulletins, while it airs
            code = station.code
            chore = ForwardChore(
                self.sessions,
                code,
                district,
                self.witness,
                self.clock.now,
                beat=lambda: self.station_beat(code),
            )
            parts = InboxParts(self.config.media_dir, self, self.wake_daemon, self.speak)
            chores.append((self.config.district.sync_s, chore))
            chores.append(
                (
                    self.config.district.poll_s,
                    InboxChore(self.sessions, code, district, parts, self.clock.now),
                )
            )
        ear = self.ear(station)
        if ear is not None:  # verdicts whose rows were late, and the evidence past its days
            chores.append((EAR_CHORE_S, ear.housekeep))
        return Daemon(
            source,
            self.player(),
            self.clock,
            settings=settings,
            home=self.config.home,
            allowed=hours_rule(domain, any_hour=outside_hours_ok),
            lease=lease,
            wakers=[HomeSocket(self.config.home), watch],
            chores=chores,
            ear=ear,
        )

    def ear_capture(self) -> str | None:
        """What the ear records: the configured capture, else the PulseAudio output's monitor (or None)."""
        capture = self.config.offair.capture.strip()
        if capture.lower() == "off":
            return None
        if capture:
            return capture
        if self.player_name() not in ("pacat", "paplay", "ffplay"):
            return None  # the file sink and ALSA have no monitor: configure a capture device
        device = self.config.playout.device
        return f"{device}.monitor" if device else "@DEFAULT_MONITOR@"

    def ear(self, station: StationRow) -> Ear | None:
        """The off-air check of one station's daemon (None when there is nothing to listen to)."""
        from broadcaster.audio.offair import EarRules
        from broadcaster.playout.ear import Ear, EarSettings
        from broadcaster.services.offair import VerdictWriter

        capture = self.ear_capture()
        if capture is None:
            return None
        o = self.config.offair
        settings = EarSettings(capture, EarRules(o.silence_s, o.min_similarity), o.keep_days, o.bitrate)
        writer = VerdictWriter(self.sessions, station.id, self.clock, self.config.home)
        return Ear(settings, self.config.offair_dir, self.clock, writer)

    def doctor_probes(self) -> Probes:
        """The real probes of the station self-check on this PC, from the configuration."""
        from broadcaster.services.doctor import Probes
        from broadcaster.services.system_probes import (
            ReportFonts,
            StoreProbe,
            SystemClockProbe,
            SystemDisk,
            SystemLock,
            SystemNetwork,
            SystemOutput,
            SystemTools,
        )

        c = self.config
        return Probes(
            tools=SystemTools(),
            network=SystemNetwork(),
            fonts=ReportFonts(),
            output=SystemOutput(c.playout.player, self.player_name, c.playout.device, c.aired_dir),
            database=StoreProbe(c.database_url, self.witness),
            disk=SystemDisk(c.home),
            lock=SystemLock(c.home),
            clock=SystemClockProbe(),
        )

    def doctor_settings(self, *, play_test: bool = False) -> DoctorSettings:
        """Thresholds and targets of the self-check, from the configuration."""
        from broadcaster.services.doctor import MB, DoctorSettings

        sp = self.config.speech
        gtts_url = f"https://translate.google.{sp.gtts_tld}/" if "gtts" in sp.engines else None
        return DoctorSettings(
            espeak_voice=sp.espeak_voice,
            gtts_url=gtts_url,
            min_free_bytes=int(self.config.doctor.min_free_mb * MB),
            max_clock_offset_s=self.config.doctor.max_clock_offset_s,
            play_test=play_test,
        )

    def relay_chore(self, station: StationRow) -> Callable[[], None]:
        """The daemon's relays of the station's sessions: opened ahead, started on time, logged."""
        from broadcaster.playout.relay import PacatSink, PcmSink, WavSink
        from broadcaster.playout.relay_chore import RelayChore, RelaySettings
        from broadcaster.services.station_relays import StationRelays

        p = self.config.playout
        player = self.player_name()

        def sink(relay: RelayOccurrence) -> PcmSink:
            if player == "file":
                return WavSink(
                    self.config.aired_dir / f"relay-{relay.session_code}-{relay.start:%Y%m%dT%H%M%S}.wav"
                )
            return PacatSink(p.device or None)

        filler = Path(p.relay_filler).expanduser() if p.relay_filler else self.signature_path
        settings = RelaySettings(
            lead_s=p.relay_lead_s, grace_s=p.grace_s, silence_s=p.relay_silence_s, filler=filler
        )
        source = StationRelays(self.sessions, station.id, self.clock.now)
        return RelayChore(source, sink, self.clock, settings, player)

    def district_port(self) -> DistrictPort | None:
        """This station's district server, if the station is linked to one."""
        from broadcaster.services.district_http import HttpDistrict
        from broadcaster.services.forwarding import load_link

        link = load_link(self.config.home)
        return None if link is None else HttpDistrict(link.url, link.token)

    def station_beat(self, station_code: str) -> dict[str, Any]:
        """The heartbeat this station sends its district (the clock read from the PC's time service)."""
        from broadcaster.services.district_inbox import station_beat
        from broadcaster.services.system_probes import SystemClockProbe

        offset = SystemClockProbe().read().offset_s
        with self.station_tx(station_code) as (session, row):
            return station_beat(
                session, row, home=self.config.home, now=self.clock.now(), clock_offset_s=offset
            )

    def wake_daemon(self) -> bool:
        """Ask the daemon running in this home to re-read the plan now (False: none listens here)."""
        from broadcaster.playout.wake import send_wake

        return send_wake(self.config.home)


def build_app(config: Config, clock: Clock | None = None) -> App:
    """The one place that wires the real parts together."""
    return App(config=config, clock=clock or SystemClock())
