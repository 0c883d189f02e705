"""Journey steps that failed in the first hour of a new agent (issue 11), each in a fresh app.

Each test is the step as the agent took it, with real keys and clicks, and asserts what the
agent should get."""

from __future__ import annotations

from .conftest import SIM_SETTINGS
from .harness import Agent


def missed_call(agent: Agent, rows: int) -> None:
    """Simulate → Missed call (clicked: the scenarios have no mnemonics); the log shows *rows*."""
    agent.menu("Simulate", "Missed call")
    agent.wait_for(lambda: len(agent.log_rows()) == rows, f"{rows} rows in the call log")


def test_ok_in_settings_keeps_a_settings_file_that_could_not_be_read(agents) -> None:  # type: ignore[no-untyped-def]
    """Defect 1: ``--config`` names a settings file with a syntax error; the window runs on the
    defaults and says so; File → Settings → Do not disturb → OK must not write over the agent's
    file (unless a copy is kept), nor write a settings file anywhere else."""
    broken = SIM_SETTINGS + '\n[numbers]\nregion = "IR"\narea_code = "21"\n\n[hotkeys\nanswer = "F9"\n'
    agent = agents(broken)
    assert agent.config is not None
    agent.start()
    agent.wait_for(lambda: agent.widget("bannerText"), "the banner about the settings file")
    agent.keys("alt+f", "s")
    agent.wait_window("settingsDialog")
    box = agent.wait_for(lambda: agent.widget("setting_phone_dnd", "settingsDialog"), "Do not disturb")
    x, y, _w, h = box["rect"]
    agent.click_at(x + 8, y + h // 2)  # on the box itself: the widget spans the whole column
    agent.wait_for(
        lambda: (agent.widget("setting_phone_dnd", "settingsDialog") or {}).get("checked"),
        "Do not disturb ticked",
    )
    agent.click("settingsOk", "settingsDialog")
    agent.wait_for(  # closed, or a question, or the dialog says why it does not save
        lambda: (
            agent.windows(cls="QMessageBox")
            or not agent.windows(name="settingsDialog")
            or agent.widget("settingsProblem", "settingsDialog")
            or (
                agent.widget("settingsUnreadable", "settingsDialog")
                and not (agent.widget("settingsOk", "settingsDialog") or {}).get("enabled", True)
            )
        ),
        "the dialog to answer OK",
    )
    backup = agent.config.with_name("settings.toml.bak")
    kept = agent.config.read_text(encoding="utf-8") == broken or (
        backup.exists() and backup.read_text(encoding="utf-8") == broken
    )
    assert kept, "the settings file the agent wrote is gone, and no copy of it was kept"
    default = agent.home / ".config" / "callsys" / "settings.toml"
    assert not default.exists(), (
        f"a settings file was written where none was asked for: {default.read_text()}"
    )
    agent.stop()


def test_a_click_in_the_log_after_convert_and_the_jalali_calendar(agents) -> None:  # type: ignore[no-untyped-def]
    """Defect 2: right-click a call in the log → Convert call… → Close → View → Jalali calendar →
    a click in the call log (or View → Reports…) killed the process: a stale index behind the
    log's proxy model. The process dies when the freed memory is read before it is reused
    (MALLOC_PERTURB_, set by the harness, fills it): here nine times in ten on the first
    calendar switch, so the route is taken three times."""
    agent = agents(SIM_SETTINGS)
    agent.start()
    missed_call(agent, 1)
    missed_call(agent, 2)
    for round_ in range(3):  # the crash reads freed memory: once is likely, three times certain
        agent.click_log_row(round_ % 2, button=3)
        agent.wait_for(lambda: agent.windows(cls="QMenu"), "the log's context menu")
        menu = agent.windows(cls="QMenu")[-1]
        convert = next(i for i in menu["items"] if i["text"].replace("&", "") == "Convert call…")
        agent.click_rect(convert["rect"])
        agent.wait_window("convertDialog")
        agent.keys("Escape")
        agent.wait_gone("convertDialog")
        agent.point_at_window()
        agent.keys("alt+v", "j")
        calendar = "jalali" if round_ % 2 == 0 else "gregorian"
        agent.wait_for(lambda c=calendar: agent.look().get("calendar") == c, f"the {calendar} calendar")
        agent.click_log_row(1)
        agent.click_log_row(0)
    agent.point_at_window()
    agent.keys("alt+v", "r")  # and the reports open
    agent.wait_window("reportsDialog")
    agent.keys("Escape")
    agent.quit()


def test_after_a_restart_a_new_call_goes_on_top_and_no_row_disappears(agents) -> None:  # type: ignore[no-untyped-def]
    """Defect 3: with yesterday's calls loaded at start-up, each new call replaced a row of the
    view instead of coming on top (the database was right)."""
    agent = agents(SIM_SETTINGS)
    agent.start()
    missed_call(agent, 1)
    missed_call(agent, 2)
    agent.quit()

    agent.start()
    before = agent.log_rows()
    assert len(before) == 2
    agent.point_at_window()
    agent.keys("alt+s", "r")  # Simulate → Ring now: Sara Ahmadi calls
    agent.wait_for(lambda: len(agent.call_log()) == 3, "the third call in 'callsys log'")

    def with_new_call() -> list[list[str]] | None:
        rows = agent.log_rows()
        return rows if any("Sara Ahmadi" in row[1] for row in rows) else None

    rows = agent.wait_for(with_new_call, "the new call in the log")
    assert len(rows) == 3, f"the view shows {len(rows)} rows for 3 calls: {rows}"
    assert "Sara Ahmadi" in rows[0][1], f"the new call is not on top: {rows}"
    assert rows[1:] == before
    agent.quit()
