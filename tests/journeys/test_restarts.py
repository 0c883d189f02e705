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
