"""The desktop's signed updates (SET5) against a real update repository served on 127.0.0.1:
found off the window's thread, downloaded with progress (cancellable), verified, "Version X is
ready — restart to update"; a tampered installer refused with a clear message and nothing left to
install; the install step's command line (a fake pkexec records it); an apt-managed install left
to the system."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from callsys.settings import Settings
from callsys.updates import apt_repository, release_add, release_init
from tests.helpers import installer
from tests.ui.conftest import SARA

from ui.i18n import LRI, PDI
from ui.mainwindow import MainWindow
from ui.updater import RELAUNCHED, UpdateAgent, UpdateBar, finish_update, install_update

#: Big enough to come in several chunks (the fetcher reads 64 KiB at a time).
SIZE = 300_000


class _Repo(http.server.SimpleHTTPRequestHandler):
    """Serves the repository folder; while ``hold`` is clear, an installer stops after its first
    64 KiB (so a test can cancel a download that is surely under way)."""

    hold: threading.Event | None = None

    def log_message(self, format: str, *args: object) -> None:
        pass

    def copyfile(self, source: Any, outputfile: Any) -> None:
        hold = type(self).hold
        if hold is None or not self.path.endswith(".deb"):
            super().copyfile(source, outputfile)
            return
        outputfile.write(source.read(64 * 1024))
        outputfile.flush()
        hold.wait(30)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the desktop gave up
            super().copyfile(source, outputfile)


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[tuple[Path, Path, str]]:
    """(repository folder, keys folder, URL): ``callsys release`` tooling, served on 127.0.0.1."""
    folder, keys = tmp_path / "repo", tmp_path / "keys"
    release_init(folder, keys)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Repo, directory=str(folder))
    )
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, keys, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        if _Repo.hold is not None:
            _Repo.hold.set()
        server.shutdown()
        server.server_close()
        thread.join()


def big_installer(tmp_path: Path, version: str) -> Path:
    path = installer(tmp_path, version)
    path.write_bytes(path.read_bytes() + os.urandom(SIZE))
    return path


def agent_for(tmp_path: Path, url: str, **settings: Any) -> tuple[UpdateAgent, list[str]]:
    values = {"updates.url": url, "updates.root": str(tmp_path / "repo" / "metadata" / "1.root.json")}
    values.update(settings)
    threads: list[str] = []

    def repository() -> str | None:  # installed from a file, not an apt repository
        threads.append(threading.current_thread().name)
        return None

    agent = UpdateAgent(
        Settings(values),
        current="0.1.0",
        cache=tmp_path / "cache",
        downloads=tmp_path / "downloads",
        repository=repository,
    )
    return agent, threads


def test_the_desktop_finds_downloads_and_verifies_an_update(
    qtbot: Any, repo: tuple[Path, Path, str], tmp_path: Path
) -> None:
    folder, keys, url = repo
    built = big_installer(tmp_path, "0.2.0")
    release_add(folder, keys, built, "0.2.0")
    agent, threads = agent_for(tmp_path, url)
    bar = UpdateBar(agent)
    qtbot.addWidget(bar)
    seen: list[tuple[int, int]] = []
    agent.progress.connect(lambda received, total: seen.append((received, total)))
    states: list[str] = []
    agent.state_changed.connect(states.append)
    with qtbot.waitSignal(agent.ready, timeout=30_000) as ready:
        assert agent.start(delay_ms=0)
    version, path = ready.args
    assert version == "0.2.0"
    assert Path(path).read_bytes() == built.read_bytes()  # verified against the signed length and hash
    assert threads and threads[0] != threading.main_thread().name  # not on the window's thread
    assert seen[-1] == (built.stat().st_size, built.stat().st_size)
    assert len({received for received, _ in seen}) > 2  # the bar moved on the way
    assert states == ["checking", "downloading", "ready"]
    assert bar.label.text() == f"Version {LRI}0.2.0{PDI} is ready — restart to update"
    assert not bar.restart_button.isHidden() and bar.bar.isHidden() and bar.cancel_button.isHidden()
    with qtbot.waitSignal(bar.restart_requested, timeout=5000):
        bar.restart_button.click()
    # ready: the daily check does not fetch it again
    assert agent.wait(30)
    agent.check_now()
    assert not agent.busy and agent.state == "ready"


def test_a_tampered_installer_is_refused_with_a_clear_message(
    qtbot: Any, repo: tuple[Path, Path, str], tmp_path: Path
) -> None:
    folder, keys, url = repo
    name = release_add(folder, keys, big_installer(tmp_path, "0.2.0"), "0.2.0")
    served = folder / "targets" / name
    data = bytearray(served.read_bytes())
    data[SIZE // 2] ^= 0xFF  # one byte changed on the server (or on the way)
    served.write_bytes(bytes(data))
    agent, _ = agent_for(tmp_path, url)
    bar = UpdateBar(agent)
    qtbot.addWidget(bar)
    with qtbot.waitSignal(agent.failed, timeout=30_000) as failed:
        agent.check_now()
    [why] = failed.args
    assert why.startswith(
        "The update to 0.2.0 was not installed: a file of the update does not match what was signed"
    )
    assert bar.label.text() == f"No update: {why}"
    assert bar.restart_button.isHidden() and agent.path is None
    assert not any((tmp_path / "downloads").iterdir())  # nothing to install


def test_the_download_can_be_cancelled(qtbot: Any, repo: tuple[Path, Path, str], tmp_path: Path) -> None:
    folder, keys, url = repo
    release_add(folder, keys, big_installer(tmp_path, "0.2.0"), "0.2.0")
    hold = threading.Event()
    _Repo.hold = hold
    try:
        agent, _ = agent_for(tmp_path, url)
        bar = UpdateBar(agent)
        qtbot.addWidget(bar)
        with qtbot.waitSignal(agent.progress, timeout=30_000, check_params_cb=lambda got, _total: got > 0):
            agent.check_now()
        assert bar.label.text() == f"Downloading version {LRI}0.2.0{PDI}…"
        assert not bar.bar.isHidden() and not bar.cancel_button.isHidden()
        assert 0 < bar.bar.value() < bar.bar.maximum()
        bar.cancel_button.click()
        hold.set()
        qtbot.waitUntil(lambda: agent.state == "cancelled", timeout=30_000)
    finally:
        _Repo.hold = None
        hold.set()
    assert agent.wait(30)
    assert bar.isHidden() or bar.label.text() == ""
    assert not any((tmp_path / "downloads").iterdir())


def test_updates_can_be_switched_off_or_left_to_the_system(qtbot: Any, tmp_path: Path) -> None:
    agent, threads = agent_for(tmp_path, "http://127.0.0.1:9", **{"updates.mode": "off"})
    assert not agent.start(delay_ms=0)
    agent, _ = agent_for(tmp_path, "", **{"updates.mode": "auto"})
    assert not agent.start(delay_ms=0)  # no feed set
    agent, _ = agent_for(tmp_path, "http://127.0.0.1:9", **{"updates.mode": "system"})
    with qtbot.waitSignal(agent.system, timeout=5000):
        assert not agent.start(delay_ms=0)
    agent.check_now()
    assert not agent.busy and threads == []

    # installed from the organisation's apt repository: the desktop stays out of the way
    agent = UpdateAgent(
        Settings({"updates.url": "http://127.0.0.1:9"}),
        repository=lambda: "http://deb.example.org/callsys bookworm/main amd64 Packages",
    )
    with qtbot.waitSignal(agent.system, timeout=30_000) as system:
        agent.check_now()
    assert system.args == ["http://deb.example.org/callsys bookworm/main amd64 Packages"]
    assert agent.state == "system"


def fake_program(folder: Path, name: str, script: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    path.chmod(0o755)
    return path


def test_apt_repository_reads_where_the_installed_package_comes_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    policy = tmp_path / "policy.txt"
    fake_program(bin_dir, "apt-cache", f'[ "$1 $2" = "policy callsys" ] && cat {policy}\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    policy.write_text(
        "callsys:\n  Installed: 0.2.0-1\n  Candidate: 0.3.0-1\n  Version table:\n"
        "     0.3.0-1 500\n        500 http://deb.example.org/callsys bookworm/main amd64 Packages\n"
        " *** 0.2.0-1 500\n        500 http://deb.example.org/callsys bookworm/main amd64 Packages\n"
        "        100 /var/lib/dpkg/status\n"
    )
    assert apt_repository() == "http://deb.example.org/callsys bookworm/main amd64 Packages"
    policy.write_text(
        "callsys:\n  Installed: 0.2.0-1\n  Candidate: 0.2.0-1\n  Version table:\n"
        " *** 0.2.0-1 100\n        100 /var/lib/dpkg/status\n"
    )
    assert apt_repository() is None  # installed from the .deb file: the desktop updates itself
    policy.write_text("callsys:\n  Installed: (none)\n  Candidate: (none)\n")
    assert apt_repository() is None


def test_the_install_step_hands_the_deb_to_pkexec_apt_get(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    argv = tmp_path / "argv"
    fake_program(
        bin_dir, "pkexec", f'for a in "$@"; do echo "$a" >> {argv}; done\nexit "${{FAKE_EXIT:-0}}"\n'
    )
    fake_program(bin_dir, "apt-get", "exit 99\n")  # found on PATH; pkexec (the fake) never runs it
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    deb = tmp_path / "downloads" / "callsys_0.2.0-1~debian-bookworm_amd64.deb"
    deb.parent.mkdir()
    deb.write_bytes(b"!<arch>\n")
    monkeypatch.chdir(deb.parent)

    assert install_update(Path(deb.name)) == ""
    assert argv.read_text().splitlines() == [str(bin_dir / "apt-get"), "install", "--yes", str(deb)]

    monkeypatch.setenv("FAKE_EXIT", "126")  # the password dialog was dismissed
    assert "the administrator's password was not given" in install_update(deb)
    monkeypatch.setenv("FAKE_EXIT", "100")
    assert "apt-get exited with 100" in install_update(deb)

    (bin_dir / "pkexec").unlink()
    monkeypatch.setenv("PATH", str(bin_dir))
    why = install_update(deb)
    assert why.startswith("pkexec is not installed") and f"sudo apt-get install {deb}" in why


def test_restart_to_update_closes_the_window_and_leaves_the_install_to_the_app(
    make_window: Callable[..., MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    window = make_window()
    deb = tmp_path / "callsys_0.2.0-1~debian-bookworm_amd64.deb"
    deb.write_bytes(b"!<arch>\n")
    window.updates._on_done("ready", "0.2.0", str(deb))
    assert window.update_bar.label.text() == f"Version {LRI}0.2.0{PDI} is ready — restart to update"
    # during a call the agent is asked; "No" keeps the window, the call and the old version
    sim = window.simulator
    call_id = sim.ring(SARA, "")
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is not None)
    window.answer(call_id)
    qtbot.waitUntil(lambda: sim.state(call_id) is not None and sim.state(call_id).is_connected)
    window.ask_quit = lambda calls: False  # type: ignore[method-assign]
    window.update_bar.restart_button.click()
    assert window.isVisible() and window.pending_update is None
    closed: list[bool] = []
    window.closed.connect(lambda: closed.append(True))
    window.ask_quit = lambda calls: True  # type: ignore[method-assign]
    window.update_bar.restart_button.click()
    assert closed == [True] and window.pending_update == deb  # ui.app.run installs it after the loop


def test_after_the_install_callsys_starts_again_with_its_settings_file_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    installed, started = tmp_path / "installed", tmp_path / "started"
    fake_program(bin_dir, "pkexec", f'echo "$@" > {installed}\n')
    fake_program(bin_dir, "apt-get", "exit 99\n")
    fake_program(bin_dir, "callsys", f'[ -f {installed} ] && echo "$@" > {started}\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.setattr("sys.argv", ["callsys", "tel:+982188776655"])  # dialled already: not again
    deb = tmp_path / "callsys_0.2.0-1~debian-bookworm_amd64.deb"
    deb.write_bytes(b"!<arch>\n")
    assert finish_update(deb, ["--config", str(tmp_path / "settings.toml")]) == ""
    assert installed.read_text().split() == [str(bin_dir / "apt-get"), "install", "--yes", str(deb)]
    [again] = RELAUNCHED
    assert again.wait(30) == 0
    RELAUNCHED.clear()
    assert started.read_text().split() == ["--config", str(tmp_path / "settings.toml")]


def test_an_unreachable_feed_is_tried_again_without_troubling_the_agent(qtbot: Any, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    release_init(tmp_path / "repo", tmp_path / "keys")
    agent, _ = agent_for(tmp_path, f"http://127.0.0.1:{port}")
    bar = UpdateBar(agent)
    qtbot.addWidget(bar)
    with qtbot.waitSignal(agent.state_changed, timeout=60_000, check_params_cb=lambda s: s == "unreachable"):
        agent.check_now()
    assert "could not be downloaded" in agent.message
    assert bar.isHidden() and bar.label.text() == ""  # a laptop offline at start: nothing to read
    assert agent.retry.isActive() and agent.retry.interval() == 3_600_000
