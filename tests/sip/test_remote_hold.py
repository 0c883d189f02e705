"""Hold by the far end (issue #3): the call stays connected and says so — rules with the
contract-following fake engine (the real re-INVITEs are in test_remote_hold_peers.py)."""

from __future__ import annotations

import pytest

from callsys.model import CallEvent, CallState

from .fake_engine import Rig

pytestmark = pytest.mark.asyncio


async def test_far_end_hold_and_resume_reach_the_call_manager() -> None:
    rig = await Rig().start()
    seen: list[tuple[CallEvent, CallState, bool]] = []
    rig.manager.subscribe(lambda ev, call: seen.append((ev, call.state, call.remote_hold)))
    key = rig.ring()
    await rig.provider.answer(key)
    rig.connect(key)
    rig.provider.on_media(key, False, False)
    rig.provider.on_media(key, False, True)  # re-INVITE a=sendonly: pjsua says REMOTE_HOLD
    rig.provider.on_media(key, False, True)  # the same again (a session refresh): no news
    assert seen[-1] == (CallEvent.UPDATED, CallState.ACTIVE, True)
    # our own hold is independent of theirs, and so is taking it off
    rig.provider.on_media(key, True, False)
    assert rig.state(key) is CallState.HELD
    rig.provider.on_media(key, False, True)
    assert rig.state(key) is CallState.ACTIVE and rig.manager.get(key).remote_hold  # type: ignore[union-attr]
    rig.provider.on_media(key, False, False)
    assert seen[-1] == (CallEvent.UPDATED, CallState.ACTIVE, False)
    assert [s for s in seen if s[0] is CallEvent.UPDATED] == [
        (CallEvent.UPDATED, CallState.ACTIVE, True),
        (CallEvent.UPDATED, CallState.HELD, False),
        (CallEvent.UPDATED, CallState.ACTIVE, True),
        (CallEvent.UPDATED, CallState.ACTIVE, False),
    ]
    # the commands are still ours to give: resume is a no-op for their hold
    await rig.provider.resume(key)
    assert ("resume", key) not in rig.engine.commands
