"""Config: file + environment into one frozen Config; every bad name or value named, all in one error."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from broadcaster import config_rules
from broadcaster.config import SECTIONS, Config, default_config_text, load_config
from broadcaster.errors import ConfigError


def test_defaults_without_a_file(tmp_path: Path) -> None:
    config = load_config({"BROADCASTER_HOME": str(tmp_path)})
    assert config.home == tmp_path
    assert config.speech.engines == ("gtts", "espeak")
    assert config.audio.target_lufs == -16.0 and config.audio.true_peak_dbtp == -1.5
    assert config.database_url == f"sqlite:///{tmp_path / 'broadcaster.db'}"
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.home = tmp_path  # type: ignore[misc]


def test_file_then_environment_override(tmp_path: Path) -> None:
    (tmp_path / "broadcaster.toml").write_text(
        '[playout]\nplayer = "paplay"\ngrace_s = 30\n[speech]\nengines = ["espeak"]\n', encoding="utf-8"
    )
    env = {
        "BROADCASTER_HOME": str(tmp_path),
        "BROADCASTER_PLAYOUT_PLAYER": "file",
        "BROADCASTER_AUDIO_TRIM_SILENCE": "no",
    }
    config = load_config(env)
    assert config.playout.player == "file"  # the environment wins
    assert config.playout.grace_s == 30.0
    assert config.speech.engines == ("espeak",)
    assert config.audio.trim_silence is False


def test_misspelled_file_key_is_named_with_the_nearest_valid_one(tmp_path: Path) -> None:
    (tmp_path / "broadcaster.toml").write_text('[playout]\nplayr = "file"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config({"BROADCASTER_HOME": str(tmp_path)})
    assert "playout.playr" in info.value.one_line() and "'player'" in info.value.one_line()


def test_unknown_section_and_env_variable_are_errors(tmp_path: Path) -> None:
    (tmp_path / "broadcaster.toml").write_text("[speach]\nmax_chars = 10\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'speech'"):
        load_config({"BROADCASTER_HOME": str(tmp_path)})
    with pytest.raises(ConfigError, match="BROADCASTER_AUDIO_TARGET_LUFS"):
        load_config({"BROADCASTER_HOME": str(tmp_path / "x"), "BROADCASTER_AUDIO_TARGET_LUF": "-20"})


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('[audio]\ntarget_lufs = "loud"\n', "audio.target_lufs"),
        ("[programme]\nrepeat = true\n", "programme.repeat"),
        ('[speech]\nengines = "gtts"\n', "speech.engines"),
    ],
)
def test_wrong_types_are_errors(tmp_path: Path, body: str, key: str) -> None:
    (tmp_path / "broadcaster.toml").write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=key):
        load_config({"BROADCASTER_HOME": str(tmp_path)})


def test_broken_toml_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "broadcaster.toml").write_text("[audio\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="TOML"):
        load_config({"BROADCASTER_HOME": str(tmp_path)})


def test_default_config_text_is_valid_and_all_commented(tmp_path: Path) -> None:
    text = default_config_text()
    (tmp_path / "broadcaster.toml").write_text(text, encoding="utf-8")
    assert load_config({"BROADCASTER_HOME": str(tmp_path)}) == Config(home=tmp_path)
    uncommented = text.replace("# ", "")
    (tmp_path / "broadcaster.toml").write_text(uncommented.split("\n", 3)[3], encoding="utf-8")
    assert load_config({"BROADCASTER_HOME": str(tmp_path)}) == Config(home=tmp_path)


# --- every value checked at load, every problem in one error (issues 10 and 11) -------------------

# Issue 10 item 6: values that used to load and fail only when used. (file body, key, env variable, value)
BAD_VALUES = [
    ('[playout]\nplayer = "winamp"\n', "playout.player", "BROADCASTER_PLAYOUT_PLAYER", "winamp"),
    ('[speech]\nengines = ["festival"]\n', "speech.engines", "BROADCASTER_SPEECH_ENGINES", "festival"),
    ("[speech]\nmax_chars = -1\n", "speech.max_chars", "BROADCASTER_SPEECH_MAX_CHARS", "-1"),
    ("[audio]\ntarget_lufs = 5\n", "audio.target_lufs", "BROADCASTER_AUDIO_TARGET_LUFS", "5"),
    ("[playout]\nresync_s = 0\n", "playout.resync_s", "BROADCASTER_PLAYOUT_RESYNC_S", "0"),
    (
        '[database]\nurl = "mysql://root:secret@localhost/db"\n',
        "database.url",
        "BROADCASTER_DATABASE_URL",
        "mysql://root:secret@localhost/db",
    ),
]


def config_error(home: Path, body: str | None = None, **env: str) -> str:
    """The one-line text of the ConfigError that loading `body` (and `env`) raises."""
    if body is not None:
        home.mkdir(parents=True, exist_ok=True)
        (home / "broadcaster.toml").write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config({"BROADCASTER_HOME": str(home), **env})
    text = info.value.one_line()
    assert "\n" not in text
    return text


@pytest.mark.parametrize(("body", "key", "variable", "value"), BAD_VALUES, ids=[b[1] for b in BAD_VALUES])
def test_each_bad_value_from_the_file_fails_at_load_naming_line_and_key(
    tmp_path: Path, body: str, key: str, variable: str, value: str
) -> None:
    text = config_error(tmp_path, body)
    assert f"broadcaster.toml:2: {key}:" in text
    assert variable not in text


@pytest.mark.parametrize(("body", "key", "variable", "value"), BAD_VALUES, ids=[b[2] for b in BAD_VALUES])
def test_each_bad_value_from_the_environment_names_the_variable_not_the_file(
    tmp_path: Path, body: str, key: str, variable: str, value: str
) -> None:
    text = config_error(tmp_path, '[station]\ncode = "phu-thu"\n', **{variable: value})
    assert text.startswith(f"biến môi trường {variable}:")
    assert "broadcaster.toml" not in text


def test_messages_say_the_allowed_values_or_range(tmp_path: Path) -> None:
    assert "chọn một trong: auto, pacat, paplay, ffplay, aplay, file" in config_error(
        tmp_path, '[playout]\nplayer = "winamp"\n'
    )
    assert "các bộ đọc hiện có: gtts, espeak" in config_error(tmp_path, '[speech]\nengines = ["festival"]\n')
    assert "từ -40 đến -5 LUFS" in config_error(tmp_path, "[audio]\ntarget_lufs = 5\n")
    assert "lớn hơn 0" in config_error(tmp_path, "[playout]\nresync_s = 0\n")
    assert "từ 1 đến" in config_error(tmp_path, "[speech]\nmax_chars = -1\n")
    assert "từ -9 đến 0 dBTP" in config_error(tmp_path, "[audio]\ntrue_peak_dbtp = 1.5\n")
    assert "natural, slash, number" in config_error(tmp_path, '[speech]\ndoc_number_rule = "roman"\n')
    assert "resume, restart, skip" in config_error(tmp_path, '[playout]\nresume_policy = "again"\n')
    assert "mp3, ogg, opus, aac, flac, wav" in config_error(tmp_path, '[audio]\nformat = "wma"\n')


def test_a_mysql_url_says_only_sqlite_and_postgresql_and_hides_the_password(tmp_path: Path) -> None:
    text = config_error(tmp_path, '[database]\nurl = "mysql+pymysql://root:secret@localhost/db"\n')
    assert "chỉ hỗ trợ SQLite và PostgreSQL" in text and "'mysql+pymysql'" in text
    assert "secret" not in text
    assert "postgresql://" in config_error(tmp_path, '[database]\nurl = "postgres://u@h/db"\n')
    assert "thiếu loại" in config_error(tmp_path, '[database]\nurl = "/var/lib/broadcaster.db"\n')


def test_engine_list_is_not_empty_and_names_each_engine_once(tmp_path: Path) -> None:
    assert "đang trống" in config_error(tmp_path, "[speech]\nengines = []\n")
    assert "'espeak' được ghi hai lần" in config_error(tmp_path, '[speech]\nengines = ["espeak", "espeak"]\n')
    assert "đang trống" in config_error(tmp_path / "x", BROADCASTER_SPEECH_ENGINES=" , ")


def test_two_problems_from_file_and_environment_are_both_in_one_error(tmp_path: Path) -> None:
    text = config_error(
        tmp_path,
        '[station]\ncode = "phu-thu"\n[playout]\nplayer = "winamp"\n',
        BROADCASTER_AUDIO_TARGET_LUFS="5",
    )
    assert text.startswith(f"Cấu hình có 2 lỗi (tệp {tmp_path / 'broadcaster.toml'}):")
    assert "broadcaster.toml:4: playout.player:" in text
    assert "biến môi trường BROADCASTER_AUDIO_TARGET_LUFS:" in text
    assert text.index("playout.player") < text.index("BROADCASTER_AUDIO_TARGET_LUFS")  # file first
    assert "; " in text


def test_every_kind_of_problem_is_collected_not_just_the_first(tmp_path: Path) -> None:
    body = (
        "player = 'file'\n"  # outside any section
        "[speach]\nmax_chars = 10\n"  # unknown section
        "[playout]\nplayr = 'file'\ngrace_s = 'soon'\nlead_minutes = -1\n"  # unknown key, type, range
        "[audio]\ngap_s = 1.0\n"  # a key of another section
    )
    text = config_error(tmp_path, body, BROADCASTER_PLAYOUT_RESYNC_S="nhanh", BROADCASTER_SPEECH_RETRIS="1")
    assert text.startswith("Cấu hình có 8 lỗi")
    for needle in (
        "broadcaster.toml:1: player: khóa 'player' nằm ngoài mọi mục — đặt dòng này dưới tiêu đề [playout]",
        "broadcaster.toml:2: speach: mục [speach] không tồn tại — có phải ý bạn là 'speech'?",
        "broadcaster.toml:5: playout.playr: khóa 'playout.playr' không tồn tại — có phải ý bạn là 'player'?",
        'broadcaster.toml:6: playout.grace_s: giá trị "soon" sai kiểu',
        "broadcaster.toml:7: playout.lead_minutes:",
        "broadcaster.toml:9: audio.gap_s: khóa 'audio.gap_s' không tồn tại — khóa này thuộc mục [programme]",
        "biến môi trường BROADCASTER_PLAYOUT_RESYNC_S: giá trị 'nhanh' sai kiểu",
        "biến môi trường BROADCASTER_SPEECH_RETRIS: không có khóa cấu hình nào mang tên này"
        " — có phải ý bạn là 'BROADCASTER_SPEECH_RETRIES'?",
    ):
        assert needle in text, needle


def test_a_near_miss_of_an_allowed_value_gets_did_you_mean(tmp_path: Path) -> None:
    assert "có phải ý bạn là 'pacat'?" in config_error(tmp_path, '[playout]\nplayer = "pacatt"\n')
    assert "có phải ý bạn là 'espeak'?" in config_error(tmp_path, '[speech]\nengines = ["gtts", "espeek"]\n')
    assert "có phải ý bạn là 'slash'?" in config_error(
        tmp_path / "x", BROADCASTER_SPEECH_DOC_NUMBER_RULE="Slash"
    )
    assert "có phải ý bạn là" not in config_error(tmp_path, "[audio]\nsample_rate = 44000\n")  # numbers: no


def test_format_and_sample_rate_are_checked_together(tmp_path: Path) -> None:
    text = config_error(tmp_path, '[audio]\nformat = "opus"\n')
    assert "broadcaster.toml:2: audio.format: Opus không hỗ trợ tần số 44100 Hz" in text
    (tmp_path / "broadcaster.toml").write_text(
        '[audio]\nformat = "opus"\nsample_rate = 48000\n', encoding="utf-8"
    )
    assert load_config({"BROADCASTER_HOME": str(tmp_path)}).audio.format == "opus"


def test_the_environment_wins_over_a_bad_file_value(tmp_path: Path) -> None:
    """Only the value in effect is checked: a variable that replaces a bad file value makes it unused."""
    (tmp_path / "broadcaster.toml").write_text('[playout]\nplayer = "winamp"\n', encoding="utf-8")
    env = {"BROADCASTER_HOME": str(tmp_path), "BROADCASTER_PLAYOUT_PLAYER": "file"}
    assert load_config(env).playout.player == "file"


def test_the_edges_of_each_range_and_every_allowed_name_load(tmp_path: Path) -> None:
    body = (
        "[speech]\nmax_chars = 1\nretries = 0\nengines = ['espeak-ng', 'gtts']\ndoc_number_rule = 'number'\n"
        "[audio]\ntarget_lufs = -40\ntrue_peak_dbtp = 0\nformat = 'flac'\nsample_rate = 48000\nchannels = 2\n"
        "bitrate = ''\n"
        "[playout]\nlead_minutes = 0\ngrace_s = 0\nresync_s = 0.05\nresume_policy = 'skip'\n"
        "player = 'aplay'\n"
        "[database]\nurl = 'postgresql+psycopg://postgres@/postgres?host=/tmp'\n"
    )
    (tmp_path / "broadcaster.toml").write_text(body, encoding="utf-8")
    config = load_config({"BROADCASTER_HOME": str(tmp_path), "BROADCASTER_AUDIO_TARGET_LUFS": "-5"})
    assert config.audio.target_lufs == -5.0 and config.playout.resync_s == 0.05
    assert config.speech.engines == ("espeak-ng", "gtts") and config.audio.bitrate == ""
    sqlite = {"BROADCASTER_HOME": str(tmp_path), "BROADCASTER_DATABASE_URL": "sqlite:////srv/b.db"}
    assert load_config(sqlite).database_url == "sqlite:////srv/b.db"


def test_syntax_error_and_missing_explicit_file_name_the_place(tmp_path: Path) -> None:
    text = config_error(tmp_path, "[audio]\ntarget_lufs = \n")
    assert "broadcaster.toml:2" in text and "TOML" in text
    missing = tmp_path / "khong-co.toml"
    assert "khong-co.toml" in config_error(tmp_path / "x", BROADCASTER_CONFIG=str(missing))


def test_allowed_names_mirror_the_registries_they_stand_for() -> None:
    """config sits above speech, audio and playout, so it keeps their names; this keeps them equal."""
    from broadcaster.audio import loudness
    from broadcaster.playout import player, source
    from broadcaster.speech.engines import ENGINE_FACTORIES
    from broadcaster.speech.normalize import DocNumberRule

    assert set(config_rules.ENGINE_NAMES) == set(ENGINE_FACTORIES)
    assert ("auto", *player.PLAYER_NAMES) == config_rules.PLAYER_NAMES
    assert tuple(rule.value for rule in DocNumberRule) == config_rules.DOC_NUMBER_RULES
    assert config_rules.RESUME_POLICIES == source.RESUME_POLICIES
    assert set(config_rules.AUDIO_FORMATS) == set(loudness._CODECS)
    for codec in config_rules.AUDIO_FORMATS:
        rate = 48000 if codec == "opus" else 44100
        assert loudness.OutputFormat(codec=codec, sample_rate=rate).codec == codec


def test_every_rule_names_a_real_key() -> None:
    keys = {f"{name}.{f.name}" for name, cls in SECTIONS.items() for f in dataclasses.fields(cls)}
    assert set(config_rules.RULES) <= keys


def test_loading_the_config_imports_no_heavy_module(tmp_path: Path) -> None:
    probe = (
        "import sys, json\n"
        "from broadcaster.config import load_config\n"
        f"load_config({{'BROADCASTER_HOME': {str(tmp_path)!r}}})\n"
        "heavy = {'gtts', 'sqlalchemy', 'numpy', 'requests', 'apscheduler'}\n"
        "below = ('broadcaster.speech', 'broadcaster.playout', 'broadcaster.audio', 'broadcaster.store')\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in heavy or m.startswith(below)]\n"
        "print(json.dumps(sorted(loaded)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(result.stdout) == []


def test_the_cli_prints_every_problem_on_one_line_and_exits_1(clean_env: Path) -> None:
    clean_env.mkdir(parents=True)
    (clean_env / "broadcaster.toml").write_text('[playout]\nplayer = "winamp"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "BROADCASTER_SPEECH_ENGINES"}
    env["BROADCASTER_SPEECH_ENGINES"] = "festival"
    cli = str(Path(sys.executable).with_name("broadcaster"))
    result = subprocess.run(
        [cli, "user", "list"], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi: Cấu hình có 2 lỗi"), result.stderr
    assert "broadcaster.toml:2: playout.player" in lines[0]
    assert "biến môi trường BROADCASTER_SPEECH_ENGINES" in lines[0]


def test_the_district_name_is_written_with_its_unit_and_its_place_may_be_left_empty(tmp_path: Path) -> None:
    text = config_error(tmp_path, '[district]\nname = "Cái Răng"\n')
    assert "broadcaster.toml:2: district.name:" in text and '"Quận Cái Răng"' in text
    (tmp_path / "broadcaster.toml").unlink()
    for name in ("Quận Cái Răng", "Huyện Phong Điền", "Thị xã Kinh Môn", "Quận 1", ""):
        config = load_config({"BROADCASTER_HOME": str(tmp_path), "BROADCASTER_DISTRICT_NAME": name})
        assert (config.district.name, config.district.place) == (name, "")
