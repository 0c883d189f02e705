"""Screenshots of the Settings dialog, the Reports view and the Convert dialog, English and Persian.

    Xvfb :98 -screen 0 1400x900x24 &
    DISPLAY=:98 .venv/bin/python docs/make_screenshots_extra.py

Writes docs/screenshots/{settings,settings_hotkeys,reports,convert,convert_add_number}_{en,fa}.png.
Reuses the set-up of ``docs/make_screenshots.py`` (xcb platform, temporary folders, demo
directory) and seeds the call log with a week of calls so the reports have something to show.
The Convert dialog is shown against Dynamics 365 — the Dataverse fake of the tests, with a
"Region" choice the organisation requires on every lead.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import make_screenshots as base

from callsys.auth import StaticTokens
from callsys.crm.conversion import DynamicsBackend, Subject
from callsys.crm.dynamics.client import DEFAULT_TABLES, DynamicsCrm
from callsys.model import Call, CallState, Direction, EndReason
from callsys.numbers import NumberPlan
from callsys.session import CallSession
from tests.dataverse_fake import ORG, Column, DataverseFake

from ui.convert import ConvertDialog, open_convert
from ui.i18n import Language
from ui.mainwindow import MainWindow
from ui.qt import QKeySequence
from ui.reports import ReportsDialog
from ui.settingsdialog import SettingsDialog

CALLERS = ("+982188776655", "09123456789", "+14155550100", "+989350001122", "+982144556677")


#: Today's missed call from an unknown number, logged by seed_week: the one to convert.
MISSED = "shot-missed"


def seed_week(desktop: CallSession) -> None:
    """A week of calls on two lines and two extensions, and the MISSED call today."""
    plan = desktop.plan
    log = desktop.calllog
    now = datetime.now().astimezone().replace(minute=0, second=0, microsecond=0)
    n = 0
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
    start = now + timedelta(minutes=5)
    log.record(
        Call(
            id=MISSED,
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


async def shots(window: MainWindow, language: Language) -> None:
    await window.start()
    window.move(0, 0)
    for code in ("en", "fa"):
        window.set_language(code)
        await base.settle(0.3)

        settings = SettingsDialog(window.desktop.settings, window)
        settings.move(20, 20)
        settings.resize(800, 900)
        settings.show()
        settings.tabs.setCurrentIndex(settings._pages["phone"])
        provider = settings.fields["phone.provider"].widget
        provider.setCurrentIndex(provider.findData("sip"))  # type: ignore[attr-defined]
        # The demo runs on the simulator; its options mean nothing to the softphone.
        settings.fields["phone.options"].widget.setPlainText("")  # type: ignore[attr-defined]
        lines = settings.sip_lines
        lines.set_lines(
            [
                {
                    "label": "Office" if code == "en" else "دفتر",
                    "registrar": "sip:pbx.example.com",
                    "user": "1001",
                },
                {
                    "label": "Support" if code == "en" else "پشتیبانی",
                    "registrar": "sips:pbx.example.com",
                    "user": "2002",
                    "transport": "tls",
                },
            ]
        )
        lines.list.setCurrentRow(0)
        lines.default_box.setChecked(True)
        await base.settle(0.4)
        base.grab(f"settings_{code}.png", widget=settings)
        settings.tabs.setCurrentIndex(settings._pages["hotkeys"])
        notes = settings.fields["hotkeys.notes"].widget
        notes.setKeySequence(QKeySequence("Ctrl+L"))  # type: ignore[attr-defined]
        settings.resize(800, 640)
        await base.settle(0.3)
        base.grab(f"settings_hotkeys_{code}.png", widget=settings)
        settings.reject()

        reports = ReportsDialog(window.desktop, window)
        reports.move(20, 20)
        reports.resize(960, 700)
        reports.show()
        await base.settle(0.5)
        base.grab(f"reports_{code}.png", widget=reports)
        reports.close()

        await dynamics_convert(window, code)

        convert = open_convert(window, MISSED)
        assert convert is not None
        convert.move(20, 20)
        convert.action.setCurrentIndex(convert.action.findData("add_number"))
        convert.search.setText("Ahmadi")
        await base.settle(0.6)
        base.grab(f"convert_add_number_{code}.png", widget=convert)
        convert.close()
    window.set_language("en")


async def dynamics_convert(window: MainWindow, code: str) -> None:
    """A missed call becomes a lead in Dynamics 365, whose organisation requires a region."""
    fa = code == "fa"
    fake = DataverseFake()
    fake.require(
        "lead",
        Column(
            "new_region",
            "Picklist",
            "منطقه" if fa else "Region",
            options={100000000: "شمال" if fa else "North", 100000001: "جنوب" if fa else "South"},
        ),
    )
    crm = DynamicsCrm(
        ORG,
        StaticTokens(fake.issue_token()),
        plan=NumberPlan(region="IR"),
        tables=DEFAULT_TABLES,
        transport=fake.transport(),
    )
    subject = Subject(
        crm.plan.parse("+982144556677"),
        name="Nima Pars" if not fa else "نیما پارسا",
        company="Pars Trading" if not fa else "بازرگانی پارس",
        started_at=datetime.now().astimezone().replace(second=0, microsecond=0),
    )
    convert = ConvertDialog(
        DynamicsBackend(crm), subject, window, display=window.display_number, action="lead"
    )
    convert.move(20, 20)
    convert.show()
    for _ in range(100):
        if "new_region" in convert.extra_rows.get("lead", {}):
            break
        await asyncio.sleep(0.05)
    await base.settle(0.4)
    base.grab(f"convert_{code}.png", widget=convert)
    convert.close()
    await crm.close()


def main() -> int:
    return base.run(shots, seed_week)


if __name__ == "__main__":
    sys.exit(main())
