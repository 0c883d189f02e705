"""Screenshots of the Settings dialog, the Reports view and the Convert dialog, English and Persian.

    Xvfb :98 -screen 0 1400x900x24 &
    DISPLAY=:98 .venv/bin/python docs/make_screenshots_extra.py

Writes docs/screenshots/{settings,reports,convert}_{en,fa}.png. Reuses the set-up of
``docs/make_screenshots.py`` (xcb platform, temporary folders, demo directory) and seeds the call
log with a week of calls so the reports have something to show.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import make_screenshots as base
import qasync

from callsys.crm.local import LocalCrm
from callsys.model import Call, CallState, Direction, EndReason
from providers import REGISTRY

from ui.app import create_application
from ui.convert import open_convert
from ui.desktop import Desktop, compose
from ui.i18n import Language, set_current
from ui.mainwindow import MainWindow
from ui.reports import ReportsDialog
from ui.settingsdialog import SettingsDialog

CALLERS = ("+982188776655", "09123456789", "+14155550100", "+989350001122", "+982144556677")


def seed_week(desktop: Desktop) -> str:
    """A week of calls on two lines and two extensions; returns the id of a missed call today."""
    plan = desktop.plan
    log = desktop.calllog
    now = datetime.now().astimezone().replace(minute=0, second=0, microsecond=0)
    n = 0
    missed = ""
    for day in range(7):
        for slot in range(6 + day % 3):
            n += 1
            start = now - timedelta(days=day, hours=slot + 1)
            direction = Direction.OUTGOING if n % 3 == 0 else Direction.INCOMING
            reason = EndReason.COMPLETED
            if n % 5 == 0:
                reason = EndReason.MISSED if direction is Direction.INCOMING else EndReason.NO_ANSWER
            talk = 40 + (n * 37) % 400 if reason is EndReason.COMPLETED else None
            answered = start + timedelta(seconds=6) if talk else None
            ended = answered + timedelta(seconds=talk) if answered and talk else start + timedelta(seconds=30)
            call = Call(
                id=f"shot-{n}",
                direction=direction,
                state=CallState.ENDED,
                started_at=start,
                remote=plan.parse(CALLERS[n % len(CALLERS)]),
                line=("Sales", "Support", "Sales")[n % 3],
                extension=("1001", "1002")[n % 2],
                answered_at=answered,
                ended_at=ended,
                end_reason=reason,
            )
            log.record(call)
    # Today's missed call from an unknown number: the one to convert.
    start = now + timedelta(minutes=5)
    log.record(
        Call(
            id="shot-missed",
            direction=Direction.INCOMING,
            state=CallState.ENDED,
            started_at=start,
            remote=plan.parse("+982144556677"),
            remote_name="PARS TRADING",
            line="Sales",
            extension="1001",
            ended_at=start + timedelta(seconds=25),
            end_reason=EndReason.MISSED,
        )
    )
    missed = "shot-missed"
    return missed


async def shots(window: MainWindow, language: Language, missed: str) -> None:
    await window.start()
    window.move(0, 0)
    for code in ("en", "fa"):
        window.set_language(code)
        await base.settle(0.3)

        settings = SettingsDialog(window.desktop.settings, window)
        settings.move(20, 20)
        settings.resize(800, 640)
        settings.show()
        settings.tabs.setCurrentIndex(settings._pages["phone"])
        await base.settle(0.4)
        base.grab(f"settings_{code}.png", widget=settings)
        settings.tabs.setCurrentIndex(settings._pages["logging"])
        field = settings.fields["logging.min_log_digits"].widget
        field.setText("25")  # type: ignore[attr-defined]
        await base.settle(0.3)
        base.grab(f"settings_invalid_{code}.png", widget=settings)
        settings.reject()

        reports = ReportsDialog(window.desktop, window)
        reports.move(20, 20)
        reports.resize(960, 700)
        reports.show()
        await base.settle(0.5)
        base.grab(f"reports_{code}.png", widget=reports)
        reports.close()

        convert = open_convert(window, missed)
        assert convert is not None
        convert.move(20, 20)
        await base.settle(0.4)
        base.grab(f"convert_{code}.png", widget=convert)
        convert.action.setCurrentIndex(convert.action.findData("add_number"))
        convert.search.setText("Ahmadi")
        await base.settle(0.6)
        base.grab(f"convert_add_number_{code}.png", widget=convert)
        convert.close()
    window.set_language("en")


def main() -> int:
    app = create_application()
    language = Language(app)
    language.apply("en")
    set_current(language)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    desktop = compose(base.settings(), REGISTRY)
    assert isinstance(desktop.crm, LocalCrm)
    base.fill(desktop.crm)
    missed = seed_week(desktop)
    window = MainWindow(desktop, language)
    window.show()
    with loop:
        loop.run_until_complete(shots(window, language, missed))
        window.popups.close_all()
        window.close()
        loop.run_until_complete(desktop.close())
    return 0


if __name__ == "__main__":
    sys.exit(main())
