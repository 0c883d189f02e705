"""The softphone against baresip (the far end) in direct mode: calls, audio, hold, DTMF, CANCEL."""

from __future__ import annotations

import asyncio

import pytest

from callsys.errors import ProviderError
from callsys.model import CallEvent, CallState, Direction, EndReason

from .peers import (
    HOST,
    Baresip,
    _udp_taken,
    assert_baresip_heard,
    baresip_heard,
    free_port,
    has_tone,
    read_wav,
    run_sipp,
)

pytestmark = [pytest.mark.peers, pytest.mark.asyncio]


async def test_incoming_call_answered_with_audio_both_ways(start_phone, baresip: Baresip) -> None:
    phone = await start_phone()
    await baresip.cmd("uafind", "sip:1002@127.0.0.1")
    await baresip.cmd("dial", phone.uri.replace("callsys", "2000"))
    ring = await phone.event(CallEvent.INCOMING)
    assert ring.direction is Direction.INCOMING
    assert ring.remote is not None and ring.remote.digits == "1002"
    assert ring.dnis == "2000"  # the dialled number comes from To / Request-URI (IN12)
    call = phone.manager.get(ring.call_id)
    assert call is not None and call.state is CallState.RINGING

    await phone.provider.answer(ring.call_id)
    await phone.event(CallEvent.ANSWERED, ring.call_id)
    assert phone.manager.get(ring.call_id).state is CallState.ACTIVE  # type: ignore[union-attr]
    await baresip.wait_event("CALL_ESTABLISHED")
    await phone.hears(ring.call_id, 1000)  # baresip's tone reaches us
    await baresip_heard(phone, baresip)

    await phone.provider.hangup(ring.call_id)
    ended = await phone.event(CallEvent.ENDED, ring.call_id)
    assert ended.reason is EndReason.COMPLETED
    await baresip.wait_event("CALL_CLOSED")
    assert_baresip_heard(baresip, 440)


async def test_outgoing_call_with_audio_both_ways_and_remote_hangup(start_phone, baresip: Baresip) -> None:
    phone = await start_phone()
    call_id = await phone.provider.dial(f"1002@{baresip.address}")
    out = await phone.event(CallEvent.OUTGOING, call_id)
    assert out.direction is Direction.OUTGOING and out.remote is not None and out.remote.digits == "1002"
    await phone.event(CallEvent.ANSWERED, call_id)  # baresip's 1002 answers by itself
    await phone.hears(call_id, 1000)
    await baresip_heard(phone, baresip)
    await baresip.cmd("hangup")
    ended = await phone.event(CallEvent.ENDED, call_id)
    assert ended.reason is EndReason.COMPLETED
    await baresip.wait_event("CALL_CLOSED")
    assert_baresip_heard(baresip, 440)


async def test_hold_and_resume_stop_and_restart_the_audio(start_phone, baresip: Baresip) -> None:
    phone = await start_phone()
    call_id = await phone.provider.dial(f"1002@{baresip.address}")
    await phone.event(CallEvent.ANSWERED, call_id)
    await phone.hears(call_id, 1000)

    await phone.provider.hold(call_id)
    await phone.event(CallEvent.HELD, call_id)
    assert phone.manager.get(call_id).state is CallState.HELD  # type: ignore[union-attr]
    await phone.silent(call_id)

    await phone.provider.resume(call_id)
    await phone.event(CallEvent.RESUMED, call_id)
    assert phone.manager.get(call_id).state is CallState.ACTIVE  # type: ignore[union-attr]
    await phone.hears(call_id, 1000)
    await phone.provider.hangup(call_id)
    await phone.event(CallEvent.ENDED, call_id)


async def test_dtmf_both_ways(start_phone, baresip: Baresip) -> None:
    phone = await start_phone()
    call_id = await phone.provider.dial(f"1002@{baresip.address}")
    await phone.event(CallEvent.ANSWERED, call_id)
    await baresip.wait_event("CALL_ESTABLISHED")

    mark = len(baresip.events)
    await phone.provider.send_dtmf(call_id, "7#")
    first = await baresip.wait_event("CALL_DTMF_START", since=mark)
    assert first["param"] == "7"
    await baresip.wait_event("CALL_DTMF_START", since=mark, pred=lambda e: e.get("param") == "#")

    await baresip.cmd("sndcode", "5")
    dtmf = await phone.event(CallEvent.DTMF, call_id)
    assert dtmf.digits == "5"
    await phone.provider.hangup(call_id)
    await phone.event(CallEvent.ENDED, call_id)


