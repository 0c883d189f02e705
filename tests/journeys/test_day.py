"""A day in the life of an agent, on the simulator: the real app, real keys and clicks.

First start → contacts imported with the command line → calls ring → answered by a click on the
pop-up and by the hotkey → notes → a waiting call, hold → language and calendar switched →
reports → convert → quit → restart: the log is intact → the settings file broken by hand →
restart → Settings opened and cancelled → everything still there.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .conftest import SIM_SETTINGS
from .harness import TITLE, Agent

ROOT = Path(__file__).resolve().parents[2]
CONTACTS = ROOT / "tests" / "data" / "contacts.csv"


def ended(agent: Agent, count: int) -> list[dict[str, object]]:
    """The call log (newest first) once *count* calls in it have ended."""
    return agent.wait_for(
        lambda: (
            rows
            if len(rows := agent.call_log()) >= count and all(r["state"] == "ended" for r in rows)
            else None
        ),
        f"{count} ended calls in 'callsys log'",
    )


def ring(agent: Agent) -> dict[str, object]:
    """Simulate → Ring now, with the keyboard; returns the pop-up that comes up."""
    before = len(agent.windows(cls="CallPopup"))
    agent.point_at_window()
    agent.keys("alt+s", "r")
    agent.wait_for(lambda: len(agent.windows(cls="CallPopup")) > before, "the pop-up of the ringing call")
    return agent.windows(cls="CallPopup")[-1]


@pytest.mark.slow  # ~30 s: not in the packaged app's quick self-test (tests/callsys.py)
def test_a_day_on_the_simulator(agents) -> None:  # type: ignore[no-untyped-def]
    agent = agents(SIM_SETTINGS)

    # --- first start: an empty window, the phone ready, nothing in the log
    agent.start()
    assert agent.title() == TITLE
    assert agent.status() == "Phone ready"
    assert agent.log_rows() == []
    assert agent.call_log() == []

    # --- contacts come from the command line while the window runs
    imported = agent.cli("directory", "import", str(CONTACTS)).stdout
    assert "Imported 4 new record(s)" in imported

    # --- a call rings; the pop-up names the caller from the imported directory; answered by a click
    popup = ring(agent)
    agent.wait_for(
        lambda: "Ahmadi & Co" in agent.widget("popupDetail", "callPopup").get("text", ""),  # type: ignore[union-attr]
        "the pop-up to show the company from the imported directory",
    )
    agent.click_rect(popup["widgets"]["answerButton"]["rect"])
    agent.wait_gone("callPopup")
    agent.wait_for(lambda: agent.widget("hangupButton"), "the call in the call panel")

    # --- notes while talking: the hotkey opens them, typed, saved with a click
    agent.point_at_window()
    agent.keys("ctrl+shift+n")
    agent.wait_for(lambda: agent.look().get("focus") == "notesText", "the notes field to take the focus")
    agent.type("Wants a quote for 40 handsets")
    agent.click("notesSave")

    # --- a second caller waits; answered with the hotkey, the first goes on hold
    ring(agent)
    agent.point_at_window()
    agent.keys("ctrl+shift+a")
    agent.wait_gone("callPopup")
    agent.wait_for(lambda: agent.widget("otherCall"), "the first call listed as held")
    # hold and resume the current one with the hotkey, then hang both up
    agent.keys("ctrl+shift+h")
    agent.wait_for(lambda: "Resume" in (agent.widget("holdButton") or {}).get("text", ""), "the call on hold")
    agent.keys("ctrl+shift+h")
    agent.wait_for(lambda: "Hold" in (agent.widget("holdButton") or {}).get("text", ""), "the call resumed")
    agent.keys("ctrl+shift+e")
    agent.wait_for(lambda: not agent.widget("otherCall"), "one call left")
    agent.keys("ctrl+shift+e")
    agent.wait_for(lambda: not agent.widget("hangupButton"), "both calls ended")
    calls = ended(agent, 2)
    assert [c["result"] for c in calls] == ["completed", "completed"]
    first = calls[-1]
    assert first["notes"] == "Wants a quote for 40 handsets"
    assert first["party_name"] == "Sara Ahmadi"

    # --- a missed call from the Simulate menu: the title counts it
    agent.menu("Simulate", "Missed call")  # the scenarios have no mnemonics: clicked
    agent.wait_for(lambda: agent.title().startswith("(1) "), "the missed call in the title")
    assert len(agent.log_rows()) == 3
    calls = ended(agent, 3)
    assert calls[0]["missed"] is True

    # --- Persian and back, by clicks on the menus (Persian titles keep a Latin mnemonic)
    agent.menu("View", "Language", "فارسی")
    agent.wait_for(lambda: agent.look().get("language") == "fa", "the window in Persian")
    assert "calls and CRM" not in agent.title()
    agent.menu("نما (V)", "زبان (L)", "English")
    agent.wait_for(lambda: agent.look().get("language") == "en", "the window in English")
    assert agent.title() == "(1) " + TITLE

    # --- the Jalali calendar in the log, and back
    agent.keys("alt+v", "j")
    agent.wait_for(lambda: agent.log_rows()[0][0].startswith("140"), "Jalali dates in the log")
    agent.keys("alt+v", "j")
    agent.wait_for(lambda: agent.log_rows()[0][0].startswith("20"), "Gregorian dates in the log")

    # --- reports, opened from the View menu and closed with Escape
    agent.keys("alt+v", "r")
    agent.wait_window("reportsDialog")
    agent.keys("Escape")
    agent.wait_gone("reportsDialog")

    # --- convert the first call: a click on its row, Phone → Convert call…, closed again
    agent.click_log_row(2)
    agent.point_at_window()
    agent.keys("alt+p", "v")
    agent.wait_window("convertDialog")
    agent.keys("Escape")
    agent.wait_gone("convertDialog")

    # --- quit and start again: the log is all there, in the database and in the window
    before = agent.call_log()
    agent.quit()
    agent.start()
    assert agent.call_log() == before
    rows = agent.log_rows()
    assert len(rows) == len(before) == 3
    assert [r[1] for r in rows] == [c["display_name"] for c in before]

    # --- the agent breaks the settings file by hand: the window still opens, says so, and
    #     opening the Settings dialog and cancelling it leaves the file as the agent wrote it
    agent.quit()
    assert agent.config is not None
    broken = SIM_SETTINGS + "\n[hotkeys\nanswer = 'Ctrl+Shift+A'\n"
    agent.config.write_text(broken, encoding="utf-8")
    agent.start()
    banner = agent.wait_for(lambda: agent.widget("bannerText"), "the banner about the settings file")
    assert "default" in banner["text"]
    agent.keys("alt+f", "s")
    agent.wait_window("settingsDialog")
    agent.keys("Escape")
    agent.wait_gone("settingsDialog")
    agent.quit()
    assert agent.config.read_text(encoding="utf-8") == broken

    # --- fixed again: everything is still there
    agent.config.write_text(SIM_SETTINGS, encoding="utf-8")
    agent.start()
    assert agent.widget("bannerText") is None
    assert agent.call_log() == before
    assert len(agent.log_rows()) == 3
    assert "Sara Ahmadi" in agent.cli("directory", "list").stdout
    time.sleep(0.2)
    agent.quit()
