"""Re-create the screenshots in docs/screenshots/ from the real window, on a real X server.

    Xvfb :99 -screen 0 1400x900x24 &
    DISPLAY=:99 .venv/bin/python docs/make_screenshots.py

Uses the xcb platform (not offscreen: we want the fonts, the window system and the stacking the
agent gets), the SimulatedProvider and a LocalCrm filled with demo records in a temporary folder.
Each PNG is a grab of the screen area that matters, so stacked pop-ups appear where the agent
sees them.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
sys.path.insert(0, str(ROOT))

if not os.environ.get("DISPLAY"):
    sys.exit("make_screenshots.py needs an X server: Xvfb :99 -screen 0 1400x900x24 & DISPLAY=:99 …")
os.environ["QT_QPA_PLATFORM"] = "xcb"
_TMP = tempfile.mkdtemp(prefix="callsys-shots-")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_TMP, "config")
os.environ["XDG_DATA_HOME"] = os.path.join(_TMP, "data")

import qasync  # noqa: E402

from callsys.crm.local import LocalCrm  # noqa: E402
from callsys.model import EndReason  # noqa: E402
from callsys.session import CallSession  # noqa: E402
from callsys.settings import Settings  # noqa: E402
from providers import REGISTRY  # noqa: E402

from ui.app import create_application  # noqa: E402
from ui.desktop import compose  # noqa: E402
from ui.i18n import Language, set_current  # noqa: E402
from ui.mainwindow import MainWindow  # noqa: E402
from ui.qt import QGuiApplication, QRect, QWidget  # noqa: E402


def settings() -> Settings:
    return Settings(
        {
            "phone.provider": "sim",
            "phone.options": {"speed": 0, "agent_script": False, "dial_answer_after": 0.2},
            "storage.database": os.path.join(_TMP, "callsys.sqlite3"),
            "numbers.dnis_lines": {"7000": "Sales", "7200": "Support"},
        },
        path=Path(_TMP) / "settings.toml",
    )


def fill(crm: LocalCrm) -> None:
    crm.add("Sara Ahmadi", ["+982188776655", "+989121112233"], company="Ahmadi Trading")
    crm.add("Reza Karimi", ["09123456789"], kind="lead", company="Karimi & Sons")
    crm.add("ACME Corp", ["+14155550100"], kind="account")
    crm.add("ACME Support desk", ["+14155550100"], company="ACME Corp")
    crm.add("مریم رضایی", ["+989350001122"], company="بازرگانی پارس")


async def settle(seconds: float = 0.35) -> None:
    # Only sleep: Qt paints meanwhile. (Calling processEvents() here would run other asyncio
    # tasks re-entrantly inside this one, which asyncio refuses — the simulator's would die.)
    await asyncio.sleep(seconds)


def grab(name: str, rect: QRect | None = None, widget: QWidget | None = None) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    if widget is not None:
        pixmap = widget.grab()
    else:
        screen = QGuiApplication.primaryScreen()
        assert screen is not None
        pixmap = screen.grabWindow(0)
        if rect is not None:
            pixmap = pixmap.copy(rect)
    pixmap.save(str(path))
    print(path.relative_to(ROOT), pixmap.width(), "x", pixmap.height())
    return path


def union(widgets: list[QWidget], margin: int = 12) -> QRect:
    rect = QRect()
    for widget in widgets:
        rect = rect.united(widget.frameGeometry())
    return rect.adjusted(-margin, -margin, margin, margin)


WINDOW: list[MainWindow] = []


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    live = [(c.id, c.state.value) for c in WINDOW[0].desktop.manager.live_calls()] if WINDOW else []
    raise TimeoutError(f"the window did not get there (line {check.__code__.co_firstlineno}); live: {live}")


async def scenario(window: MainWindow, language: Language) -> None:
    sim = window.simulator
    await window.start()
    window.move(0, 0)
    window.resize(1000, 700)
    # Some history: an answered call, a missed one, one taken by a colleague, an outgoing call.
    done = sim.ring("+982188776655", "", dnis="7000")
    await settle(0.1)
    await until(lambda: window.popups.popup(done) is not None)
    window.answer(done)
    await until(lambda: window.popups.popup(done) is None)
    sim.remote_hangup(done)
    missed = sim.ring("09123456789", "", dnis="7200")
    await settle(0.1)
    sim.remote_hangup(missed, EndReason.MISSED)
    elsewhere = sim.ring("+989350001122", "", dnis="7200")
    await settle(0.1)
    sim.remote_hangup(elsewhere, EndReason.ANSWERED_ELSEWHERE)
    window.dial_text("+14155550100")
    await settle(0.6)
    await until(lambda: any(c.state.is_connected for c in window.desktop.manager.live_calls()))
    for call in window.desktop.manager.live_calls():
        sim.remote_hangup(call.id)
    await until(lambda: not window.desktop.manager.live_calls())

    # A call in progress and two waiting.
    current = sim.ring("+982188776655", "", dnis="7000", variables={"CUSTOMER_ID": "4711"})
    await settle(0.2)
    await until(lambda: window.popups.popup(current) is not None)
    window.answer(current)
    await until(lambda: window.popups.popup(current) is None)
    first = sim.ring("+14155550100", "ACME", dnis="7200")
    second = sim.ring("+989350001122", "", dnis="7000", variables={"IVR_CHOICE": "support"})
    await until(lambda: len(window.popups) == 2 and all(p._looked_up for p in window.popups.popups()))
    window.notes.text.setPlainText("Wants a quote for 40 handsets; call back on Monday.")
    window.resize(1180, 720)
    await settle(0.5)
    popups = window.popups.popups()

    grab("main-window-en.png", widget=window)
    grab("popups-en.png", union(popups))
    grab("desktop-en.png")

    window.set_language("fa")
    window.notes.text.setPlainText("برای ۴۰ گوشی پیش‌فاکتور می‌خواهد؛ دوشنبه تماس گرفته شود.")
    await settle(0.6)
    grab("main-window-fa.png", widget=window)
    grab("popups-fa.png", union(window.popups.popups()))
    grab("desktop-fa.png")
    window.set_language("en")
    await settle(0.2)

    for call_id in (first, second, current):
        sim.remote_hangup(call_id)
    await settle(0.3)
    window.popups.close_all()
    window.notes.close_form()

    for code in ("en", "fa"):
        window.set_language(code)
        await settle(0.3)
        grab(f"call-log-{code}.png", widget=window)
    window.set_language("en")


def run(
    scenario: Callable[[MainWindow, Language], Awaitable[None]],
    seed: Callable[[CallSession], None] = lambda desktop: None,
) -> int:
    """Run *scenario* in the English window on the sample directory (and what *seed* adds)."""
    app = create_application()
    language = Language(app)
    language.apply("en")
    set_current(language)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    desktop = compose(settings(), REGISTRY)
    assert isinstance(desktop.crm, LocalCrm)
    fill(desktop.crm)
    seed(desktop)
    window = MainWindow(desktop, language)
    WINDOW.append(window)
    window.show()
    with loop:
        loop.run_until_complete(scenario(window, language))
        window.popups.close_all()
        window.close()
        loop.run_until_complete(desktop.close())
    return 0


def main() -> int:
    return run(scenario)


if __name__ == "__main__":
    sys.exit(main())
