"""One request must not kill the phone. Each of these used to abort ``callsys phone`` with
``pjsip_rx_data_free_cloned: Assertion 'rdata' failed`` (SIGABRT): the phone gave a final
non-2xx answer *inside* pjsua2's ``onIncomingCall`` to an INVITE without an SDP offer, pjsua
freed the INVITE's copy when the call ended, and pjsua2 freed it again after the callback.
Now every final answer given there is sent by the engine's next poll.

The phone runs as a subprocess (``python -m providers.sip.phone_cli``): an abort kills only it.
The requests are written by hand (``rawsip``), as an attacker or a delayed-offer PBX sends them.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from providers.sip.guard import RETRY_AFTER

from .peers import ROOT, Phone, free_port
from .rawsip import Dialog, SipClient, a_raw_call_is_answered, answered_call, token

pytestmark = [pytest.mark.peers, pytest.mark.asyncio]


async def assert_alive(phone: Phone, what: str) -> None:
    await asyncio.sleep(0.3)  # an abort right after the response would show by now
    assert phone.alive(), f"the phone died after {what}: {await phone.stderr()}"


async def test_an_empty_body_with_a_content_length_is_answered_400(tmp_path: Path) -> None:
    """One unauthenticated UDP datagram: an INVITE that says ``Content-Type: application/sdp``
    and ``Content-Length: 202`` but carries no body (RFC 3261 §18.3: 400)."""
    phone = await Phone.start(tmp_path)
    client = await SipClient(phone.port).open()
    try:
        dialog = Dialog(client)
        await client.send(dialog.request("INVITE", body="", content_length=202))
        final = await client.final(dialog)
        assert final.status == 400, final.first
        await client.send(dialog.ack(final))
        await assert_alive(phone, "the 400")
        assert not [line for line in phone.lines if line.get("event") == "incoming"]  # never rang
        await a_raw_call_is_answered(phone)
        assert phone.alive()
    finally:
        await client.close()
        await phone.stop()


async def test_a_delayed_offer_invite_during_dnd_is_answered_486(tmp_path: Path) -> None:
    """A valid INVITE without SDP (delayed offer: the PBX wants our offer in the 200) while
    do-not-disturb is on. No attacker needed: a PBX or trunk that uses delayed offer is enough."""
    phone = await Phone.start(tmp_path, dnd=True)
    client = await SipClient(phone.port).open()
    try:
        dialog = Dialog(client, user="1003")
        mark = len(phone.lines)
        await client.send(dialog.invite(sdp=False))
        final = await client.final(dialog)
        assert final.status == 486, final.first
        await client.send(dialog.ack(final))
        await assert_alive(phone, "the 486")
        # the agent still sees who tried
        ring = await phone.expect(since=mark, event="incoming", remote_name="Raw 1003")
        ended = await phone.expect(since=mark, event="ended", call=ring["call"])
        assert ended["reason"] == "busy"
        await phone.send("dnd off")
        await phone.expect(since=mark, event="status", dnd=False)
        await a_raw_call_is_answered(phone)
        assert phone.alive()
    finally:
        await client.close()
        await phone.stop()


async def test_delayed_offer_invites_beyond_the_flood_guard_are_answered_503(tmp_path: Path) -> None:
    """INVITEs without SDP, each cancelled at once, faster than closed media sockets are
    recycled: past the flood guard's budget (28 calls within 0.6 s) they get 503. The first
    503 used to abort the phone. (All from one address: without ``ringing_per_source`` 0 most
    would get 486 from that limit first.) On the wheel: its 64 socket slots are what the guard
    budgets for; the built engine's thousands are not used up at this rate."""
    phone = await Phone.start(tmp_path, engine="wheel", ringing_per_source=0)
    client = await SipClient(phone.port).open()
    try:
        # A phone slowed down by a busy machine may read an INVITE and its CANCEL in one poll
        # and answer 487 (the right answer) before the guard's 503: flood again, up to 3 times.
        for _ in range(3):
            dialogs = [Dialog(client, user="1004") for _ in range(100)]
            loop = asyncio.get_running_loop()
            start = loop.time()
            for number, dialog in enumerate(dialogs, start=1):
                await client.send(dialog.invite(sdp=False))
                await client.send(dialog.request("CANCEL"))
                # ~300 calls/s (not more than the socket buffers hold), kept by the clock: on a busy
                # machine a sleep lasts longer than asked, and a sender that only slept would fall
                # to a rate the guard never has to refuse; one that is late sends at once.
                await asyncio.sleep(max(0.0, start + number / 300 - loop.time()))
            finals = []
            for dialog in dialogs:
                try:
                    finals.append(await client.final(dialog, timeout=15))
                except AssertionError:
                    await assert_alive(phone, "the flood")
                    # A datagram of the flood lost in a full socket buffer of a busy machine: send
                    # the INVITE and its CANCEL again, as a UDP client retransmits (RFC 3261 §17.1.1.2).
                    await client.send(dialog.invite(sdp=False))
                    await client.send(dialog.request("CANCEL"))
                    finals.append(await client.final(dialog, timeout=15))
            for dialog, final in zip(dialogs, finals, strict=True):
                await client.send(dialog.ack(final))
            codes = [final.status for final in finals]
            await assert_alive(phone, f"the flood (answers {codes})")
            if 503 in codes:
                break
            await asyncio.sleep(RETRY_AFTER)
        assert 503 in codes, codes
        assert set(codes) <= {487, 486, 503}, codes  # cancelled, over 4 calls, refused
        refused = next(final for final in finals if final.status == 503)
        assert refused.header("Retry-After") == str(RETRY_AFTER)
        await asyncio.sleep(RETRY_AFTER)
        await a_raw_call_is_answered(phone)
        assert phone.alive()
    finally:
        await client.close()
        await phone.stop()


