"""Attended transfer and the three-way conference of the softphone, against two real baresip
phones: the agent talks to A, holds A and consults B, then either hands A over to B (REFER with
Replaces) or joins all three in pjmedia's conference bridge. What A and B hear is checked in
their own recordings, and the call log keeps the transfer."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio

from callsys.calllog import CallLog
from callsys.errors import ProviderError
from callsys.model import CallEvent, CallState, EndReason
from callsys.store import open_database

from .peers import HOST, Baresip, Phone, has_tone, read_wav

pytestmark = [pytest.mark.peers, pytest.mark.asyncio]

A_HZ, B_HZ, AGENT_HZ = 1000, 700, 440


@pytest_asyncio.fixture
async def parties(tmp_path: Path) -> AsyncIterator[tuple[Baresip, Baresip]]:
    """Two baresip phones (1002, answering by themselves): A plays 1000 Hz, B 700 Hz."""
    started: list[Baresip] = []
    for name, hz in (("a", A_HZ), ("b", B_HZ)):
        peer = Baresip(
            tmp_path / name, ["<sip:1002@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU"], hz
        )
        await peer.start()
        started.append(peer)
    yield started[0], started[1]
    for peer in started:
        await peer.stop()


def in_mix(samples: np.ndarray, rate: int, hz: float) -> bool:  # type: ignore[type-arg]
    """*hz* is one of the strong tones of *samples* (a mix of two parties): its peak is at least
    a quarter of the strongest one, and the signal is not near-silence."""
    x = samples.astype(np.float64)
    if len(x) < 256 or float(np.sqrt(np.mean(x**2))) < 200:
        return False
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    spectrum[:3] = 0
    bins = np.fft.rfftfreq(len(x), 1 / rate)
    near = spectrum[(bins > hz - 20) & (bins < hz + 20)]
    return bool(len(near)) and float(near.max()) >= 0.25 * float(spectrum.max())


def heard(peer: Baresip, hz: float, since: float, mixed: bool = False) -> bool:
    """*peer* recorded *hz* (the dominant tone, or one of a *mixed* pair) for a second in a call
    recorded after *since* (mtime), once it has closed."""
    for path in peer.recordings("dec"):
        if path.stat().st_mtime < since:
            continue
        samples, rate = read_wav(path)
        window = rate  # one second at a time: the tone need not fill the whole call
        for start in range(rate // 2, max(len(samples) - window, rate // 2) + 1, window):
            chunk = samples[start : start + window]
            if in_mix(chunk, rate, hz) if mixed else has_tone(chunk, rate, hz):
                return True
    return False


async def next_second(phone) -> None:  # type: ignore[no-untyped-def]
    """Wait for the clock's next whole second: baresip names its recordings by the second, and a
    re-INVITE (hold, resume) within the same second as the last one overwrites the recording."""
    now = int(time.time())
    await phone.until(lambda: int(time.time()) > now, 3, "the next second")


async def consulted(phone, a: Baresip, b: Baresip) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The agent talks to A, then holds A and consults B: (A's call, B's call), both up."""
    first = await phone.provider.dial(f"1002@{a.address}")
    await phone.event(CallEvent.ANSWERED, first)
    await phone.hears(first, A_HZ)
    await next_second(phone)
    second = await phone.provider.consult(first, f"1002@{b.address}")
    await phone.event(CallEvent.ANSWERED, second)
    await phone.until(lambda: phone.manager.get(first).state is CallState.HELD, what="A on hold")
    call = phone.manager.get(second)
    assert call is not None and call.consult_of == first
    assert phone.manager.consultation_of(first) == call
    await phone.hears(second, B_HZ)  # the agent talks to B …
    return first, second


