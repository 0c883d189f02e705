"""Fixtures for the desktop tests: a qasync loop inside pytest-qt's QApplication, a composed
desktop with the SimulatedProvider and a LocalCrm in a temporary database, and the window."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt loads (also set by tests/conftest.py)

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync

from callsys.auth import StaticTokens
from callsys.crm.dynamics.client import DEFAULT_TABLES, DynamicsCrm
from callsys.crm.local import LocalCrm
from callsys.lookup import CallerLookup
from callsys.numbers import NumberPlan
from callsys.session import CallSession
from callsys.settings import Settings
from providers import REGISTRY
from tests.dataverse_fake import ORG, DataverseFake

from ui.desktop import compose
from ui.i18n import Language, set_current
from ui.mainwindow import MainWindow

SARA = "+982188776655"
REZA = "09123456789"
ACME = "+14155550100"


# The offscreen platform cannot raise windows or pass size hints to a window manager; it says so
# as a Qt warning, which the strict config would count as a failure.
OFFSCREEN_NOISE = r"This plugin does not support (propagateSizeHints\(\)|raise\(\)|requestActivate\(\)|grabbing the keyboard)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/ui/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@pytest.fixture(scope="session")
def _session_loop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    # One loop for the whole session: qasync's loop is bound to the QApplication, which
    # pytest-qt keeps for the session too.
    loop = qasync.QEventLoop(qapp, already_running=True)
    # Python's dev mode (`briefcase dev --test` runs in it) turns asyncio debug on, and qasync's
    # debug branch of _SimpleTimer.timerEvent hits its re-entrancy KeyError (upstream
    # CabbageDevelopment/qasync#22) when a timer callback processes Qt events.
    loop.set_debug(False)
    asyncio.set_event_loop(loop)
    yield loop
    for task in asyncio.all_tasks(loop):
        task.cancel()
    qapp.processEvents()
    asyncio.events._set_running_loop(None)
    loop.stop()  # qasync: marks the adopted loop as not running (QApplication.exit is a no-op here)
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def aio(qapp: Any, _session_loop: asyncio.AbstractEventLoop) -> Iterator[asyncio.AbstractEventLoop]:
    """asyncio running inside Qt, as in the app: tasks advance while qtbot waits."""
    asyncio.events._set_running_loop(_session_loop)
    asyncio.set_event_loop(_session_loop)
    yield _session_loop
    for task in asyncio.all_tasks(_session_loop):
        task.cancel()
    qapp.processEvents()
    # Between UI tests the loop is not "running": pytest-asyncio tests elsewhere start their own.
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)


def make_settings(tmp_path: Path, **values: Any) -> Settings:
    base: dict[str, Any] = {
        "phone.provider": "sim",
        "phone.options": {"speed": 0, "agent_script": False},
        "storage.database": str(tmp_path / "callsys.sqlite3"),
        "crm.backend": "local",
    }
    base.update(values)
    return Settings(base, path=tmp_path / "settings.toml")


def dynamics_desktop(tmp_path: Path, fake: DataverseFake) -> CallSession:
    """The desktop composed from the test settings, with Dynamics 365 — the Dataverse fake — as
    its CRM and caller lookup (what compose builds for ``crm.backend = "dynamics"``)."""
    desktop = compose(make_settings(tmp_path), REGISTRY)
    desktop.crm = DynamicsCrm(
        ORG,
        StaticTokens(fake.issue_token()),
        plan=desktop.plan,
        tables=DEFAULT_TABLES,
        transport=fake.transport(),
    )
    desktop.lookup = CallerLookup(desktop.crm)
    return desktop


def fill_directory(desktop: CallSession) -> None:
    crm = desktop.crm
    assert isinstance(crm, LocalCrm)
    crm.add("Sara Ahmadi", [SARA, "+989121112233"], company="Ahmadi Trading")
    crm.add("Reza Karimi", [REZA], kind="lead", company="Karimi & Sons")
    crm.add("ACME Corp", [ACME], kind="account")
    crm.add("ACME Support desk", [ACME], kind="contact", company="ACME Corp")


@pytest.fixture(autouse=True)
def _no_quit_question(monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing a window with a call up asks the agent (a modal box that would block the test
    run, also when pytest-qt closes the window at teardown); tests that check it set their own."""
    monkeypatch.setattr(MainWindow, "ask_quit", lambda _self, _calls: True)


@pytest.fixture
def language(qapp: Any) -> Iterator[Language]:
    lang = Language(qapp)
    lang.apply("en")
    set_current(lang)
    yield lang
    lang.apply("en")


@pytest.fixture
def make_window(
    qtbot: Any, aio: asyncio.AbstractEventLoop, language: Language, tmp_path: Path
) -> Iterator[Callable[..., MainWindow]]:
    windows: list[MainWindow] = []

    def make(settings: Settings | None = None, *, directory: bool = True) -> MainWindow:
        desktop = compose(settings or make_settings(tmp_path), REGISTRY)
        if (
            directory
            and desktop.crm is not None
            and isinstance(desktop.crm, LocalCrm)
            and desktop.crm.count() == 0
        ):
            fill_directory(desktop)
        window = MainWindow(desktop, language)
        qtbot.addWidget(window)
        window.show()
        started = aio.create_task(window.start())
        qtbot.waitUntil(started.done, timeout=5000)
        started.result()
        windows.append(window)
        return window

    yield make
    for window in windows:
        desktop = window.desktop
        try:
            window.popups.close_all()
            window.close()
        except RuntimeError:  # Qt already deleted it (a test closed it for good)
            pass
        closing = aio.create_task(desktop.close())
        qtbot.waitUntil(closing.done, timeout=5000)


@pytest.fixture
def fake() -> DataverseFake:
    """The Dataverse fake (Dynamics 365's Web API, as documented)."""
    return DataverseFake()


@pytest.fixture
def dynamics(fake: DataverseFake, aio: asyncio.AbstractEventLoop, qtbot: Any) -> Iterator[DynamicsCrm]:
    """The Dynamics 365 connector on the fake, reading numbers as Iranian ones."""
    crm = DynamicsCrm(
        ORG,
        StaticTokens(fake.issue_token()),
        plan=NumberPlan(region="IR"),
        tables=DEFAULT_TABLES,
        transport=fake.transport(),
    )
    yield crm
    closing = aio.create_task(crm.close())
    qtbot.waitUntil(closing.done, timeout=3000)
