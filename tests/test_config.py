"""Config: file + environment into one frozen Config; bad keys named with a suggestion."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from broadcaster.config import Config, default_config_text, load_config
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