async def test_consult_then_transfer_connects_a_and_b(start_phone, parties, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b = parties
    phone = await start_phone()
    db = open_database(tmp_path / "calls.sqlite3")
    calllog = CallLog(db)
    phone.manager.subscribe(calllog)
    try:
        first, second = await consulted(phone, a, b)
        mark_a = len(a.events)
        await phone.provider.transfer_to_call(first, second)
        ended = await phone.event(CallEvent.ENDED, first, timeout=20)
        assert ended.reason is EndReason.COMPLETED and ended.transferred_to == f"sip:1002@{b.address}"
        assert (await phone.event(CallEvent.ENDED, second, timeout=20)).reason is EndReason.COMPLETED
        assert phone.provider.engine.call_count() == 0
        # A called B by itself (the REFER's target), and they talk without the agent
        await a.wait_event("CALL_ESTABLISHED", since=mark_a, timeout=20)
        log = (tmp_path / "pjsip.log").read_text(errors="replace")
        refer = log[log.index("REFER sip:") :]
        assert "Replaces=" in refer.split("\n\n", 1)[0].replace("%3D", "="), "no Replaces in the REFER"
        started = max(p.stat().st_mtime for p in a.recordings("dec"))
        await phone.until(
            lambda: any(
                p.stat().st_size >= 48000 for p in a.recordings("dec") if p.stat().st_mtime >= started
            ),
            20,
            "A's recording of the call with B",
        )
        mark_b = len(b.events)
        await a.cmd("hangup")
        await b.wait_event("CALL_CLOSED", since=mark_b, timeout=20)
        await a.wait_event("CALL_CLOSED", since=mark_a, timeout=20)
        assert heard(a, B_HZ, started), "A did not hear B after the transfer"
        assert heard(b, A_HZ, started), "B did not hear A after the transfer"
        row = calllog.get(first)
        assert row is not None and row.transferred_to == f"sip:1002@{b.address}"
        assert row.result is EndReason.COMPLETED
    finally:
        db.close()


async def test_a_refused_transfer_is_an_error_and_leaves_both_calls(
    start_phone, parties, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A far end that declines REFER (here: another callsys phone, which answers 603): the agent
    is told, and both calls are as they were — A on hold, B talking."""
    _, b = parties
    (tmp_path / "a-phone").mkdir()
    a = await Phone.start(tmp_path / "a-phone", auto_answer=True, auto_answer_delay=0)
    phone = await start_phone()
    try:
        first = await phone.provider.dial(f"sip:callsys@{HOST}:{a.port}")
        await phone.event(CallEvent.ANSWERED, first)
        second = await phone.provider.consult(first, f"1002@{b.address}")
        await phone.event(CallEvent.ANSWERED, second)
        with pytest.raises(ProviderError, match=r"did not take the transfer \(603\)"):
            await phone.provider.transfer_to_call(first, second)
        assert phone.manager.get(first).state is CallState.HELD
        assert phone.manager.get(second).state is CallState.ACTIVE
        assert not phone.of(CallEvent.ENDED)
        await phone.hears(second, B_HZ)
    finally:
        await a.stop()


async def test_consult_then_conference_joins_a_b_and_the_agent(start_phone, parties) -> None:  # type: ignore[no-untyped-def]
    a, b = parties
    phone = await start_phone()
    first, second = await consulted(phone, a, b)
    since = time.time() - 1
    await next_second(phone)
    await phone.provider.conference(first, second)
    await phone.until(
        lambda: [c.id for c in phone.manager.conference_calls()] == [first, second], what="the conference"
    )
    await phone.until(lambda: phone.manager.get(first).state is CallState.ACTIVE, what="A off hold")
    await phone.hears(first, A_HZ)  # the agent hears both
    await phone.hears(second, B_HZ)
    mark_a, mark_b = len(a.events), len(b.events)
    size = max(p.stat().st_size for p in b.recordings("dec"))
    await phone.until(
        lambda: max(p.stat().st_size for p in b.recordings("dec")) >= size + 48000, 20, "B's recording"
    )
    # The agent hangs up on B: A stays with the agent, no longer in a conference.
    await phone.provider.hangup(second)
    await phone.event(CallEvent.ENDED, second)
    await b.wait_event("CALL_CLOSED", since=mark_b)
    await phone.until(lambda: not phone.manager.get(first).conference, what="the conference's end")
    assert phone.manager.get(first).state is CallState.ACTIVE
    await phone.hears(first, A_HZ)
    await phone.provider.hangup(first)
    await a.wait_event("CALL_CLOSED", since=mark_a)
    # (baresip 1.0 stops recording a call that was held and resumed: what A heard is checked in
    # the next test, where nobody was on hold)
    assert heard(b, A_HZ, since, mixed=True), "B did not hear A in the conference"
    assert heard(b, AGENT_HZ, since, mixed=True), "B did not hear the agent in the conference"


async def test_conference_both_ways(start_phone, parties) -> None:  # type: ignore[no-untyped-def]
    """Two calls the agent made one after the other, joined: A hears B and B hears A."""
    a, b = parties
    phone = await start_phone()
    since = time.time() - 1
    first = await phone.provider.dial(f"1002@{a.address}")
    second = await phone.provider.dial(f"1002@{b.address}")
    for call_id in (first, second):
        await phone.event(CallEvent.ANSWERED, call_id)
    await phone.provider.conference(first, second)
    sizes = {peer: max(p.stat().st_size for p in peer.recordings("dec")) for peer in (a, b)}
    await phone.until(
        lambda: all(
            max(p.stat().st_size for p in peer.recordings("dec")) >= sizes[peer] + 48000 for peer in (a, b)
        ),
        20,
        "both recordings",
    )
    mark_a, mark_b = len(a.events), len(b.events)
    for call_id in (first, second):
        await phone.provider.hangup(call_id)
    await a.wait_event("CALL_CLOSED", since=mark_a)
    await b.wait_event("CALL_CLOSED", since=mark_b)
    assert heard(a, B_HZ, since, mixed=True), "A did not hear B in the conference"
    assert heard(b, A_HZ, since, mixed=True), "B did not hear A in the conference"


async def test_the_headless_phone_consults_and_transfers(parties, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``callsys phone``: ``consult NUMBER`` then ``attended``; the events say who consulted for
    whom and who the party was transferred to."""
    a, b = parties
    (tmp_path / "cli").mkdir()
    phone = await Phone.start(tmp_path / "cli")
    try:
        await phone.send(f"dial 1002@{a.address}")
        first = (await phone.expect(event="ok", command="dial"))["call"]
        await phone.expect(event="answered", call=first)
        mark = len(phone.lines)
        await phone.send(f"consult 1002@{b.address}")
        ok = await phone.expect(since=mark, event="ok", command="consult")
        second = ok["call"]
        assert ok["consult_of"] == first
        outgoing = await phone.expect(since=mark, event="outgoing", call=second)
        assert outgoing["consult_of"] == first
        await phone.expect(since=mark, event="held", call=first)
        await phone.expect(since=mark, event="answered", call=second)
        mark_a = len(a.events)
        await phone.send("attended")
        ended = await phone.expect(event="ended", call=first, timeout=20)
        assert ended["transferred_to"] == f"sip:1002@{b.address}"
        await phone.expect(event="ended", call=second, timeout=20)
        await a.wait_event("CALL_ESTABLISHED", since=mark_a, timeout=20)  # A called B
    finally:
        await phone.stop()
