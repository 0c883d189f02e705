"""Settings in layers: built-in → organisation (briefcase.toml) → system file → server → user,
with keys an administrator locks. What an admin rolling callsys out to many PCs relies on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from callsys.errors import ConfigError
from callsys.settings import (
    CRM_URL,
    DIAL_PREFIX,
    MIN_LOG_DIGITS,
    REGION,
    load_settings,
    system_settings_path,
)
from tests.cli_runner import run, run_json


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def org(tmp_path: Path) -> Path:
    return write(
        tmp_path / "briefcase.toml",
        '[defaults.numbers]\nregion = "DE"\n\n[defaults.phone]\ndial_prefix = "0"\n\n'
        '[defaults.crm]\nurl = "https://org.crm4.dynamics.com"\n\n'
        '[defaults.logging]\nmin_log_digits = 6\n\n[locked]\nkeys = ["crm.url"]\n',
    )


@pytest.fixture
def system(tmp_path: Path) -> Path:
    return write(
        tmp_path / "system.toml",
        '[numbers]\nregion = "FR"\n\n[phone]\ndial_prefix = "9"\n\n'
        '[crm]\nurl = "https://branch.crm4.dynamics.com"\n\n[locked]\nkeys = ["phone.dial_prefix"]\n',
    )


def test_each_layer_overrides_the_one_below(tmp_path: Path, org: Path, system: Path) -> None:
    user = write(tmp_path / "settings.toml", '[numbers]\nregion = "IR"\n')
    settings = load_settings(user, provisioning=org, system=system)
    assert settings[REGION] == "IR"
    assert settings.origin(REGION) == ("user", user)
    assert settings[MIN_LOG_DIGITS] == 6
    assert settings.origin(MIN_LOG_DIGITS) == ("organisation", org)
    assert settings.origin("numbers.area_code") == ("built-in", None)
    # without the user's value the system file's applies
    user.write_text("", encoding="utf-8")
    settings = load_settings(user, provisioning=org, system=system)
    assert settings[REGION] == "FR"
    assert settings.origin(REGION) == ("system", system)


def test_a_locked_key_ignores_the_users_value_and_says_so(tmp_path: Path, org: Path, system: Path) -> None:
    user = write(tmp_path / "settings.toml", '[phone]\ndial_prefix = "00"\n')
    settings = load_settings(user, provisioning=org, system=system)
    assert settings[DIAL_PREFIX] == "9"
    assert settings.origin(DIAL_PREFIX) == ("system", system)
    lock = settings.locked_by(DIAL_PREFIX)
    assert lock is not None and lock.name == "system" and lock.path == system
    assert any("phone.dial_prefix" in w and "locked" in w for w in settings.warnings)
    # the user's own file keeps what they wrote: unlocking gives it back
    settings.save()
    assert 'dial_prefix = "00"' in user.read_text(encoding="utf-8")


def test_a_layer_above_the_lock_cannot_change_the_key(tmp_path: Path, org: Path, system: Path) -> None:
    # the organisation locked crm.url: the system file's own URL is not used either
    settings = load_settings(tmp_path / "none.toml", provisioning=org, system=system)
    assert settings[CRM_URL] == "https://org.crm4.dynamics.com"
    assert settings.origin(CRM_URL) == ("organisation", org)
    lock = settings.locked_by(CRM_URL)
    assert lock is not None and lock.name == "organisation"


def test_setting_a_locked_key_is_refused(tmp_path: Path, org: Path, system: Path) -> None:
    settings = load_settings(tmp_path / "settings.toml", provisioning=org, system=system)
    with pytest.raises(ConfigError, match=r"locked by the administrator \(system"):
        settings.set(DIAL_PREFIX, "5")
    settings.set(DIAL_PREFIX, "9")  # its own value: nothing to refuse, nothing stored
    assert not settings.is_set(DIAL_PREFIX)
    settings.set(REGION, "GB")  # an unlocked key as before
    assert settings[REGION] == "GB"


def test_server_values_sit_between_system_and_user(tmp_path: Path, org: Path, system: Path) -> None:
    user = write(tmp_path / "settings.toml", "[logging]\nmin_log_digits = 4\n")
    settings = load_settings(user, provisioning=org, system=system)
    skipped = settings.set_server_values(
        {"numbers.region": "NL", "phone.dial_prefix": "7", "logging.min_log_digits": 8, "branch": "x"},
        source="wss://callsys.example:8765",
    )
    assert settings[REGION] == "NL"
    assert settings.origin(REGION)[0] == "server"
    assert settings[DIAL_PREFIX] == "9"  # locked by the system file
    assert settings[MIN_LOG_DIGITS] == 4  # the user's own value still wins
    assert any("'branch'" in s for s in skipped)
    assert any("'phone.dial_prefix'" in s and "locks it" in s for s in skipped)
    with pytest.raises(ConfigError, match="min_log_digits"):
        settings.set_server_values({"logging.min_log_digits": "many"})


def test_a_broken_admin_file_is_left_out_and_named(tmp_path: Path, org: Path) -> None:
    user = write(tmp_path / "settings.toml", '[numbers]\narea_code = "21"\n')
    cases = {
        '[numbers]\nregion = "XX"\n': r"system settings file .*numbers\.region",
        '[crm]\nclient_secret = "s3cr3t"\n': "contains a secret",
        '[locked]\nkeys = "crm.url"\n': r"\[locked\]",
        "[numbers\n": "cannot be read",
    }
    for text, why in cases.items():
        system = write(tmp_path / "system.toml", text)
        settings = load_settings(user, provisioning=org, system=system)
        # the rest still applies, and the user's own file stays theirs (readable, saveable)
        assert settings[REGION] == "DE"
        assert settings.origin(REGION) == ("organisation", org)
        assert settings.get("numbers.area_code") == "21"
        assert settings.load_error is None
        [warning] = [w for w in settings.warnings if str(system) in w]
        assert re.search(why, warning), warning
        assert warning.endswith("It is not used.")
        settings.save()
    typo = write(tmp_path / "system.toml", '[locked]\nkeys = ["crm.ulr"]\n')
    settings = load_settings(tmp_path / "s.toml", provisioning=org, system=typo)
    assert any("crm.ulr" in w for w in settings.warnings)


def test_the_system_file_is_found_by_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLSYS_SYSTEM_SETTINGS")
    monkeypatch.setattr("sys.platform", "linux")
    assert system_settings_path() == Path("/etc/callsys/settings.toml")
    monkeypatch.setattr("sys.platform", "win32")
    monkeypatch.setenv("PROGRAMDATA", r"D:\ProgramData")
    assert system_settings_path() == Path(r"D:\ProgramData") / "callsys" / "settings.toml"


def test_settings_show_origin(
    tmp_path: Path,
    org: Path,
    system: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CALLSYS_PROVISIONING", str(org))
    monkeypatch.setenv("CALLSYS_SYSTEM_SETTINGS", str(system))
    user = write(tmp_path / "settings.toml", '[numbers]\narea_code = "21"\n[phone]\ndial_prefix = "00"\n')
    rows = {row["key"]: row for row in run_json(user, "settings", "show", "--origin")["settings"]}
    assert rows["numbers.area_code"] == {
        "key": "numbers.area_code",
        "value": "21",
        "origin": "user",
        "source": str(user),
        "locked_by": None,
        "locked_in": None,
    }
    assert (rows["numbers.region"]["value"], rows["numbers.region"]["origin"]) == ("FR", "system")
    assert rows["logging.min_log_digits"]["origin"] == "organisation"
    assert rows["phone.dial_prefix"]["value"] == "9"
    assert (rows["phone.dial_prefix"]["locked_by"], rows["phone.dial_prefix"]["locked_in"]) == (
        "system",
        str(system),
    )
    code, text = run(user, "settings", "show", "--origin", "crm.url")
    assert code == 0
    assert text.splitlines()[0] == (
        f'crm.url = "https://org.crm4.dynamics.com"    [organisation: {org}] (locked by organisation: {org})'
    )
    assert f"# system: {system}" in text
    assert "# server: none" in text  # no callsys server has sent a layer
    capsys.readouterr()
    code, text = run(user, "settings", "show", "crm.nope")
    assert code == 2
    assert "No setting is called 'crm.nope'" in capsys.readouterr().err
