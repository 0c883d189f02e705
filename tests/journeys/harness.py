"""The real app under a virtual X server, driven with real X input (xdotool → XTEST).

``Screen`` is an Xvfb on a free display. ``Agent`` is one ``python -m callsys`` process on it with its
own HOME, config and data folders: started, found by its window title, driven by keys and clicks
that go through the X server exactly as a person's do, checked through its own command line
(``callsys log --json`` …) and through the probe of ``launch.py`` (where a widget is, what the
window shows). Python's faulthandler is on in the app: a crash prints its stack into the app's
stderr, and ``Agent.quit`` / ``Agent.stop`` fail the journey on a crash, a traceback or a Qt
warning about a model index. On a failure the screen is saved as PNG in the test's tmp folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.helpers import stop

ROOT = Path(__file__).resolve().parents[2]
LAUNCH = Path(__file__).resolve().parent / "launch.py"
TITLE = "callsys — calls and CRM"

#: What in the app's stderr means the journey failed, whatever the step checked.
CRASH = re.compile(r"Fatal Python error|Traceback \(most recent call last\)|Segmentation fault")
INDEX_WARNING = re.compile(
    r"QSortFilterProxyModel|QItemSelectionModel|QPersistentModelIndex|invalid index", re.I
)


def have_x_tools() -> bool:
    return all(shutil.which(tool) for tool in ("Xvfb", "xdotool"))


class JourneyError(AssertionError):
    pass


def until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll *check* until it returns something true; fail saying *what* did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise JourneyError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class Screen:
    """Xvfb on the first free display (``-displayfd``: the server picks it and tells us)."""

    def __init__(self, rundir: Path, size: str = "1280x900x24") -> None:
        read, write = os.pipe()
        self.log = open(rundir / "xvfb.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", size, "-nolisten", "tcp", "-noreset"],
            pass_fds=(write,),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        os.close(write)
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            self.stop()
            raise RuntimeError("Xvfb did not start: " + (rundir / "xvfb.log").read_text(errors="replace"))
        self.display = f":{number}"

    def env(self) -> dict[str, str]:
        return {**os.environ, "DISPLAY": self.display}

    def xdotool(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(
            ["xdotool", *args], env=self.env(), capture_output=True, text=True, timeout=20, check=False
        )
        if check and proc.returncode != 0:
            raise JourneyError(f"xdotool {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    def screenshot(self, path: Path) -> Path:
        """The whole screen as a PNG (python-xlib; no image tools needed)."""
        from Xlib import X, display

        shown = display.Display(self.display)
        try:
            root = shown.screen().root
            geometry = root.get_geometry()
            width, height = geometry.width, geometry.height
            raw = root.get_image(0, 0, width, height, X.ZPixmap, 0xFFFFFFFF).data
        finally:
            shown.close()
        stride = len(raw) // height
        rows = b"".join(
            b"\x00" + bytes(_bgrx_to_rgb(raw[y * stride : y * stride + width * 4])) for y in range(height)
        )

        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

        png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        png += chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b"")
        path.write_bytes(png)
        return path

    def stop(self) -> None:
        stop(self.proc, 5)
        self.log.close()


def _bgrx_to_rgb(row: bytes) -> bytearray:
    out = bytearray(len(row) // 4 * 3)
    out[0::3] = row[2::4]
    out[1::3] = row[1::4]
    out[2::3] = row[0::4]
    return out


class Agent:
    """One desktop process (``python -m callsys`` through the probe launcher) on *screen*.

    *home* holds HOME, the XDG folders and, unless ``config`` says otherwise, the settings file at
    its default place; the same *home* across ``Agent``s is the same agent's machine after a
    restart."""

    def __init__(self, screen: Screen, home: Path, config: Path | None = None, name: str = "app") -> None:
        self.screen = screen
        self.home = home
        self.config = config
        self.name = name
        self.probe_dir = home / "probe"
        self.probe_dir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0
        self.window = ""
        #: more environment for the app and its command line (e.g. ``CALLSYS_PROVISIONING``)
        self.extra_env: dict[str, str] = {}

    # ---------------------------------------------------------------- process
    def env(self) -> dict[str, str]:
        env = self.screen.env()
        for key in list(env):
            if key.startswith(("CALLSYS_", "QT_")) or key in ("PYTHONDEVMODE",):
                del env[key]
        env.update(
            HOME=str(self.home),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            XDG_DATA_HOME=str(self.home / ".local" / "share"),
            XDG_CACHE_HOME=str(self.home / ".cache"),
            XDG_RUNTIME_DIR=str(self.home / "runtime"),
            QT_QPA_PLATFORM="xcb",
            PYTHONFAULTHANDLER="1",
            # glibc fills freed memory with this byte: a use after free (a stale model index)
            # reads garbage and crashes far more often than when the memory still looks valid.
            MALLOC_PERTURB_="165",
            PYTHONPATH=str(ROOT),
            CALLSYS_PROBE_DIR=str(self.probe_dir),
            LANG="C.UTF-8",
        )
        env.update(self.extra_env)
        (self.home / "runtime").mkdir(mode=0o700, exist_ok=True)
        return env

    @property
    def stderr_path(self) -> Path:
        return self.home / f"{self.name}-{self.runs}.stderr"

    def start(self, *args: str) -> Agent:
        self.runs += 1
        argv = [sys.executable, str(LAUNCH)]
        if self.config is not None:
            argv += ["--config", str(self.config)]
        argv += list(args)
        with (
            open(self.stderr_path, "wb") as err,
            open(self.home / f"{self.name}-{self.runs}.stdout", "wb") as out,
        ):
            self.proc = subprocess.Popen(argv, cwd=ROOT, env=self.env(), stdout=out, stderr=err)
        self.window = until(self._find_window, 30, "the main window")
        until(lambda: self.look().get("windows") and self.status(), 20, "the phone status in the window")
        self.point_at_window()
        return self

    def _find_window(self) -> str:
        """The main window's X id, once it is shown (by its title, in whatever language)."""
        self.assert_alive()
        shown = [w for w in self.look(timeout=30).get("windows", []) if w["name"] == "mainWindow"]
        return self._wid_of(shown[0]["title"]) if shown else ""

    def _wid_of(self, title: str) -> str:
        assert self.proc is not None
        pid = str(self.proc.pid)
        found = self.screen.xdotool("search", "--onlyvisible", "--name", f"^{re.escape(title)}$", check=False)
        for wid in found.split():
            if self.screen.xdotool("getwindowpid", wid, check=False).strip() == pid:
                return wid
        return ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stderr(self) -> str:
        return (
            self.stderr_path.read_text(encoding="utf-8", errors="replace")
            if self.stderr_path.exists()
            else ""
        )

    def assert_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise JourneyError(
                f"the app ended (exit {self.proc.returncode}) — its stderr:\n{self.stderr()[-4000:]}"
            )

    def assert_clean(self) -> None:
        """No crash, no traceback, no Qt warning about a model index, in the app's stderr."""
        text = self.stderr()
        crash = CRASH.search(text)
        if crash:
            raise JourneyError(f"the app's stderr shows a crash or traceback:\n{text[-4000:]}")
        bad = [line for line in text.splitlines() if INDEX_WARNING.search(line)]
        if bad:
            raise JourneyError("Qt warned about model indexes:\n" + "\n".join(bad[:10]))

    def quit(self) -> None:
        """File → Quit with the keyboard; the process must end by itself, cleanly."""
        self.assert_alive()
        self.point_at_window()
        self.keys("alt+f", "q")
        proc = self.proc
        assert proc is not None
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            raise JourneyError("File → Quit did not end the app within 20 s") from None
        if proc.returncode != 0:
            raise JourneyError(f"the app ended with {proc.returncode}; stderr:\n{self.stderr()[-4000:]}")
        self.assert_clean()
        self.proc = None

    def stop(self) -> None:
        """End the process if it is still running (by its PID), whatever state it is in."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    # ---------------------------------------------------------------- looking
    def look(self, timeout: float = 10.0) -> dict[str, Any]:
        """What the window shows now (asked of the probe in the app's GUI thread)."""
        answer = self.probe_dir / "answer.json"
        answer.unlink(missing_ok=True)
        (self.probe_dir / "ask").write_text("?")
        deadline = time.monotonic() + timeout
        while not answer.exists():
            self.assert_alive()
            if time.monotonic() > deadline:
                raise JourneyError("the app did not answer the probe (busy or hung?)")
            time.sleep(0.03)
        data: dict[str, Any] = json.loads(answer.read_text(encoding="utf-8"))
        return data

    def windows(self, cls: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
        return [
            w
            for w in self.look().get("windows", [])
            if (cls is None or w["class"] == cls) and (name is None or w["name"] == name)
        ]

    def main(self) -> dict[str, Any]:
        found = self.windows(name="mainWindow")
        if not found:
            raise JourneyError("the main window is not shown")
        return found[0]

    def widget(self, name: str, window: str = "mainWindow") -> dict[str, Any] | None:
        for w in self.look().get("windows", []):
            if w["name"] == window and name in w["widgets"]:
                return dict(w["widgets"][name])
        return None

    def status(self) -> str:
        for w in self.look().get("windows", []):
            if w["name"] == "mainWindow":
                return str(w["widgets"].get("providerStatus", {}).get("text", ""))
        return ""

    def log_rows(self) -> list[list[str]]:
        return [row["cells"] for row in self.look().get("log", [])]

    def title(self) -> str:
        return self.screen.xdotool("getwindowname", self.window).strip()

    def wait_for(self, check: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
        def checked() -> Any:
            self.assert_alive()
            return check()

        return until(checked, timeout, what)

    def wait_window(self, name: str, timeout: float = 15.0, focus: bool = True) -> dict[str, Any]:
        """Wait for a top-level window (by its object name) and, as a window manager would for a
        new dialog, give it the keyboard focus."""
        found = self.wait_for(lambda: self.windows(name=name), f"a window named {name!r}", timeout)
        window = dict(found[0])
        if focus:
            self.focus(window)
        return window

    def _focus_wid(self, wid: str) -> None:
        # Not ``windowfocus --sync``: it waits for a focus event that an already focused window
        # never sends again.
        if self.screen.xdotool("getwindowfocus", check=False).strip() != wid:
            self.screen.xdotool("windowfocus", wid)
            time.sleep(0.1)

    def focus(self, window: dict[str, Any]) -> None:
        """Keyboard focus to *window* (an entry of ``windows()``), found by its title and PID."""
        wid = self._wid_of(window["title"])
        if not wid:
            raise JourneyError(f"no X window titled {window['title']!r} of the app")
        x, y, w, _h = window["rect"]
        self.move(x + w // 2, y + 4)
        self._focus_wid(wid)

    def wait_gone(self, name: str, timeout: float = 15.0) -> None:
        self.wait_for(lambda: not self.windows(name=name), f"the {name!r} window to close", timeout)

    # ---------------------------------------------------------------- real X input
    def keys(self, *combos: str) -> None:
        """Key combinations (xdotool names: ``ctrl+shift+a``, ``alt+f``, ``Return``), one after
        the other, to the window with the focus. After ``alt+…`` (a menu's mnemonic) the next key
        waits for the menu to be up."""
        for at, combo in enumerate(combos):
            menus = (
                len(self.windows(cls="QMenu")) if combo.startswith("alt+") and at + 1 < len(combos) else -1
            )
            self.screen.xdotool("key", "--clearmodifiers", combo)
            if menus >= 0:
                self.wait_for(lambda n=menus: len(self.windows(cls="QMenu")) > n, f"the menu of {combo}", 5)
            time.sleep(0.05)

    def type(self, text: str) -> None:
        self.screen.xdotool("type", "--delay", "15", "--clearmodifiers", text)

    def click_at(self, x: int, y: int, button: int = 1) -> None:
        self.move(str(x), str(y))
        time.sleep(0.05)
        self.screen.xdotool("click", str(button))
        time.sleep(0.05)

    def move(self, x: str | int, y: str | int) -> None:
        # Not ``mousemove --sync``: it waits for a motion that never comes when the pointer is
        # already there.
        self.screen.xdotool("mousemove", str(x), str(y))
        time.sleep(0.03)

    def click_rect(self, rect: list[int], button: int = 1) -> None:
        x, y, w, h = rect
        self.click_at(x + w // 2, y + h // 2, button)

    def click(self, widget: str, window: str = "mainWindow", button: int = 1) -> None:
        found = self.wait_for(lambda: self.widget(widget, window), f"{widget} in {window}")
        self.click_rect(found["rect"], button)

    def point_at_window(self) -> None:
        """Give the main window the keyboard focus (there is no window manager to do it on a
        click) and rest the pointer on its status bar, where no pop-up or menu is."""
        rect = self.main()["rect"]
        self.move(str(rect[0] + rect[2] - 30), str(rect[1] + rect[3] - 6))
        self._focus_wid(self.window)

    def menu(self, *path: str) -> None:
        """Open a menu of the menu bar and choose an item by clicks, by the items' texts (without
        ``&``; for a language whose mnemonics xdotool cannot type)."""
        bar = self.main().get("menubar", [])
        first = [i for i in bar if i["text"].replace("&", "") == path[0]]
        if not first:
            raise JourneyError(f"no menu {path[0]!r} in {[i['text'] for i in bar]}")
        self.click_rect(first[0]["rect"])
        for text in path[1:]:

            def item(text: str = text) -> dict[str, Any] | None:
                for menu in reversed(self.windows(cls="QMenu")):
                    for entry in menu.get("items", []):
                        if entry["text"].replace("&", "") == text:
                            return dict(entry)
                return None

            self.click_rect(self.wait_for(item, f"the menu item {text!r}")["rect"])

    def click_log_row(self, row: int, button: int = 1) -> None:
        rows = self.look().get("log", [])
        if row >= len(rows):
            raise JourneyError(f"the call log shows {len(rows)} rows, not {row + 1}")
        x, y, w, h = rows[row]["rect"]
        self.click_at(x + min(w // 3, 200), y + h // 2, button)

    # ---------------------------------------------------------------- the app's own command line
    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "callsys", *args]
        if self.config is not None:
            argv += ["--config", str(self.config)]
        env = self.env()
        env.pop("CALLSYS_PROBE_DIR", None)
        proc = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
        )
        if check and proc.returncode != 0:
            raise JourneyError(f"callsys {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc

    def call_log(self) -> list[dict[str, Any]]:
        """``callsys log --json``: every call in the database, newest first."""
        out = self.cli("log", "--json", "--limit", "1000").stdout
        data: list[dict[str, Any]] = json.loads(out)
        return data


@contextlib.contextmanager
def screenshots_on_failure(screen: Screen, folder: Path, name: str) -> Iterator[None]:
    """Save the screen as ``folder/NAME-failed.png`` when the block fails."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            path = screen.screenshot(folder / f"{name}-failed.png")
            print(f"screenshot: {path}", file=sys.stderr)
        raise


def softphone_settings(port: int) -> str:
    """The default provider (the embedded softphone, direct mode: no registrar), on loopback and a
    free port instead of 0.0.0.0:5060, without a sound card."""
    return f"""[phone]
provider = "sip"

[phone.options]
listen_host = "127.0.0.1"
listen_port = {port}

[phone.options.audio]
mode = "none"
"""
