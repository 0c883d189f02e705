"""tel:/callto: handler registration on Linux, on request (B5): desktop entry + xdg-mime."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ui.mainwindow import MainWindow
from ui.schemes import DESKTOP_FILE, register


@pytest.fixture
def fake_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in xdg-mime that records how it was called, and a private XDG_DATA_HOME."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "xdg-mime.calls"
    script = bin_dir / "xdg-mime"
    script.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n', encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return calls


def test_linux_registration_writes_a_desktop_entry_and_sets_the_default(
    fake_xdg: Path, tmp_path: Path
) -> None:
    where = register(["/opt/callsys/bin/callsys"], platform="linux")
    entry = tmp_path / "data" / "applications" / DESKTOP_FILE
    assert where == str(entry)
    text = entry.read_text(encoding="utf-8")
    assert "Exec=/opt/callsys/bin/callsys %u\n" in text
    assert "MimeType=x-scheme-handler/tel;x-scheme-handler/callto;\n" in text
    assert (tmp_path / "data" / "icons" / "hicolor" / "scalable" / "apps" / "callsys.svg").exists()
    assert fake_xdg.read_text().splitlines() == [
        f"default {DESKTOP_FILE} x-scheme-handler/tel",
        f"default {DESKTOP_FILE} x-scheme-handler/callto",
    ]


def test_macos_says_where_it_is_done_instead(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="CFBundleURLTypes"):
        register(["callsys"], platform="darwin")


def test_the_phone_menu_registers_links(
    make_window: Callable[..., MainWindow], fake_xdg: Path, qtbot: Any
) -> None:
    window = make_window()
    window.scheme_action.trigger()
    assert "tel: and callto: links now open callsys" in window.statusBar().currentMessage()
    assert fake_xdg.exists()