async def test_cancel_while_the_far_end_rings(start_phone, baresip: Baresip) -> None:
    phone = await start_phone()
    call_id = await phone.provider.dial(f"1004@{baresip.address}")  # 1004 answers only when told
    await phone.event(CallEvent.RINGBACK, call_id)
    assert phone.manager.get(call_id).state is CallState.ALERTING  # type: ignore[union-attr]
    await baresip.wait_event("CALL_INCOMING")
    await phone.provider.hangup(call_id)
    ended = await phone.event(CallEvent.ENDED, call_id)
    assert ended.reason is EndReason.CANCELLED
    await baresip.wait_event("CALL_CLOSED")


async def test_caller_gives_up_while_it_rings(start_phone, baresip: Baresip) -> None:
    phone = await start_phone()
    await baresip.cmd("uafind", "sip:1002@127.0.0.1")
    await baresip.cmd("dial", phone.uri)
    ring = await phone.event(CallEvent.INCOMING)
    await baresip.wait_event("CALL_RINGING")
    await baresip.cmd("hangup")
    ended = await phone.event(CallEvent.ENDED, ring.call_id)
    assert ended.reason is EndReason.CANCELLED
    assert phone.manager.get(ring.call_id).is_missed  # type: ignore[union-attr]


@pytest.mark.parametrize("code", [486, 603])
async def test_reject_answers_the_configured_code(start_phone, baresip: Baresip, code: int) -> None:
    phone = await start_phone(reject_code=code)
    await baresip.cmd("uafind", "sip:1002@127.0.0.1")
    await baresip.cmd("dial", phone.uri)
    ring = await phone.event(CallEvent.INCOMING)
    await phone.provider.reject(ring.call_id)
    ended = await phone.event(CallEvent.ENDED, ring.call_id)
    assert ended.reason is EndReason.REJECTED
    closed = await baresip.wait_event("CALL_CLOSED")
    assert str(code) in closed.get("param", "")


async def test_do_not_disturb_answers_busy(start_phone, baresip: Baresip) -> None:
    phone = await start_phone()
    await phone.provider.set_dnd(True)
    assert phone.statuses[-1].dnd
    await baresip.cmd("uafind", "sip:1002@127.0.0.1")
    await baresip.cmd("dial", phone.uri)
    ring = await phone.event(CallEvent.INCOMING)
    ended = await phone.event(CallEvent.ENDED, ring.call_id)
    assert ended.reason is EndReason.BUSY
    closed = await baresip.wait_event("CALL_CLOSED")
    assert "486" in closed.get("param", "")


async def test_auto_answer(start_phone, baresip: Baresip) -> None:
    phone = await start_phone(auto_answer=True)
    await baresip.cmd("uafind", "sip:1002@127.0.0.1")
    await baresip.cmd("dial", phone.uri)
    ring = await phone.event(CallEvent.INCOMING)
    await phone.event(CallEvent.ANSWERED, ring.call_id)
    await phone.hears(ring.call_id, 1000)


async def test_waiting_call_answer_holds_the_first(start_phone, baresip: Baresip) -> None:
    phone = await start_phone()
    await baresip.cmd("uafind", "sip:1002@127.0.0.1")
    await baresip.cmd("dial", phone.uri)
    first = await phone.event(CallEvent.INCOMING)
    await phone.provider.answer(first.call_id)
    await phone.event(CallEvent.ANSWERED, first.call_id)
    await phone.hears(first.call_id, 1000)

    mark = len(phone.events)
    await baresip.cmd("dial", phone.uri)
    second = await phone.event(CallEvent.INCOMING, since=mark)
    assert second.call_id != first.call_id
    assert phone.manager.get(second.call_id).waiting  # type: ignore[union-attr]  # IN5

    await phone.provider.answer(second.call_id)
    await phone.event(CallEvent.HELD, first.call_id)
    await phone.event(CallEvent.ANSWERED, second.call_id)
    await phone.hears(second.call_id, 1000)
    assert [c.state for c in phone.manager.live_calls()] == [CallState.HELD, CallState.ACTIVE]

    await phone.provider.hangup(second.call_id)
    await phone.event(CallEvent.ENDED, second.call_id)
    await phone.provider.resume(first.call_id)
    await phone.event(CallEvent.RESUMED, first.call_id)
    await phone.hears(first.call_id, 1000)


