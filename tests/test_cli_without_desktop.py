"""A server installed without the extras (``pip install callsys``): no PyQt6, qasync, pjsua2,
sounddevice, numpy or python-xlib. Every headless command works there and never asks for them;
the window (``callsys``) and the headless softphone (``callsys phone``) say in one sentence which
extra to install, and exit non-zero without a traceback.

Each command runs as a user runs it — ``python -m callsys`` in a fresh process — with an import
hook in front of Python's own finders that refuses those packages, as an installation without
them would. The hook also records who asked for them: nothing a headless command loads may."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import listening_server

ROOT = Path(__file__).resolve().parents[1]
#: The import names of the desktop and softphone extras (pyproject.toml).
HIDDEN = ("PyQt6", "qasync", "pjsua2", "_pjsua2", "sounddevice", "numpy", "Xlib")

BOOTSTRAP = """
import atexit, json, os, sys

HIDDEN = tuple(json.loads(os.environ["CALLSYS_TEST_HIDDEN"]))
asked = []


class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] not in HIDDEN:
            return None
        frame = sys._getframe(1)  # who asked: the first frame outside the import machinery
        while frame is not None and frame.f_globals.get("__name__", "").startswith(
            ("importlib", "_frozen_importlib")
        ):
            frame = frame.f_back
        asker = frame.f_globals.get("__name__", "?") if frame is not None else "?"
        asked.append([name, asker])
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)


sys.meta_path.insert(0, NotInstalled())


@atexit.register
def report():
    with open(os.environ["CALLSYS_TEST_REPORT"], "w", encoding="utf-8") as out:
        json.dump({"asked": asked, "loaded": sorted({m.split(".")[0] for m in sys.modules})}, out)


import runpy