@pytest.mark.parametrize("method", ["REFER", "INFO"])
async def test_a_request_in_an_ended_call_whose_slot_was_taken_again(tmp_path: Path, method: str) -> None:
    """Found by the fuzzer. A call ends by BYE, but its dialog lives on in pjsip while the BYE's
    transaction lingers (32 s over UDP), still pointing at the pjsua call slot; a new INVITE
    takes that slot (4 slots, given out round-robin), and a REFER in the old dialog was then
    handled as the new call's: pjsua answered it with the new call's dialog and pjsip aborted
    (``pjsip_dlg_respond: Assertion ... == dlg' failed``). An INFO with a DTMF digit went to the
    new call. Now such a request is answered 481 (no such call) and goes nowhere. On the wheel,
    whose 4 slots a fifth call reuses at once (the built engine's 32 are not, and pjsip answers
    the old dialog's request 500 itself)."""
    phone = await Phone.start(tmp_path, engine="wheel", ringing_per_source=0)  # 4 from one address
    client = await SipClient(phone.port).open()
    try:
        first, first_call = await answered_call(phone, client, "6001")  # slot 0
        ringing = [Dialog(client, user=f"600{n}") for n in (2, 3, 4)]  # slots 1, 2, 3
        for dialog in ringing:
            mark = len(phone.lines)
            await client.send(dialog.invite())
            await phone.expect(since=mark, event="incoming", remote_name=f"Raw {dialog.user}")
        await client.send(first.bye())
        assert (await client.final(first, "BYE")).status == 200
        await phone.expect(event="ended", call=first_call)
        newcomer = Dialog(client, user="6005")
        mark = len(phone.lines)
        await client.send(newcomer.invite())  # slot 0 again
        ring = await phone.expect(since=mark, event="incoming", remote_name="Raw 6005")

        first.cseq += 1
        extra, kind, body = (
            ("Refer-To: <sip:9999@127.0.0.1>", "", "") if method == "REFER" else ("", "application/dtmf", "5")
        )
        await client.send(
            first.request(
                method, body=body, content_type=kind, extra=extra, branch="z9hG4bK" + token(), in_dialog=True
            )
        )
        try:
            final = await client.final(first, method)
        finally:
            await assert_alive(phone, f"the {method} in the ended call")
        assert final.status == 481, final.first
        assert not [line for line in phone.lines[mark:] if line.get("event") == "dtmf"]
        # the new call is untouched: it still rings and can be answered
        await phone.send(f"answer {ring['call']}")
        ok = await client.final(newcomer)
        assert ok.status == 200, ok.first
        await client.send(newcomer.ack(ok))
        await phone.expect(since=mark, event="answered", call=ring["call"])
        assert phone.alive()
    finally:
        await client.close()
        await phone.stop()


async def test_an_ack_without_branch_or_to_tag_for_a_ringing_call(tmp_path: Path) -> None:
    """Found by the fuzzer: two datagrams — an INVITE that rings, then an ACK with its Call-ID,
    From tag and CSeq number but no Via branch and no To tag. pjsua takes the ACK for a
    "merged request" of the INVITE and answers it 482, which pjsip refuses to build for an ACK:
    ``pjsip_endpt_create_response: Assertion ... != PJSIP_ACK_METHOD' failed`` (newer pjsip
    leaves ACKs alone there; the wheel's 2.15 does not). Such an ACK is now dropped."""
    phone = await Phone.start(tmp_path)
    client = await SipClient(phone.port).open()
    try:
        dialog = Dialog(client, user="1005")
        mark = len(phone.lines)
        await client.send(dialog.invite())
        ring = await phone.expect(since=mark, event="incoming", remote_name="Raw 1005")
        ack = dialog.request("ACK", cseq=1).replace(f";branch={dialog.branch}".encode(), b"")
        assert b"branch" not in ack and b"tag=" in ack.split(b"\r\nTo:")[0]
        await client.send(ack)
        await assert_alive(phone, "the ACK")
        await phone.send(f"reject {ring['call']}")
        final = await client.final(dialog)
        assert final.status == 486
        await client.send(dialog.ack(final))
        await a_raw_call_is_answered(phone)
        assert phone.alive()
    finally:
        await client.close()
        await phone.stop()


@pytest.mark.parametrize(
    ("action", "code"), [("redirect", 302), ("hangup", 480), ("busy", 486), ("answer", 200)]
)
async def test_any_final_answer_inside_on_incoming_is_safe(action: str, code: int) -> None:
    """The engine, not each rule, keeps final answers out of ``onIncomingCall``: a listener that
    redirects (302 to voicemail), hangs up, refuses or answers 200 inside ``on_incoming`` a
    delayed-offer INVITE gets that answer on the wire and the process lives on."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.sip.engine_probe", action, str(port), cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdin is not None and proc.stderr is not None
    client = await SipClient(port).open()
    try:
        assert await asyncio.wait_for(proc.stdout.readline(), 15) == b"ready\n"
        dialog = Dialog(client, user="1006")
        await client.send(dialog.invite(sdp=False))
        final = await client.final(dialog)
        await client.send(dialog.ack(final))
        await asyncio.sleep(0.3)
        assert proc.returncode is None, (await proc.stderr.read()).decode(errors="replace")[-500:]
        assert final.status == code, final.first
        if action == "redirect":
            assert final.all("Contact") == ["<sip:vm@127.0.0.1>"]
        if action == "answer":
            assert b"m=audio" in final.body  # our offer, in the 200 to a delayed offer
            await client.send(dialog.bye())
            assert (await client.final(dialog, "BYE")).status == 200
    finally:
        await client.close()
        if proc.returncode is None:
            proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
