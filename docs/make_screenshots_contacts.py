"""Screenshots of the contacts view (View → Contacts), English and Persian.

    Xvfb :96 -screen 0 1400x900x24 &
    DISPLAY=:96 .venv/bin/python docs/make_screenshots_contacts.py

Writes docs/screenshots/contacts-{en,fa}.png: the window with the local directory docked beside
the call log — each number with its type — a record chosen, and the number field's suggestions
open. Reuses ``docs/make_screenshots.py``'s set-up (xcb platform, temporary folders, demo
directory) and adds a few records with mobile, work and home numbers.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import make_screenshots as base

from callsys.crm.local import LocalCrm
from callsys.session import CallSession

from ui.i18n import Language
from ui.mainwindow import MainWindow
from ui.qt import Qt


def seed(desktop: CallSession) -> None:
    crm = desktop.crm
    assert isinstance(crm, LocalCrm)
    crm.add(
        "Nima Rahimi", [("mobilephone", "09121234567"), ("home", "021 2222 3333")], company="Rahimi Tools"
    )
    crm.add("Laleh Moradi", [("telephone", "021 8800 1200"), ("mobilephone", "0935 111 2020")])
    crm.add(
        "Omid Sadeghi", [("mobilephone", "0912 700 8080"), ("fax", "021 8800 1299")], company="Sadeghi Co"
    )
    crm.add(
        "علی رضایی", [("mobilephone", "۰۹۱۲۳۳۳۴۴۵۵"), ("telephone", "۰۲۱۶۶۷۷۸۸۹۹")], company="بازرگانی پارس"
    )


async def shots(window: MainWindow, language: Language) -> None:
    await window.start()
    window.move(0, 0)
    window.resize(1380, 680)
    view = window.show_contacts()
    window.resizeDocks([window.contacts_dock], [700], Qt.Orientation.Horizontal)
    view.select_row(3)
    for code in ("en", "fa"):
        window.set_language(code)
        await base.settle(0.3)
        for column in range(3):  # the numbers take the rest
            view.table.resizeColumnToContents(column)
        view.table.setFocus()
        await base.settle(0.5)
        base.grab(f"contacts-{code}.png", widget=window)
    window.set_language("en")


def main() -> int:
    return base.run(shots, seed)


if __name__ == "__main__":
    sys.exit(main())
