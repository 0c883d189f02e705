"""Settings: declared once, TOML on disk, clear sentences for every mistake, never a secret."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from callsys.errors import ConfigError
from callsys.settings import (
    AREA_CODE,
    CRM_BACKEND,
    DATABASE,
    DIAL_PREFIX,
    DND,
    DNIS_LINES,
    MIN_LOG_DIGITS,
    OPTIONS,
    REGION,
    Settings,
    config_path,
    declare,
    load_settings,
    p_str,
    unreadable_settings,
)


@pytest.fixture
def no_provisioning(tmp_path: Path) -> Path:
    return tmp_path / "no-provisioning.toml"  # does not exist: only the built-in defaults


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_means_the_built_in_defaults(tmp_path: Path, no_provisioning: Path) -> None:
    settings = load_settings(tmp_path / "missing.toml", provisioning=no_provisioning)
    assert settings[REGION] == "IR"
    assert settings[MIN_LOG_DIGITS] == 5
    assert settings[CRM_BACKEND] == "local"
    assert settings[DIAL_PREFIX] == ""
    assert settings[DATABASE] == ""
    assert settings.warnings == []
    assert not settings.is_set(REGION)


def test_default_location_is_the_platform_config_dir(tmp_path: Path) -> None:
    # tests/conftest.py points XDG_CONFIG_HOME at a temporary folder
    assert config_path().name == "settings.toml"
    assert "callsys" in config_path().parts


def test_a_missing_file_named_on_the_command_line_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml", must_exist=True)


def test_values_are_read_and_typed(tmp_path: Path, no_provisioning: Path) -> None:
    path = write(
        tmp_path / "s.toml",
        '[numbers]\nregion = "de"\narea_code = "30"\ndnis_lines = { "7000" = "Sales" }\n'
        '[phone]\ndial_prefix = "9"\n[logging]\nmin_log_digits = 7\n',
    )
    settings = load_settings(path, provisioning=no_provisioning)
    assert settings[REGION] == "DE"  # normalised
    assert settings[AREA_CODE] == "30"
    assert settings[DNIS_LINES] == {"7000": "Sales"}
    assert settings[DIAL_PREFIX] == "9"
    assert settings[MIN_LOG_DIGITS] == 7


def test_bad_toml_is_one_sentence_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "s.toml", "[numbers\nregion = IR\n")
    with pytest.raises(ConfigError, match=r"s\.toml is not valid TOML") as caught:
        load_settings(path)
    assert caught.value.path == str(path)


def test_not_utf8_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_bytes(b'[numbers]\nregion = "\xff"\n')
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_settings(path)


@pytest.mark.parametrize(
    ("toml", "key", "expected"),
    [
        ("[logging]\nmin_log_digits = 99\n", "logging.min_log_digits", "a whole number from 0 to 20"),
        ('[logging]\nmin_log_digits = "5"\n', "logging.min_log_digits", "a whole number from 0 to 20"),
        ('[numbers]\nregion = "Iran"\n', "numbers.region", "two-letter country code"),
        ('[phone]\ndial_prefix = "nine"\n', "phone.dial_prefix", "up to 6 digits"),
        ('[crm]\nbackend = "salesforce"\n', "crm.backend", "one of 'local', 'dynamics'"),
        ('[crm]\nurl = "crm.example.com"\n', "crm.url", "URL"),
        ("[numbers]\ndnis_lines = 5\n", "numbers.dnis_lines", "a table of text values"),
    ],
)
def test_a_bad_value_names_the_key_and_what_was_expected(
    tmp_path: Path, no_provisioning: Path, toml: str, key: str, expected: str
) -> None:
    path = write(tmp_path / "s.toml", toml)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, provisioning=no_provisioning)
    message = str(caught.value)
    assert f"'{key}'" in message
    assert expected in message
    assert caught.value.key == key
    assert "Traceback" not in message


@pytest.mark.parametrize(
    "toml",
    [
        '[phone.options]\npassword = "hunter2"\n',
        '[crm]\nclient_secret = "abc"\n',
        '[[server.branches]]\nname = "x"\ntoken = "t"\n',
    ],
)
def test_a_secret_in_the_file_is_refused_and_sent_to_the_keyring(tmp_path: Path, toml: str) -> None:
    path = write(tmp_path / "s.toml", toml)
    with pytest.raises(ConfigError, match="contains a secret") as caught:
        load_settings(path)
    assert "callsys secret set" in str(caught.value)


def test_an_empty_password_field_is_not_a_secret(tmp_path: Path, no_provisioning: Path) -> None:
    path = write(tmp_path / "s.toml", '[phone.options]\npassword = ""\n')
    assert load_settings(path, provisioning=no_provisioning).warnings == []


def test_unknown_keys_are_kept_and_warned_about(tmp_path: Path, no_provisioning: Path) -> None:
    path = write(
        tmp_path / "s.toml",
        '[numbers]\nregion = "IR"\nfuture_option = true\n\n[plugins]\nweather = "on"\n',
    )
    settings = load_settings(path, provisioning=no_provisioning)
    assert any("numbers.future_option" in w for w in settings.warnings)
    assert any("plugins" in w for w in settings.warnings)
    saved = settings.save(tmp_path / "out.toml")
    text = saved.read_text(encoding="utf-8")
    assert "future_option = true" in text
    assert 'weather = "on"' in text


def test_save_and_load_round_trip(tmp_path: Path, no_provisioning: Path) -> None:
    settings = Settings()
    settings.set(REGION, "us")
    settings.set("phone.dial_prefix", "9")
    settings.set(DNIS_LINES, {"+982188776655": "Head office"})
    settings.set(MIN_LOG_DIGITS, 4)
    path = settings.save(tmp_path / "deep" / "settings.toml")
    again = load_settings(path, provisioning=no_provisioning)
    assert again[REGION] == "US"
    assert again[DIAL_PREFIX] == "9"
    assert again[DNIS_LINES] == {"+982188776655": "Head office"}
    assert again[MIN_LOG_DIGITS] == 4
    assert again.warnings == []
    assert not list(tmp_path.glob("deep/*.tmp"))  # written atomically


def test_set_validates_too() -> None:
    with pytest.raises(ConfigError, match=r"'logging\.min_log_digits'"):
        Settings().set(MIN_LOG_DIGITS, -1)


def test_provisioning_defaults_sit_between_the_file_and_the_built_ins(tmp_path: Path) -> None:
    provisioning = write(
        tmp_path / "briefcase.toml",
        '[defaults.numbers]\nregion = "DE"\n[defaults.phone]\ndial_prefix = "0"\n',
    )
    user = write(tmp_path / "s.toml", '[phone]\ndial_prefix = "9"\n')
    settings = load_settings(user, provisioning=provisioning)
    assert settings[REGION] == "DE"  # from provisioning
    assert settings[DIAL_PREFIX] == "9"  # the user's file wins


def test_every_option_is_declared_once_with_a_valid_default() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        declare("numbers.region", "IR", p_str, "x", "numbers")
    for key, option in OPTIONS.items():
        assert option.parse(option.default) == option.default, key
        assert "." in key


# ------------------------------------------------------------ writing the file (issue 11, defect 1)
def test_saving_keeps_the_previous_version_as_bak(tmp_path: Path, no_provisioning: Path) -> None:
    path = write(tmp_path / "settings.toml", '[phone]\ndial_prefix = "9"\n')
    settings = load_settings(path, provisioning=no_provisioning)
    settings.set(DIAL_PREFIX, "0")
    settings.save()
    assert (tmp_path / "settings.toml.bak").read_text(encoding="utf-8") == '[phone]\ndial_prefix = "9"\n'
    assert load_settings(path, provisioning=no_provisioning)[DIAL_PREFIX] == "0"
    settings.set(DIAL_PREFIX, "00")
    settings.save()  # the .bak is always the version just before
    assert load_settings(tmp_path / "settings.toml.bak", provisioning=no_provisioning)[DIAL_PREFIX] == "0"


def test_a_file_that_could_not_be_read_is_not_written_over_until_asked(tmp_path: Path) -> None:
    broken = '[phone]\ndial_prefix = "9"\n[hotkeys\nanswer = "F5"\n'
    path = write(tmp_path / "settings.toml", broken)
    with pytest.raises(ConfigError) as exc:
        load_settings(path)
    settings = unreadable_settings(path, str(exc.value))
    assert settings.path == path and settings.load_error
    settings.set(DND, True)
    with pytest.raises(ConfigError, match="not written over"):
        settings.save()
    assert path.read_text(encoding="utf-8") == broken
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.toml"]  # no copy, no temp file

    saved = settings.save(replace_unreadable=True)
    assert saved == path
    assert settings.kept_copy is not None and settings.kept_copy.parent == tmp_path
    assert re.fullmatch(r"settings\.toml\.broken-\d{8}-\d{6}", settings.kept_copy.name)
    assert settings.kept_copy.read_text(encoding="utf-8") == broken
    assert load_settings(path)[DND] is True
    assert settings.load_error is None
    settings.save()  # from now on an ordinary file
    assert settings.kept_copy is None


def test_a_file_broken_after_loading_is_not_written_over(tmp_path: Path, no_provisioning: Path) -> None:
    path = write(tmp_path / "settings.toml", '[phone]\ndial_prefix = "9"\n')
    settings = load_settings(path, provisioning=no_provisioning)
    edited = '[phone]\ndial_prefix = "9"\narea_code = "21\n'  # the agent's editor, half-way
    write(path, edited)
    settings.set(DND, True)
    with pytest.raises(ConfigError, match="not written over"):
        settings.save()
    assert path.read_text(encoding="utf-8") == edited
    assert settings.load_error  # the next save is refused too


def test_a_write_that_fails_leaves_the_old_file_and_no_temporary_file(
    tmp_path: Path, no_provisioning: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = '[phone]\ndial_prefix = "9"\n'
    path = write(tmp_path / "settings.toml", text)
    settings = load_settings(path, provisioning=no_provisioning)
    settings.set(DIAL_PREFIX, "0")
    real_replace = os.replace

    def disk_full(src: str, dst: str) -> None:
        if Path(dst) == path:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError):
        settings.save()
    assert path.read_text(encoding="utf-8") == text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.toml", "settings.toml.bak"]


def test_a_linked_settings_file_is_written_where_the_link_points(
    tmp_path: Path, no_provisioning: Path
) -> None:
    (tmp_path / "dotfiles").mkdir()
    real = write(tmp_path / "dotfiles" / "callsys.toml", '[phone]\ndial_prefix = "9"\n')
    link = tmp_path / "settings.toml"
    link.symlink_to(real)
    settings = load_settings(link, provisioning=no_provisioning)
    settings.set(DIAL_PREFIX, "0")
    settings.save()
    assert link.is_symlink()
    assert load_settings(real, provisioning=no_provisioning)[DIAL_PREFIX] == "0"