async def test_four_calls_at_once_and_the_fifth_only_within_the_engines_limit(
    start_phone, baresip: Baresip
) -> None:
    """The wheel holds 4 calls: pjsua answers a 5th 486 itself. The built engine rings it."""
    phone = await start_phone()
    limit = phone.provider.max_calls
    assert (
        limit
        == phone.provider.engine.build.max_calls
        == (4 if phone.provider.engine.build.kind == "wheel" else 32)
    )
    await baresip.cmd("uafind", "sip:1002@127.0.0.1")
    ids: list[str] = []
    for _ in range(4):
        mark = len(phone.events)
        await baresip.cmd("dial", phone.uri)
        ring = await phone.event(CallEvent.INCOMING, since=mark)
        await phone.provider.answer(ring.call_id)
        await phone.event(CallEvent.ANSWERED, ring.call_id)
        ids.append(ring.call_id)
    await phone.until(lambda: len(phone.of(CallEvent.HELD)) == 3, 10, "three calls on hold")
    assert len(phone.manager.live_calls()) == 4

    mark, closed_before = len(phone.events), len([e for e in baresip.events if e["type"] == "CALL_CLOSED"])
    await baresip.cmd("dial", phone.uri)
    if limit > 4:
        fifth_ring = await phone.event(CallEvent.INCOMING, since=mark)
        await phone.provider.answer(fifth_ring.call_id)
        await phone.event(CallEvent.ANSWERED, fifth_ring.call_id)
        assert len(phone.manager.live_calls()) == 5
        for call_id in [*ids, fifth_ring.call_id]:
            await phone.provider.hangup(call_id)
            await phone.event(CallEvent.ENDED, call_id, since=mark)
        return
    fifth = await baresip.wait_event("CALL_CLOSED", pred=lambda e: "486" in e.get("param", ""), since=0)
    assert "486" in fifth["param"]
    assert closed_before == 0
    assert not phone.of(CallEvent.INCOMING)[4:], "the fifth call must not ring"
    assert len(phone.manager.live_calls()) == 4
    with pytest.raises(ProviderError):
        await phone.provider.dial(f"1002@{baresip.address}")
    for call_id in ids:
        await phone.provider.hangup(call_id)
        await phone.event(CallEvent.ENDED, call_id, since=mark)


async def test_blind_transfer_hands_the_call_over(start_phone, baresip: Baresip, tmp_path) -> None:
    phone = await start_phone()
    target_port = free_port()
    sipp = asyncio.create_task(
        run_sipp(
            [
                f"127.0.0.1:{target_port}",
                "-sn",
                "uas",
                "-i",
                HOST,
                "-p",
                str(target_port),
                "-m",
                "1",
                "-nostdin",
                "-timeout",
                "30s",
            ],
            tmp_path,
            timeout=40,
        )
    )
    await phone.until(lambda: _udp_taken(target_port), 10, "sipp listening")
    call_id = await phone.provider.dial(f"1002@{baresip.address}")
    await phone.event(CallEvent.ANSWERED, call_id)
    mark = len(baresip.events)
    await phone.provider.transfer(call_id, f"sip:xfer@{HOST}:{target_port}")
    ended = await phone.event(CallEvent.ENDED, call_id, timeout=15)
    assert ended.reason is EndReason.COMPLETED
    established = await baresip.wait_event(
        "CALL_ESTABLISHED", since=mark, pred=lambda e: str(target_port) in e.get("peeruri", "")
    )
    assert established
    await baresip.cmd("hangup")
    status, out = await sipp
    assert status == 0, out


