"""The organisation's settings layer a real ``callsys server`` process serves over TLS on 127.0.0.1:
a desktop with its token fetches it (``callsys settings pull``), applies it between the system file
and the user's own (a lock below it wins; its own locks keep the user's values out), and
``callsys settings show --origin`` says which values came from the server. Without the token the
server sends nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomli_w

from callsys.settings import DIAL_PREFIX, MIN_LOG_DIGITS, REGION, load_settings
from tests.cli_runner import run, run_json

from .helpers import TOKEN
from .helpers import server as _server

server = _server  # a real server process pushing its settings layer


def desktop(tmp_path: Path, url: str, cert: Path) -> tuple[Path, Path]:
    """A desktop's settings file naming the server, and a system file that locks the region."""
    user = tmp_path / "desktop" / "settings.toml"
    user.parent.mkdir()
    user.write_text(
        tomli_w.dumps(
            {
                "server": {"url": url},
                "phone": {"dial_prefix": "0", "options": {"agent": "sara", "ca_file": str(cert)}},
                "numbers": {"area_code": "21"},
                "logging": {"min_log_digits": 3},
            }
        ),
        encoding="utf-8",
    )
    system = tmp_path / "system.toml"
    system.write_text('[numbers]\nregion = "FR"\n\n[locked]\nkeys = ["numbers.region"]\n', encoding="utf-8")
    return user, system


def test_a_desktop_applies_the_servers_layer_and_shows_where_each_value_is_from(
    server: tuple[str, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, cert, pushed = server
    user, system = desktop(tmp_path, url, cert)
    monkeypatch.setenv("CALLSYS_SYSTEM_SETTINGS", str(system))
    monkeypatch.setenv("CALLSYS_PROVISIONING", str(tmp_path / "no-briefcase.toml"))

    # without the desktop's token the server sends nothing
    code, _ = run(user, "settings", "pull")
    assert code != 0
    assert "did not send its settings (HTTP 401" in capsys.readouterr().err

    monkeypatch.setenv("CALLSYS_SECRET_SERVER_TOKEN", TOKEN)
    pulled = run_json(user, "settings", "pull")
    assert pulled["server"] == url and pulled["path"] == str(user.with_name("settings.server.json"))
    assert sorted(pulled["locked"]) == ["logging.min_log_digits", "phone.dial_prefix"]
    assert any("'numbers.region'" in note and "system" in note for note in pulled["notes"])

    rows = {row["key"]: row for row in run_json(user, "settings", "show", "--origin")["settings"]}
    # the server's values sit above the system file …
    assert (rows["logging.min_log_digits"]["value"], rows["logging.min_log_digits"]["origin"]) == (
        7,
        "server",
    )
    assert rows["logging.min_log_digits"]["source"] == url
    assert (rows["logging.min_log_digits"]["locked_by"], rows["logging.min_log_digits"]["locked_in"]) == (
        "server",
        url,
    )
    assert (rows["phone.dial_prefix"]["value"], rows["phone.dial_prefix"]["locked_by"]) == ("7", "server")
    # … below the user's own (an unlocked key) …
    assert (rows["numbers.area_code"]["value"], rows["numbers.area_code"]["origin"]) == ("21", "user")
    # … and a lock below the server wins over it
    assert (rows["numbers.region"]["value"], rows["numbers.region"]["origin"]) == ("FR", "system")
    code, text = run(user, "settings", "show", "--origin", "logging.min_log_digits")
    assert code == 0
    assert text.splitlines()[0] == (
        f"logging.min_log_digits = 7    [server: {url}] (locked by server: {url})"
    )
    assert f"# server: {url}" in text

    # the copy applies at the next start, while the server is away too
    settings = load_settings(user, system=system)
    assert (settings[MIN_LOG_DIGITS], settings[DIAL_PREFIX], settings[REGION]) == (7, "7", "FR")
    assert any("'phone.dial_prefix'" in w and "callsys server" in w for w in settings.warnings)
    # … but not once the desktop names another server
    other = user.read_text(encoding="utf-8").replace(url, "wss://127.0.0.1:1/ws")
    user.write_text(other, encoding="utf-8")
    settings = load_settings(user, system=system)
    assert settings[MIN_LOG_DIGITS] == 3 and settings.origin(MIN_LOG_DIGITS)[0] == "user"
    user.write_text(other.replace("wss://127.0.0.1:1/ws", url), encoding="utf-8")

    # an edit of the server's file reaches the desktop at its next fetch, without a restart
    pushed.write_text("[logging]\nmin_log_digits = 9\n", encoding="utf-8")
    pulled = run_json(user, "settings", "pull")
    assert pulled["values"] == {"logging.min_log_digits": 9} and pulled["locked"] == []
    settings = load_settings(user, system=system)
    assert settings[MIN_LOG_DIGITS] == 3  # not locked any more: the user's own value again
    assert settings[DIAL_PREFIX] == "0"


def test_a_broken_pushed_file_is_refused_and_the_last_copy_kept(
    server: tuple[str, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, cert, pushed = server
    user, system = desktop(tmp_path, url, cert)
    monkeypatch.setenv("CALLSYS_SYSTEM_SETTINGS", str(system))
    monkeypatch.setenv("CALLSYS_SECRET_SERVER_TOKEN", TOKEN)
    run_json(user, "settings", "pull")
    pushed.write_text('[logging]\nmin_log_digits = "many"\n', encoding="utf-8")
    code, _ = run(user, "settings", "pull")
    assert code != 0
    assert "HTTP 503: The server's settings for desktops cannot be read" in capsys.readouterr().err
    assert load_settings(user, system=system)[MIN_LOG_DIGITS] == 7  # the last good copy