sys.argv = ["callsys", *sys.argv[1:]]
runpy.run_module("callsys", run_name="__main__", alter_sys=True)
"""


class Installed:
    """``callsys`` on a server without the extras, with a home and a settings file of its own."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.config = tmp_path / "settings.toml"
        self.config.write_text(f'[storage]\ndatabase = "{tmp_path / "cs.sqlite3"}"\n', encoding="utf-8")
        home = tmp_path / "home"
        home.mkdir()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CALLSYS_")},
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_CACHE_HOME": str(home / ".cache"),  # no pjsua2 engine built on this machine either
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "CALLSYS_TEST_HIDDEN": json.dumps(HIDDEN),
        }
        self.runs = 0

    def argv(self, *args: str) -> tuple[list[str], Path]:
        self.runs += 1
        report = self.tmp / f"imports-{self.runs}.json"
        self.env["CALLSYS_TEST_REPORT"] = str(report)
        return [sys.executable, "-c", BOOTSTRAP, *args], report

    def run(self, *args: str, config: bool = True) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
        argv, report = self.argv(*args, *(["--config", str(self.config)] if config else []))
        done = subprocess.run(
            argv, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120, check=False
        )
        return done, json.loads(report.read_text(encoding="utf-8"))

    def headless(self, *args: str, code: int = 0, config: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a headless command: it exits with *code* and neither it nor callsys's code asked
        for a package of the extras; the widgets were not imported."""
        done, imports = self.run(*args, config=config)
        assert done.returncode == code, (done.stdout, done.stderr)
        assert "Traceback" not in done.stderr, done.stderr
        assert imports["asked"] == [], f"callsys {' '.join(args)} asked for {imports['asked']}"
        assert "ui" not in imports["loaded"]
        return done


@pytest.fixture
def installed(tmp_path: Path) -> Installed:
    return Installed(tmp_path)


def test_the_hook_hides_the_extras(installed: Installed) -> None:
    """The test's own premise: this machine has them, the hook makes them missing."""
    import PyQt6  # noqa: F401  (the desktop extra is installed here)

    argv, report = installed.argv()
    argv[argv.index("-c") + 1] = BOOTSTRAP.split("import runpy", maxsplit=1)[0] + "import numpy\n"
    done = subprocess.run(argv, cwd=ROOT, env=installed.env, capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "ModuleNotFoundError: No module named 'numpy'" in done.stderr
    assert json.loads(report.read_text(encoding="utf-8"))["asked"] == [["numpy", "__main__"]]


def test_help_lists_every_command(installed: Installed) -> None:
    done = installed.headless("--help", config=False)
    assert done.stdout.startswith("usage: callsys")
    for command in ("server", "crm", "log", "report", "simulate", "phone"):
        assert f"    {command} " in done.stdout, command


def test_the_directory_the_call_log_and_the_report_work(installed: Installed) -> None:
    installed.headless("directory", "add", "Sara Ahmadi", "+982188776655")
    found = json.loads(installed.headless("lookup", "+982188776655", "--json").stdout)
    assert "Sara Ahmadi" in json.dumps(found, ensure_ascii=False)
    installed.headless("simulate", "missed", "--speed", "0", "--log-to-real")
    rows = json.loads(installed.headless("log", "--json").stdout)
    assert len(rows) == 1
    report = json.loads(installed.headless("report", "--source", "local", "--json").stdout)
    assert report["total"]["calls"] == 1


def test_the_crm_commands_work(installed: Installed) -> None:
    assert json.loads(installed.headless("crm", "outbox", "list", "--pending", "--json").stdout) is not None
    # No Dynamics 365 in this settings file: the command itself says so (a configuration answer).
    refused = installed.headless("crm", "sync", "--json", code=2)
    assert "talks to Dynamics 365" in json.loads(refused.stdout)["error"]


SERVER = (
    '[server]\nlisten_host = "127.0.0.1"\nlisten_port = 0\n\n'
    '[[server.branches]]\nname = "lab"\nprovider = "sim"\noptions = { speed = 0 }\n\n'
    '[[server.agents]]\nname = "sara"\nextensions = ["1001"]\nbranch = "lab"\n'
)


def test_server_check_answers(installed: Installed) -> None:
    with installed.config.open("a", encoding="utf-8") as out:
        out.write(SERVER)
    done, imports = installed.run("server", "--check", "--json", "--check-timeout", "10")
    assert "Traceback" not in done.stderr, done.stderr
    assert imports["asked"] == []
    assert "ui" not in imports["loaded"]
    checks = {c["check"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["config"]["ok"] is True and checks["pbx:lab"]["ok"] is True, checks


def test_the_server_starts_and_listens(installed: Installed) -> None:
    with installed.config.open("a", encoding="utf-8") as out:
        out.write(SERVER)
    argv, report = installed.argv("server", "--json", "--config", str(installed.config))
    with listening_server(argv, installed.env, ROOT, installed.tmp / "server.log") as listening:
        assert listening.startswith("127.0.0.1:")
    imports = json.loads(report.read_text(encoding="utf-8"))
    assert imports["asked"] == []
    assert "ui" not in imports["loaded"]
    assert "Traceback" not in (installed.tmp / "server.log").read_text()


@pytest.mark.parametrize("link", [[], ["tel:+982188776655"]], ids=["window", "tel-link"])
def test_the_window_names_the_desktop_extra(installed: Installed, link: list[str]) -> None:
    done, imports = installed.run(*link)
    assert done.returncode == 1
    assert done.stderr.startswith('callsys: The desktop window needs the "desktop" extra')
    assert 'pip install "callsys[desktop]"' in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert "ui" not in imports["loaded"]


@pytest.mark.parametrize("info", [[], ["--info"]], ids=["phone", "phone-info"])
def test_the_phone_names_the_softphone_extra(installed: Installed, info: list[str]) -> None:
    done, _imports = installed.run("phone", *info)
    assert done.returncode == 1
    assert done.stderr.startswith('callsys: The softphone needs the "softphone" extra')
    assert 'pip install "callsys[softphone]"' in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_the_installers_bring_the_core_and_both_extras() -> None:
    """Briefcase takes no extras of the app itself: its ``requires`` lists them, and must list
    all of them — the packaged app is the desktop."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extras = project["project"]["optional-dependencies"]
    wanted = [
        *project["project"]["dependencies"],
        *extras["softphone"],
        *(r for r in extras["desktop"] if not r.startswith("callsys[")),
    ]
    briefcase = project["tool"]["briefcase"]["app"]["callsys"]["requires"]
    assert sorted(briefcase) == sorted(wanted)
    assert "callsys[softphone]" in extras["desktop"]
    assert not {"PyQt6", "qasync", "pjsua2-python", "sounddevice", "numpy"} & {
        r.split(">")[0].split("=")[0].split(";")[0].strip() for r in project["project"]["dependencies"]
    }


def test_the_test_extra_names_no_callsys_for_briefcase() -> None:
    """Briefcase adds the ``test`` extra to the requirements of its dev environment and installs
    them from the package index, where callsys is not: ``callsys[…]`` there stops
    ``briefcase dev --test`` ("No matching distribution found for callsys[…]")."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    test = project["project"]["optional-dependencies"]["test"]
    assert [r for r in test if r.replace(" ", "").lower().startswith("callsys")] == []
    setup = (ROOT / "scripts" / "setup").read_text(encoding="utf-8")
    assert 'extra="[desktop,server,test]"' in setup  # so the suite still has every part
