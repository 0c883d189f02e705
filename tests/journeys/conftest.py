"""Journeys: the real app on a virtual X server, driven with real X input (see harness.py).

One Xvfb for the whole run; each test gets agents with their own homes under its tmp folder,
stopped at the end whatever happened. A failed test leaves a screenshot of the screen next to
the apps' stderr in its tmp folder (the path is printed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .harness import Agent, Screen, have_x_tools

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason="the journeys need Xvfb and xdotool (scripts/setup --test)")
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.journeys)
            # the monkey runs offscreen; only the journeys on the virtual screen need X tools
            if "screen" in getattr(item, "fixturenames", ()) and not have_x_tools():
                item.add_marker(skip)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def screen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Screen]:
    shown = Screen(tmp_path_factory.mktemp("xvfb"))
    yield shown
    shown.stop()


SIM_SETTINGS = """[phone]
provider = "sim"

[phone.options]
speed = 0
agent_script = false
dial_answer_after = 0.3
"""


@pytest.fixture
def agents(screen: Screen, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., Agent]]:
    """Make an agent: ``agents(config_text=None, home="agent")`` — the same *home* twice is the
    same machine. Everything started is stopped at the end, by PID."""
    made: list[Agent] = []

    def make(config_text: str | None = SIM_SETTINGS, home: str = "agent", name: str = "app") -> Agent:
        folder = tmp_path / home
        folder.mkdir(exist_ok=True)
        config = None
        if config_text is not None:
            config = folder / "settings.toml"
            config.write_text(config_text, encoding="utf-8")
        agent = Agent(screen, folder, config, name=name)
        made.append(agent)
        return agent

    yield make
    call = getattr(request.node, "report_call", None)
    if call is not None and call.failed:
        shot = screen.screenshot(tmp_path / "screen-failed.png")
        print(f"\nscreenshot of the failure: {shot}; the apps' stderr: {tmp_path}/*/*.stderr")
    for agent in made:
        agent.stop()
