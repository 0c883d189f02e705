"""The desktop's log file: rotating, in the platform's log folder, shown by Help → Open the log
folder — and never holding a password or a token."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ui import applog
from ui.mainwindow import MainWindow
from ui.qt import QDesktopServices


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    handler = applog.install(tmp_path / "log")
    assert handler is not None
    yield tmp_path / "log" / applog.LOG_FILE
    applog.uninstall()


def written(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def test_secrets_never_reach_the_log_file(log_file: Path) -> None:
    log = logging.getLogger("providers.sip")
    log.info("registering sip:1001:s3cr3t-pw@pbx.example.com;transport=tcp")
    log.info("options %s", {"user": "1001", "password": "hunter2", "domain": "pbx"})
    log.warning("AMI login: Username: admin Secret: ami-pass-9")
    log.info("GET https://org.crm.dynamics.com/api?x=1 Authorization: Bearer eyJhbGciOi.abc.def")
    log.info('server said {"token": "tk-777", "ok": true}; client_secret=cs-888&grant=client')
    try:
        raise ValueError("cannot register sip:1002:pw-in-traceback@pbx")
    except ValueError:
        log.exception("softphone failed")
    text = written(log_file)
    for secret in ("s3cr3t-pw", "hunter2", "ami-pass-9", "eyJhbGciOi", "tk-777", "cs-888", "pw-in-traceback"):
        assert secret not in text
    # what helps whoever reads it is still there
    assert "sip:1001:***@pbx.example.com" in text
    assert "'user': '1001'" in text and "'password': '***'" in text
    assert "Username: admin" in text
    assert "ValueError: cannot register sip:1002:***@pbx" in text


def test_a_secret_from_the_keyring_is_masked_wherever_it_appears(log_file: Path) -> None:
    keeper = applog.secret_filter()
    assert keeper is not None
    keeper.remember("Pa55-from-keyring")
    logging.getLogger("x").warning("line failed, tried Pa55-from-keyring twice")
    assert "Pa55-from-keyring" not in written(log_file)


def test_the_phone_connections_passwords_are_masked_even_without_their_key(
    log_file: Path, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    from tests.ui.conftest import make_settings

    options = {"speed": 0, "agent_script": False, "lines": [{"user": "1001", "password": "line-pw-42"}]}
    make_window(make_settings(tmp_path, **{"phone.options": options}))
    logging.getLogger("pjsua").warning("401 for 1001 with line-pw-42")
    assert "line-pw-42" not in written(log_file)
    assert "401 for 1001 with ***" in written(log_file)


def test_the_log_rotates_through_five_files_of_one_megabyte(log_file: Path) -> None:
    handler = next(
        h for h in logging.getLogger().handlers if isinstance(h, logging.handlers.RotatingFileHandler)
    )
    assert handler.maxBytes == 1_000_000 and handler.backupCount == 5
    line = "x" * 1000
    for _ in range(1200):
        logging.getLogger("flood").info(line)
    handler.flush()
    files = sorted(p.name for p in log_file.parent.iterdir())
    assert files == ["callsys.log", "callsys.log.1"]
    assert all(p.stat().st_size <= 1_000_000 for p in log_file.parent.iterdir())


def test_info_goes_to_the_file_not_to_the_terminal(log_file: Path, capsys: Any) -> None:
    logging.getLogger("callsys.test").info("started the phone")
    assert "started the phone" in written(log_file)
    assert "started the phone" not in capsys.readouterr().err


def test_help_opens_the_log_folder(
    make_window: Callable[..., MainWindow], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(applog, "log_dir", lambda: tmp_path / "logs")
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    window = make_window()
    assert window.log_folder_action in window.help_menu.actions()
    assert window.log_folder_action.text() == "Open the &log folder"
    window.log_folder_action.trigger()
    assert opened == [str(tmp_path / "logs")]
    assert (tmp_path / "logs").is_dir()


def test_the_log_folder_is_the_platforms(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr("sys.platform", "linux")
    assert applog.log_dir() == tmp_path / "state" / "callsys" / "log"


def test_the_app_writes_its_log_in_the_platforms_folder(tmp_path: Path) -> None:
    from tests.ui.fresh import start_ui

    text = '[phone]\nprovider = "no-such-phone"\n[phone.options]\npassword = "opt-pw-31"\n'
    proc, _config = start_ui(tmp_path, text)
    assert proc.returncode == 0, proc.stderr
    written = (tmp_path / "state" / "callsys" / "log" / applog.LOG_FILE).read_text(encoding="utf-8")
    assert " INFO ui.app: callsys " in written and " started (--config " in written
    assert "opt-pw-31" not in written


def test_a_page_long_link_makes_one_readable_log_line(tmp_path: Path) -> None:
    from tests.ui.fresh import start_ui

    proc, _config = start_ui(tmp_path, '[phone]\nprovider = "sim"\n', "tel:+" + "9" * 10_000)
    assert proc.returncode == 0, proc.stderr
    written = (tmp_path / "state" / "callsys" / "log" / applog.LOG_FILE).read_text(encoding="utf-8")
    [started] = [line for line in written.splitlines() if " started (" in line]
    assert "tel:+9999" in started and "…" in started
    assert len(started) < 500