class FakeMicSpeaker:
    """Replaces providers.sip.sound.SoundDevice: a 1.5 kHz "microphone", a recording "speaker"."""

    def __init__(self, *_args: object) -> None:
        self.speaker: list[bytes] = []
        self.running = False
        self._phase = 0

    def start(self) -> None:
        self.running = True

    def stop(self) -> None:
        self.running = False

    close = stop

    def read_mic(self) -> bytes:
        import numpy as np

        t = (self._phase + np.arange(160)) / 8000
        self._phase += 160
        return (8000 * np.sin(2 * np.pi * 1500 * t)).astype(np.int16).tobytes()

    def write_speaker(self, pcm: bytes) -> None:
        self.speaker.append(pcm)


async def test_sound_card_bridge_carries_microphone_and_speaker(
    start_phone, baresip: Baresip, monkeypatch
) -> None:
    import numpy as np

    from providers.sip import sound

    devices: list[FakeMicSpeaker] = []
    monkeypatch.setattr(sound, "SoundDevice", lambda *a: devices.append(FakeMicSpeaker()) or devices[-1])
    phone = await start_phone(audio={"mode": "device"})
    if phone.provider.engine.build.sound_devices:
        pytest.skip("the built engine opens the sound card in pjmedia: no Python sound bridge")
    call_id = await phone.provider.dial(f"1002@{baresip.address}")
    await phone.event(CallEvent.ANSWERED, call_id)
    (device,) = devices
    await phone.until(lambda: device.running and len(device.speaker) > 50, 10, "speaker frames")
    heard = np.frombuffer(b"".join(device.speaker[-25:]), dtype=np.int16)
    assert has_tone(heard, 8000, 1000)  # baresip's tone came out of the "speaker"
    await baresip_heard(phone, baresip)
    await phone.provider.hangup(call_id)
    await phone.event(CallEvent.ENDED, call_id)
    await baresip.wait_event("CALL_CLOSED")
    assert_baresip_heard(baresip, 1500)  # our "microphone" reached baresip
    await phone.until(lambda: not device.running, 5, "device closed after the call")


async def test_mute_silences_what_the_far_end_hears(start_phone, baresip: Baresip) -> None:
    import numpy as np

    phone = await start_phone()
    call_id = await phone.provider.dial(f"1002@{baresip.address}")
    await phone.event(CallEvent.ANSWERED, call_id)
    await baresip_heard(phone, baresip)  # >= 1.5 s of our tone recorded by baresip
    (recording,) = baresip.recordings("dec")
    await phone.provider.set_mute(call_id, True)
    muted_from = recording.stat().st_size
    await baresip_heard(phone, baresip, size=muted_from + 32000)  # 2 s more while muted
    await phone.provider.hangup(call_id)
    await baresip.wait_event("CALL_CLOSED")
    samples, rate = read_wav(recording)
    assert has_tone(samples[rate // 2 : rate], rate, 440)  # before mute
    tail = samples[-rate:]  # the last second: muted
    assert float(np.sqrt(np.mean(tail.astype(np.float64) ** 2))) < 100, "baresip still hears us"


async def test_device_mode_on_the_built_engine_uses_pjmedias_sound_device(
    start_phone, baresip: Baresip, caplog
) -> None:
    """The built engine: no Python bridge, pjmedia opens the sound card while a call has audio.
    On a machine without one (CI) the call still connects and carries audio (the conference
    bridge falls back to the null device), and why is logged."""
    phone = await start_phone(audio={"mode": "device"})
    if not phone.provider.engine.build.sound_devices:
        pytest.skip("the wheel has no sound devices: the Python bridge test covers it")
    call_id = await phone.provider.dial(f"1002@{baresip.address}")
    await phone.event(CallEvent.ANSWERED, call_id)
    bridge = phone.provider.engine._sound
    assert bridge is not None and type(bridge).__name__ == "_DeviceBridge"
    await phone.hears(call_id, 1000)  # the far end's tone reaches the conference bridge
    if not bridge.open:  # no sound card here: said so in the log
        assert bridge.failed and "sound device could not be opened" in caplog.text
    await phone.provider.hangup(call_id)
    await phone.event(CallEvent.ENDED, call_id)
    assert not bridge.open and not bridge.connected
