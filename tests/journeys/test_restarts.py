"""What must hold across a restart of the real app: the agent's choices and the calls' notes."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tests.sip.peers import free_port

from .conftest import SIM_SETTINGS
from .harness import Agent


def provisioned_first_start(agent: Agent, home: Path) -> None:
    """No settings file; the organisation's provisioning file only moves the built-in phone off
    port 5060 and keeps it silent (no sound card here), as a roll-out would ship it."""
    provisioning = home / "provisioning.toml"
    provisioning.write_text(
        f'[defaults.phone]\nprovider = "sip"\n[defaults.phone.options]\nlisten_port = {free_port()}\n'
        'audio = { mode = "none" }\n',
        encoding="utf-8",
    )
    agent.extra_env["CALLSYS_PROVISIONING"] = str(provisioning)


def test_try_the_simulator_is_still_chosen_after_a_restart(agents) -> None:  # type: ignore[no-untyped-def]
    """The first-start panel's "Try the simulator", then quit and start again: the window comes
    back with the simulator (it came back with the unconfigured built-in phone and the welcome
    panel), and what the settings file held before is still in it."""
    agent = agents(None)
    provisioned_first_start(agent, agent.home)
    settings = agent.home / ".config" / "callsys" / "settings.toml"
    agent.start()
    agent.wait_for(lambda: agent.widget("firstStartSimulator"), "the first-start panel")
    agent.keys("alt+v", "j")  # the Jalali calendar: the first thing written to the settings file
    agent.wait_for(settings.exists, "the settings file")
    agent.click("firstStartSimulator")
    agent.wait_for(
        lambda: "simulator is running" in (agent.widget("firstStartText") or {}).get("text", ""),
        "the simulator running",
    )
    agent.quit()
    written = tomllib.loads(settings.read_text(encoding="utf-8"))
    assert written["phone"]["provider"] == "sim"
    assert written["ui"]["calendar"] == "jalali"  # the file's earlier content is kept
    backup = settings.with_name("settings.toml.bak")
    assert tomllib.loads(backup.read_text(encoding="utf-8"))["ui"]["calendar"] == "jalali"

    agent.start()
    assert agent.widget("firstStart") is None  # not a first start any more
    agent.menu("Simulate", "Missed call")  # the Simulate menu is there: the simulator runs
    agent.wait_for(lambda: len(agent.log_rows()) == 1, "the simulated call in the log")
    assert agent.look().get("calendar") == "jalali"
    agent.quit()


PERSIAN = SIM_SETTINGS + '\n[ui]\nlanguage = "fa"\n'


def test_alt_and_a_latin_letter_open_each_menu_in_persian(agents) -> None:  # type: ignore[no-untyped-def]
    """In Persian the menus' mnemonics were Persian letters ("&پرونده"): with a Latin keyboard
    layout no Alt+key opened a menu. Each top menu keeps its English letter ("پرونده (&F)"),
    typed here as xdotool types it — the keys of a US layout."""
    agent = agents(PERSIAN)
    agent.start()
    assert agent.look().get("language") == "fa"
    for key, menu in (
        ("f", "fileMenu"),
        ("p", "phoneMenu"),
        ("v", "viewMenu"),
        ("s", "simulateMenu"),
        ("h", "helpMenu"),
    ):
        agent.point_at_window()
        agent.screen.xdotool("key", "--clearmodifiers", f"alt+{key}")
        shown = agent.wait_for(lambda: agent.windows(cls="QMenu"), f"a menu for Alt+{key.upper()}")
        assert [w["name"] for w in shown] == [menu]
        agent.keys("Escape")
        agent.wait_for(lambda: not agent.windows(cls="QMenu"), "the menu closed")
    agent.point_at_window()
    agent.keys("alt+v", "l")  # and an item's letter inside the menu: View → Language
    agent.wait_for(
        lambda: "languageMenu" in [w["name"] for w in agent.windows(cls="QMenu")],
        "the Language menu",
    )
    agent.keys("Escape", "Escape")
    agent.quit()  # Alt+F, Q: File → Quit, in Persian


def notes_text(agent: Agent) -> str:
    return str((agent.widget("notesText") or {}).get("text", ""))


def test_notes_go_to_the_call_they_were_typed_for_when_ids_repeat_after_a_restart(agents) -> None:  # type: ignore[no-untyped-def]
    """The simulator numbers its calls from sim-1 again after a restart, and the log kept rows by
    that id: with yesterday's sim-1 in the log and today's sim-1 just missed, the notes opened on
    yesterday's row were today's call's, and what the agent typed there went to today's row."""
    agent = agents(SIM_SETTINGS)
    agent.start()
    agent.point_at_window()
    agent.keys("alt+s", "r")  # Sara Ahmadi calls: sim-1
    popup = agent.wait_window("callPopup", focus=False)
    agent.click_rect(popup["widgets"]["answerButton"]["rect"])
    agent.wait_for(lambda: agent.widget("hangupButton"), "the call in the call panel")
    agent.point_at_window()
    agent.keys("ctrl+shift+n")
    agent.wait_for(lambda: agent.look().get("focus") == "notesText", "the notes field")
    agent.type("Quote for 40 handsets")
    agent.click("notesSave")
    agent.point_at_window()
    agent.keys("ctrl+shift+e")
    agent.wait_for(
        lambda: (
            [(c["call_id"], c["state"], c["notes"]) for c in agent.call_log()]
            == [("sim-1", "ended", "Quote for 40 handsets")]
        ),
        "yesterday's call with its notes in 'callsys log'",
    )
    agent.quit()

    agent.start()
    agent.menu("Simulate", "Missed call")  # Reza Karimi: sim-1 again, another call
    agent.wait_for(lambda: len(agent.log_rows()) == 2, "today's call on top of yesterday's")
    agent.wait_for(lambda: all(c["state"] == "ended" for c in agent.call_log()), "today's call ended")
    rows = agent.log_rows()
    assert "Reza" in rows[0][1] and "Sara" in rows[1][1], rows

    agent.click_log_row(0)  # today's call: notes typed for it go to its row
    agent.point_at_window()
    agent.keys("ctrl+shift+n")
    agent.wait_for(lambda: agent.look().get("focus") == "notesText", "the notes of today's call")
    assert notes_text(agent) == ""
    agent.type("Called back, no answer")
    agent.click("notesSave")

    agent.click_log_row(1)  # yesterday's call: its own notes, not today's
    agent.point_at_window()
    agent.keys("ctrl+shift+n")
    agent.wait_for(lambda: "Sara" in str((agent.widget("notesWho") or {}).get("text", "")), "Sara's notes")
    assert notes_text(agent) == "Quote for 40 handsets"
    agent.keys("ctrl+End")
    agent.type(", sent")
    agent.click("notesSave")

    def notes() -> dict[str, str]:
        return {str(c["display_name"]): str(c["notes"]) for c in agent.call_log()}

    agent.wait_for(
        lambda: (
            notes() == {"Reza Karimi": "Called back, no answer", "Sara Ahmadi": "Quote for 40 handsets, sent"}
        ),
        "each call's notes on its own row",
    )
    log = agent.call_log()
    assert [c["call_id"] for c in log] == ["sim-1", "sim-1"]
    assert len({c["id"] for c in log}) == 2

    agent.click_log_row(1)  # and Convert on yesterday's row is about yesterday's caller
    agent.point_at_window()
    agent.keys("alt+p", "v")
    agent.wait_window("convertDialog")
    shown = json_text(agent.windows(name="convertDialog")[0])
    assert "Sara" in shown and "Reza" not in shown
    agent.keys("Escape")
    agent.wait_gone("convertDialog")
    agent.quit()


def json_text(window: dict[str, object]) -> str:
    widgets = window.get("widgets", {})
    assert isinstance(widgets, dict)
    return " ".join(str(w.get("text", "")) for w in widgets.values())
