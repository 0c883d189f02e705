"""The embedded softphone (the default phone connection) in the real window, called by a real SIP
phone (baresip): a caller rings, is answered by a click on the pop-up and by the hotkey, hung up
from either side; the window dials a SIP address typed in the number field."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sip.peers import free_port, have

from .harness import Agent, JourneyError, softphone_settings
from .peer import Caller

pytestmark = [
    pytest.mark.peers,
    pytest.mark.skipif(not have("baresip"), reason="baresip is needed (scripts/setup --test)"),
]


@pytest.fixture
def caller(tmp_path: Path):  # type: ignore[no-untyped-def]
    peer = Caller(
        tmp_path,
        [
            "<sip:1002@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA",
            "<sip:1003@127.0.0.1>;regint=0;answermode=manual;audio_codecs=PCMU,PCMA",
        ],
    )
    yield peer
    peer.stop()


def popup_up(agent: Agent) -> dict[str, object]:
    agent.wait_for(lambda: agent.windows(cls="CallPopup"), "the pop-up of the SIP call", timeout=15)
    return agent.windows(cls="CallPopup")[-1]


def test_a_real_caller_rings_the_softphone(agents, caller: Caller) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    agent = agents(softphone_settings(port))
    agent.start()
    assert agent.status()  # the phone says what it is (ready, or why not)

    # --- baresip calls; answered by a click on the pop-up; the agent hangs up with the hotkey
    caller.cmd("uafind", "sip:1003@127.0.0.1")
    caller.cmd("dial", f"sip:callsys@127.0.0.1:{port}")
    popup = popup_up(agent)
    seen = caller.seen
    agent.click_rect(popup["widgets"]["answerButton"]["rect"])  # type: ignore[index]
    caller.event("CALL_ESTABLISHED", since=seen)
    agent.wait_for(lambda: agent.widget("hangupButton"), "the call in the call panel")
    seen = caller.seen
    agent.point_at_window()
    agent.keys("ctrl+shift+e")
    caller.event("CALL_CLOSED", since=seen)

    # --- again; answered with the hotkey; this time the caller hangs up
    seen = caller.seen
    caller.cmd("dial", f"sip:callsys@127.0.0.1:{port}")
    popup_up(agent)
    agent.point_at_window()
    agent.keys("ctrl+shift+a")
    caller.event("CALL_ESTABLISHED", since=seen)
    agent.wait_gone("callPopup")
    seen = caller.seen
    caller.cmd("hangup")
    caller.event("CALL_CLOSED", since=seen)
    agent.wait_for(lambda: not agent.widget("hangupButton"), "the call to end in the window")

    calls = agent.wait_for(
        lambda: c if len(c := agent.call_log()) == 2 and all(x["state"] == "ended" for x in c) else None,
        "two ended calls in 'callsys log'",
    )
    assert [c["direction"] for c in calls] == ["incoming", "incoming"]
    assert all(c["answered_at"] for c in calls)
    assert len(agent.log_rows()) == 2
    agent.quit()


def test_a_sip_address_typed_in_the_number_field_dials(agents, caller: Caller) -> None:  # type: ignore[no-untyped-def]
    """Defect 4: on the default phone (direct mode) ``1002@127.0.0.1:PORT`` typed in the number
    field and Enter calls that phone; it was refused as "not a number that can be dialled"."""
    agent = agents(softphone_settings(free_port()))
    agent.start()
    seen = caller.seen
    agent.point_at_window()
    agent.keys("ctrl+l")
    agent.type(f"1002@{caller.address}")
    agent.keys("Return")
    said: list[str] = []

    def calling() -> object:
        message = agent.look().get("status_message")
        if message:
            said.append(message)
        return agent.widget("hangupButton")

    try:
        agent.wait_for(calling, "the call in the call panel")
    except JourneyError as exc:
        raise JourneyError(f"{exc}; the window said: {said[-1:]}") from None
    caller.event("CALL_ESTABLISHED", since=seen, timeout=10)  # 1002 answers by itself
    agent.keys("ctrl+shift+e")
    calls = agent.wait_for(agent.call_log, "the call in 'callsys log'")
    assert calls[0]["direction"] == "outgoing"
    agent.quit()
