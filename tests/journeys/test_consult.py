"""A switchboard's attended transfer and conference, in the real window with the embedded
softphone and two real SIP phones (baresip): the agent calls A, types B's address in the transfer
field, consults B with the hotkey, then hands A over to B (REFER with Replaces) — or joins all
three and leaves the two talking. ``callsys log`` keeps the transfer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sip.peers import free_port, have

from .harness import Agent, softphone_settings
from .peer import Caller

pytestmark = [
    pytest.mark.peers,
    pytest.mark.skipif(not have("baresip"), reason="baresip is needed (scripts/setup --test)"),
]

ANSWERS = ["<sip:1002@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA"]


@pytest.fixture
def parties(tmp_path: Path) -> Iterator[tuple[Caller, Caller]]:
    """Two baresip phones that answer by themselves: A and B."""
    a = Caller(tmp_path / "a", ANSWERS)
    try:
        b = Caller(tmp_path / "b", ANSWERS)
    except BaseException:
        a.stop()
        raise
    yield a, b
    b.stop()
    a.stop()


def enabled(agent: Agent, name: str) -> bool:
    widget = agent.widget(name)
    return bool(widget and widget.get("enabled"))


def talk_then_consult(agent: Agent, a: Caller, b: Caller) -> None:
    """The agent dials A from the number field, then consults B (typed in the transfer field)."""
    seen_a, seen_b = a.seen, b.seen
    agent.point_at_window()
    agent.keys("ctrl+l")
    agent.type(f"1002@{a.address}")
    agent.keys("Return")
    a.event("CALL_ESTABLISHED", since=seen_a)
    agent.wait_for(lambda: enabled(agent, "consultButton"), "Consult… to be offered")
    assert not enabled(agent, "transferConsultedButton")  # nobody consulted yet
    transfer_field = agent.wait_for(lambda: agent.widget("transferEdit"), "the transfer field")
    agent.click_rect(transfer_field["rect"])
    agent.type(f"1002@{b.address}")
    agent.keys("ctrl+shift+c")
    b.event("CALL_ESTABLISHED", since=seen_b)
    agent.wait_for(lambda: enabled(agent, "transferConsultedButton"), "Transfer to consulted to be offered")


def test_consult_then_transfer(agents, parties: tuple[Caller, Caller]) -> None:  # type: ignore[no-untyped-def]
    a, b = parties
    agent = agents(softphone_settings(free_port()))
    agent.start()
    talk_then_consult(agent, a, b)
    seen_a, seen_b = a.seen, b.seen
    agent.keys("ctrl+shift+t")
    # A calls B by itself (the REFER's target); the agent's two calls end
    a.event("CALL_ESTABLISHED", since=seen_a, timeout=20)
    b.event("CALL_ESTABLISHED", since=seen_b, timeout=20)
    agent.wait_for(lambda: not agent.widget("hangupButton"), "the agent's calls to end", timeout=20)
    calls = agent.wait_for(
        lambda: c if len(c := agent.call_log()) == 2 and all(x["state"] == "ended" for x in c) else None,
        "two ended calls in 'callsys log'",
    )
    first = next(c for c in calls if a.address in c["number_written"])
    assert first["transferred_to"] == f"sip:1002@{b.address}"
    agent.quit()


def test_conference_then_leave(agents, parties: tuple[Caller, Caller]) -> None:  # type: ignore[no-untyped-def]
    a, b = parties
    agent = agents(softphone_settings(free_port()))
    agent.start()
    talk_then_consult(agent, a, b)
    agent.click("conferenceButton")
    agent.wait_for(
        lambda: "Conference" in str((agent.widget("currentTitle") or {}).get("text", "")), "the conference"
    )
    assert not enabled(agent, "conferenceButton")
    seen_a = a.seen
    agent.keys("ctrl+shift+t")  # leave: A and B go on without the agent
    a.event("CALL_ESTABLISHED", since=seen_a, timeout=20)
    agent.wait_for(lambda: not agent.widget("hangupButton"), "the agent's calls to end", timeout=20)
    calls = agent.wait_for(
        lambda: c if len(c := agent.call_log()) == 2 and all(x["state"] == "ended" for x in c) else None,
        "two ended calls in 'callsys log'",
    )
    assert all(c["conference"] for c in calls)
    agent.quit()
