"""Floods that used to abort the softphone (issue #3): INVITE+CANCEL at a high rate, over UDP
and TCP, then a normal call. The phone runs as a subprocess (``python -m providers.sip.phone_cli``)
because what failed was an assertion in pjlib that aborts the whole process."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from providers.sip.guard import RETRY_AFTER

from .peers import HOST, Phone, a_normal_call_is_answered, free_port, received, run_sipp

pytestmark = [pytest.mark.peers, pytest.mark.asyncio]

FLOOD_DIR = Path(__file__).resolve().parent / "sipp_flood"
#: transport → (sipp scenario, extra sipp arguments); see the comments in the XML files
SCENARIOS = {
    "u1": (FLOOD_DIR / "invite_cancel.xml", []),
    "t1": (FLOOD_DIR / "invite_cancel_tcp.xml", ["-default_behaviors", "-abortunexp"]),
}


def assert_a_503_answers_its_invite(trace: Path) -> None:
    """RFC 3261 §8.2.6: the 503 copies the INVITE's Via, From, Call-ID and CSeq, adds a To tag,
    and (§21.5.4) says when to retry. (pjsip writes From/To URIs without the port, which §19.1.1
    does not allow there; so the URIs are compared without it.)"""
    messages: list[str] = []
    for chunk in re.split(r"^-{10,}.*$", trace.read_text(errors="replace"), flags=re.M):
        start = re.search(r"^(SIP/2\.0 \d{3} |[A-Z]+ sip:)", chunk, re.M)
        if start is not None:
            messages.append(chunk[start.start() :])

    def headers(msg: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for line in msg.splitlines()[1:]:
            name, sep, value = line.partition(":")
            if sep and name.strip() and not line[:1].isspace():
                found.setdefault(name.strip().lower(), value.strip())
        return found

    def without_port(name_addr: str) -> str:
        return re.sub(r"(@[^>;:]+):\d+", r"\1", name_addr.replace(" ", ""))

    invites = {headers(m)["call-id"]: headers(m) for m in messages if m.startswith("INVITE ")}
    refusals = [headers(m) for m in messages if m.startswith("SIP/2.0 503 ")]
    assert refusals, "no 503 in sipp's trace"
    for got in refusals[:20]:
        sent = invites[got["call-id"]]
        assert got["retry-after"] == str(RETRY_AFTER)
        assert got["cseq"] == sent["cseq"] == "1 INVITE"
        assert without_port(got["from"]) == without_port(sent["from"])
        assert got["via"].split(";branch=")[1] == sent["via"].split(";branch=")[1]
        to, _, tag = got["to"].partition(";tag=")
        assert tag and without_port(to) == without_port(sent["to"])


@pytest.mark.parametrize("transport", ["u1", "t1"], ids=["udp", "tcp"])
async def test_invite_cancel_flood_then_a_normal_call(tmp_path: Path, transport: str) -> None:
    """400 INVITEs, each followed at once by its CANCEL, at 200 calls/s (from one UDP socket, or
    over one TCP connection). Before the flood guard the phone aborted after ~32 calls (pjlib's
    ``Assertion `!pj_list_empty(&ioqueue->free_list)' failed``)."""
    scenario, extra = SCENARIOS[transport]
    phone = await Phone.start(tmp_path)
    try:
        status, out = await run_sipp(
            [
                f"{HOST}:{phone.port}", "-sf", str(scenario), "-t", transport, "-m", "400",
                "-r", "200", "-l", "400", "-i", HOST, "-p", str(free_port()), "-nostdin",
                "-timeout", "90s", "-recv_timeout", "10000", "-trace_msg", *extra,
            ],
            tmp_path,
            timeout=120,
        )  # fmt: skip
        assert phone.alive(), f"the phone died during the flood: {await phone.stderr()}"
        assert status == 0, out  # every INVITE got a final response (and every CANCEL a match)
        refused = received(out, 503)
        rang = sum(1 for line in phone.lines if line.get("event") == "incoming")
        assert rang > 0
        assert refused + rang <= 400
        if phone.engine["ioqueue_handles"] <= 64:
            # The wheel: the flood was big enough to need the guard (not every INVITE rang),
            # and the guard still let calls through. (The built engine's thousands of sockets
            # never need it at this rate.)
            assert rang < 400, out
            if transport == "u1":
                assert refused > 0, out
                assert_a_503_answers_its_invite(next(tmp_path.glob(f"{scenario.stem}_*_messages.log")))
        # Over TCP each INVITE arrives together with its CANCEL: the guard's 503 is sent after
        # pjsua's poll (never inside onIncomingCall, see test_abort_peers.py), by when the CANCEL
        # has ended the INVITE with 487 — the right answer to a cancelled INVITE.
        # A caller refused during the flood was asked to wait RETRY_AFTER seconds; one that
        # does is answered (right after the flood it would be refused too: that is the point).
        await asyncio.sleep(RETRY_AFTER)
        await a_normal_call_is_answered(phone, tmp_path, transport)
        assert phone.alive()
    finally:
        await phone.stop()


async def test_a_message_flood_does_not_use_up_the_call_budget(tmp_path: Path) -> None:
    """Out-of-dialog MESSAGEs reach the same pjsua hook as INVITEs but open no media: a flood of
    them (here 300 at 300/s) must not make the guard refuse the caller right behind it."""
    phone = await Phone.start(tmp_path)
    try:
        status, out = await run_sipp(
            [
                f"{HOST}:{phone.port}", "-sf", str(FLOOD_DIR / "message.xml"), "-t", "u1", "-m", "300",
                "-r", "300", "-i", HOST, "-p", str(free_port()), "-nostdin", "-timeout", "60s",
                "-recv_timeout", "10000",
            ],
            tmp_path,
            timeout=90,
        )  # fmt: skip
        assert phone.alive(), f"the phone died during the flood: {await phone.stderr()}"
        assert status == 0, out  # every MESSAGE was answered
        # At once, without the Retry-After wait: the next caller rings and is answered.
        await a_normal_call_is_answered(phone, tmp_path, "u1")
        assert phone.alive()
    finally:
        await phone.stop()
