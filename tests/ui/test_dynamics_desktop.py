"""The desktop with Dynamics 365 behind it (Dataverse fake): the pop-up shows the CRM contact, the
answered call becomes a phone-call activity, the agent's notes and the duration reach it, and a
missed call becomes an "Unanswered" activity (IN1 IN3 IN7 IN8 OUT5 B4)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callsys.auth import StaticTokens
from callsys.crm.dynamics.client import DEFAULT_TABLES, DynamicsCrm
from callsys.lookup import CallerLookup
from callsys.model import CallState, EndReason
from callsys.session import wire_activities
from providers import REGISTRY
from tests.dataverse_fake import ORG, DataverseFake
from tests.ui.conftest import REZA, SARA, dynamics_desktop, make_settings

from ui.desktop import compose
from ui.i18n import Language
from ui.mainwindow import MainWindow


@pytest.fixture
def dynamics_window(
    qtbot: Any, aio: asyncio.AbstractEventLoop, language: Language, tmp_path: Path
) -> Iterator[tuple[MainWindow, DataverseFake]]:
    fake = DataverseFake()
    fake.add("contact", {"firstname": "Sara", "lastname": "Ahmadi", "telephone1": "+98 21 8877 6655"})
    desktop = dynamics_desktop(tmp_path, fake)
    wire_activities(desktop)  # what compose does when crm.backend = "dynamics"
    window = MainWindow(desktop, language)
    qtbot.addWidget(window)
    started = aio.create_task(window.start())
    qtbot.waitUntil(started.done)
    yield window, fake
    window.popups.close_all()
    window.close()
    closing = aio.create_task(desktop.close())
    qtbot.waitUntil(closing.done, timeout=5000)


def test_an_answered_call_becomes_an_activity_with_the_notes_and_duration(
    dynamics_window: tuple[MainWindow, DataverseFake], qtbot: Any
) -> None:
    window, fake = dynamics_window
    assert window.desktop.activity is not None
    sim = window.simulator
    call_id = sim.ring(SARA, "")
    qtbot.waitUntil(lambda: (p := window.popups.popup(call_id)) is not None and p.party is not None)
    assert "Sara Ahmadi" in window.popups.popup(call_id).name_label.text()  # from Dataverse
    window.answer(call_id)
    qtbot.waitUntil(lambda: sim.state(call_id) is CallState.ACTIVE)
    qtbot.waitUntil(lambda: fake.count("phonecall") == 1, timeout=10000)  # IN7: created on connect
    window.notes.text.setPlainText("Asked for the March invoice.")
    window.notes.save()
    sim.remote_hangup(call_id)
    activity_id = window.desktop.activity.activity_id(call_id)
    qtbot.waitUntil(
        lambda: "March invoice" in ((fake.find("phonecall", activity_id) or {}).get("description") or ""),
        timeout=10000,
    )
    qtbot.waitUntil(lambda: (fake.find("phonecall", activity_id) or {}).get("statecode") == 1, timeout=10000)
    row = fake.find("phonecall", activity_id)
    assert row["directioncode"] is False  # incoming
    assert "actualdurationminutes" in row


def test_a_missed_call_becomes_an_unanswered_activity(
    dynamics_window: tuple[MainWindow, DataverseFake], qtbot: Any
) -> None:
    window, fake = dynamics_window
    sim = window.simulator
    call_id = sim.ring(REZA, "")
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is not None)
    sim.remote_hangup(call_id, EndReason.MISSED)
    qtbot.waitUntil(lambda: fake.count("phonecall") == 1, timeout=10000)
    (row,) = fake.rows["phonecall"].values()
    assert row["subject"].startswith("Unanswered")  # IN8 (بی پاسخ in the Persian UI)


def test_the_configured_unanswered_status_reaches_the_desktops_logger(
    tmp_path: Path, qtbot: Any, aio: asyncio.AbstractEventLoop
) -> None:
    """IN8: an organisation that added a custom "Missed" status reason under Completed gets it."""
    fake = DataverseFake()
    desktop = compose(make_settings(tmp_path, **{"crm.unanswered_statuscode": 100000001}), REGISTRY)
    desktop.crm = DynamicsCrm(
        ORG,
        StaticTokens(fake.issue_token()),
        plan=desktop.plan,
        tables=DEFAULT_TABLES,
        transport=fake.transport(),
    )
    wire_activities(desktop)
    try:
        assert desktop.activity is not None
        assert desktop.activity.unanswered_status == (1, 100000001)
    finally:
        closing = aio.create_task(desktop.close())
        qtbot.waitUntil(closing.done, timeout=5000)


def test_a_phone_index_sync_shows_its_progress_in_the_status_bar(
    dynamics_window: tuple[MainWindow, DataverseFake], qtbot: Any, aio: asyncio.AbstractEventLoop
) -> None:
    """B3 / issue 4: the first full sync of the phone index shows a progress bar, which goes away
    when the sync is over."""
    from callsys.crm.dynamics.phoneindex import PhoneIndex

    window, fake = dynamics_window
    for i in range(30):
        fake.add("contact", {"firstname": "Person", "lastname": str(i), "mobilephone": f"+98912000{i:04d}"})
    seen: list[str] = []
    show = window.show_sync_progress

    def spy(step: Any) -> None:
        show(step)
        if not window.sync_bar.isHidden():
            seen.append(window.sync_label.text())

    window.desktop.sync_progress = spy
    assert window.desktop.db is not None
    window.desktop.crm.index = PhoneIndex(window.desktop.db, window.desktop.plan)  # type: ignore[union-attr]
    task = aio.create_task(window.desktop._sync_index())
    try:
        qtbot.waitUntil(lambda: bool(seen) and window.sync_bar.isHidden(), timeout=10000)
    finally:
        task.cancel()
    assert any("contact" in text and "31" in text for text in seen), seen  # 30 + Sara
    assert window.sync_label.isHidden()


def test_a_resync_shows_its_rate_and_the_time_left(dynamics_window: tuple[MainWindow, DataverseFake]) -> None:
    """A full resync knows the table's size from its last sync: the bar fills and says how
    long is left; a first sync (size unknown) shows the rate on a busy bar."""
    from callsys.crm.dynamics.phoneindex import SyncProgress

    window, _ = dynamics_window
    window.show_sync_progress(SyncProgress("contact", 50_000, 10, "full", expected=200_000, seconds=2.0))
    text = window.sync_label.text()
    assert "25,000" in text and "200,000" in text and "0:06" in text, text  # 150,000 left at 25,000 a second
    assert (window.sync_bar.maximum(), window.sync_bar.value()) == (200_000, 50_000)
    window.show_sync_progress(SyncProgress("contact", 5_000, 1, "full", seconds=0.5))
    assert "10,000" in window.sync_label.text() and window.sync_bar.maximum() == 0
    window.show_sync_progress(None)
    assert window.sync_label.isHidden()


def test_a_ring_answered_from_the_phone_index_is_confirmed_online(
    dynamics_window: tuple[MainWindow, DataverseFake], qtbot: Any, aio: asyncio.AbstractEventLoop
) -> None:
    """B3: the pop-up paints at once from the local phone index, then the CRM confirms it in the
    background — a record renamed since the last sync shows its current name."""
    from callsys.crm.dynamics.phoneindex import IndexSync, PhoneIndex

    window, fake = dynamics_window
    desktop = window.desktop
    assert desktop.db is not None
    crm: Any = desktop.crm
    crm.index = PhoneIndex(desktop.db, desktop.plan)
    syncing = aio.create_task(IndexSync(crm.index, crm).sync())
    qtbot.waitUntil(syncing.done, timeout=10000)
    desktop.lookup = CallerLookup(crm, index=crm.index)
    contact_id = next(iter(fake.rows["contact"]))
    fake.update("contact", contact_id, {"firstname": "Sarah"})  # renamed after the sync

    call_id = window.simulator.ring(SARA, "")
    qtbot.waitUntil(lambda: window.popups.popup(call_id) is not None)
    assert "Sara Ahmadi" in window.popups.popup(call_id).name_label.text()  # first paint: the index
    qtbot.waitUntil(lambda: "Sarah Ahmadi" in window.popups.popup(call_id).name_label.text(), timeout=10000)
