"""A seeded mutation fuzzer for the softphone: valid INVITE, ACK, BYE, CANCEL, OPTIONS and
MESSAGE requests, mutated (byte flips, headers deleted or duplicated, Content-Length lies,
truncation, huge values, bad URIs, CRLF games, SDP bodies mangled line by line …), sent over UDP and TCP to ``callsys phone``
running as a subprocess. After each batch the phone must be alive and answer a normal call.

Every third batch runs with do-not-disturb on (every INVITE that rings is refused 486 at once).
The same seed sends the same bytes (``Fuzzer.requests``), so a crash is reproduced by its seed
and batch; the batch that killed the phone is also written to a file. Used by
``test_fuzz_peers.py`` (a short run) and ``benchmarks/sip_fuzz.py`` (a long one).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from providers.sip.guard import RETRY_AFTER

from .peers import HOST, Phone
from .rawsip import SDP, Dialog, Message, SipClient

METHODS = ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "MESSAGE")

BAD_URIS = (
    "sip:",
    "sip:@",
    "sip:callsys@",
    "sip:callsys@[::1",
    "sip:callsys@127.0.0.1:99999999",
    "sip:callsys@127.0.0.1:-1",
    "sip:callsys@127.0.0.1;;;;",
    "sip:callsys@127.0.0.1;transport=",
    "sip:%00%ff@127.0.0.1",
    "sips:callsys@127.0.0.1;maddr=",
    "tel:",
    "tel:+",
    "http://127.0.0.1/",
    "<sip:callsys@127.0.0.1",
    "sip:callsys@127.0.0.1>",
    '"unterminated <sip:x@127.0.0.1>',
    "sip:" + "a" * 1500 + "@127.0.0.1",
    "sip:callsys@" + "b" * 300 + ".invalid",
    "sip:callsys@127.0.0.1?Route=%0d%0aVia:x",
    "*",
    "",
)
HUGE_NUMBERS = ("4294967296", "99999999999999999999", "-1", "0", "2147483648", "1e9", "0x10", " ")


def _headers_of(msg: bytes) -> tuple[list[bytes], bytes]:
    head, sep, body = msg.partition(b"\r\n\r\n")
    return head.split(b"\r\n"), body if sep else b""


def _join(lines: list[bytes], body: bytes) -> bytes:
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def flip_bytes(rng: random.Random, msg: bytes) -> bytes:
    data = bytearray(msg)
    for _ in range(rng.randint(1, 8)):
        if data:
            data[rng.randrange(len(data))] ^= (
                1 << rng.randrange(8) if rng.random() < 0.7 else rng.randrange(256)
            )
    return bytes(data)


def delete_header(rng: random.Random, msg: bytes) -> bytes:
    lines, body = _headers_of(msg)
    if len(lines) > 1:
        del lines[rng.randrange(1, len(lines))]
    return _join(lines, body)


def duplicate_header(rng: random.Random, msg: bytes) -> bytes:
    lines, body = _headers_of(msg)
    if len(lines) > 1:
        line = lines[rng.randrange(1, len(lines))]
        for _ in range(rng.choice((1, 1, 2, 50))):
            lines.insert(rng.randrange(1, len(lines) + 1), line)
    return _join(lines, body)


def lie_about_length(rng: random.Random, msg: bytes) -> bytes:
    lines, body = _headers_of(msg)
    real = len(body)
    value = rng.choice(
        [
            str(real + 1),
            str(max(real - 1, 0)),
            "0",
            str(real * 3 + 202),
            "202",
            "-5",
            "abc",
            "99999999999",
            "",
        ]
    )
    lines = [
        b"Content-Length: " + value.encode() if ln.lower().startswith(b"content-length") else ln
        for ln in lines
    ]
    return _join(lines, body)


def truncate(rng: random.Random, msg: bytes) -> bytes:
    return msg[: rng.randrange(1, len(msg))] if len(msg) > 1 else msg


def huge_value(rng: random.Random, msg: bytes) -> bytes:
    lines, body = _headers_of(msg)
    if len(lines) < 2:
        return msg
    i = rng.randrange(1, len(lines))
    name = lines[i].split(b":", 1)[0]
    if name.lower() in (b"cseq", b"max-forwards", b"expires", b"content-length", b"retry-after"):
        number = rng.choice(HUGE_NUMBERS).encode()
        value = number + (b" " + lines[i].split()[-1] if name.lower() == b"cseq" else b"")
    else:
        value = bytes([rng.choice(b'aZ9;=,<>"@:%')]) * rng.choice((300, 1000, 3900, 5000, 9000))
    lines[i] = name + b": " + value
    return _join(lines, body)


def bad_uri(rng: random.Random, msg: bytes) -> bytes:
    uri = rng.choice(BAD_URIS).encode()
    lines, body = _headers_of(msg)
    target = rng.choice(("request", "from", "to", "contact"))
    if target == "request":
        parts = lines[0].split(b" ")
        if len(parts) == 3:
            lines[0] = b" ".join((parts[0], uri, parts[2]))
    else:
        for i, line in enumerate(lines[1:], 1):
            if line.lower().startswith(target.encode() + b":"):
                tag = re.search(rb";tag=\S+", line)
                lines[i] = line.split(b":", 1)[0] + b": <" + uri + b">" + (tag.group(0) if tag else b"")
    return _join(lines, body)


def crlf_games(rng: random.Random, msg: bytes) -> bytes:
    game = rng.randrange(7)
    if game == 0:
        return msg.replace(b"\r\n", b"\n")
    if game == 1:
        return msg.replace(b"\r\n", b"\r")
    if game == 2:
        return b"\r\n" * rng.randint(1, 40) + msg
    if game == 3:  # an empty line in the middle of the headers
        lines, body = _headers_of(msg)
        lines.insert(rng.randrange(1, max(len(lines), 2)), b"")
        return _join(lines, body)
    if game == 4:  # folded header lines (obsolete, still legal)
        lines, body = _headers_of(msg)
        i = rng.randrange(1, max(len(lines), 2))
        if i < len(lines) and b":" in lines[i]:
            name, value = lines[i].split(b":", 1)
            lines[i] = name + b":\r\n " + value + b"\r\n\t "
        return _join(lines, body)
    if game == 5:  # a bare CR or LF or NUL inside a value
        data = bytearray(msg)
        data.insert(rng.randrange(len(data)), rng.choice(b"\r\n\x00"))
        return bytes(data)
    return msg.rstrip(b"\r\n")  # no end of headers at all


def junk(rng: random.Random, msg: bytes) -> bytes:
    data = bytearray(msg)
    at = rng.randrange(len(data) + 1)
    data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    return bytes(data)


def mangle_start_line(rng: random.Random, msg: bytes) -> bytes:
    lines, body = _headers_of(msg)
    method, _, rest = lines[0].partition(b" ")
    lines[0] = (
        rng.choice(
            (
                method.lower(),
                b"INVITE" * 50,
                b"",
                b"SIP/2.0",
                b"INV\x00ITE",
                b"REGISTER",
                b"PRACK",
                b"UPDATE",
                b"INFO",
            )
        )
        + b" "
        + rng.choice(
            (rest, rest.replace(b"SIP/2.0", b"SIP/3.0"), rest.replace(b" SIP/2.0", b""), rest + b" x")
        )
    )
    return _join(lines, body)


SDP_LINES = (
    "m=audio 4000 RTP/AVP " + " ".join(str(n) for n in range(128)),
    "m=audio 0 RTP/AVP 0",
    "m=audio 65536 RTP/AVP 0",
    "m=audio -1 RTP/AVP 0",
    "m=audio 4000 RTP/SAVP 0",
    "m=audio 4000 UDP/TLS/RTP/SAVPF 0",
    "m=video 4002 RTP/AVP 96",
    "m=application 4004 UDP/BFCP *",
    "m=audio 4000/99999 RTP/AVP 0",
    "m=audio",
    "c=IN IP6 ::1",
    "c=IN IP4 999.1.1.1",
    "c=IN IP4 0.0.0.0",
    "c=IN IP4 224.2.1.1/127/3",
    "c=",
    "a=rtpmap:0 PCMU/0",
    "a=rtpmap:0 PCMU/8000/99",
    "a=rtpmap:101 telephone-event/99999999",
    "a=rtpmap:96 opus/48000/2",
    "a=rtpmap:127",
    "a=fmtp:101 0-16,,,,-,",
    "a=fmtp:96 " + "x" * 2000,
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + "A" * 300,
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:",
    "a=crypto:",
    "a=ice-ufrag:x",
    "a=candidate:1 1 UDP 2130706431 127.0.0.1 99999 typ host",
    "a=candidate:",
    "a=rtcp:abc",
    "a=rtcp:4001 IN IP4",
    "a=ptime:0",
    "a=maxptime:4294967296",
    "a=sendonly",
    "a=inactive",
    "a=ssrc:1 cname:" + "c" * 500,
    "a=group:BUNDLE",
    "a=rtcp-mux",
    "a=setup:actpass",
    "a=fingerprint:sha-256 00",
    "b=AS:0",
    "b=AS:99999999999",
    "t=99999999999999999999 0",
    "o=- 1 1 IN IP4",
    "v=1",
    "k=clear:x",
    "s=",
    "x=",
)


def sdp_games(rng: random.Random, msg: bytes) -> bytes:
    """Mutates the SDP body line by line (added, deleted, replaced, repeated lines from
    ``SDP_LINES``) and keeps the Content-Length true, so the SIP layer passes it on to pjmedia."""
    lines, body = _headers_of(msg)
    if not body:
        body = SDP.format(rtp=4000).encode()
        lines = [ln for ln in lines if not ln.lower().startswith((b"content-type", b"content-length"))]
        lines.append(b"Content-Type: application/sdp")
    sdp = body.decode(errors="replace").split("\r\n")
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(4)
        at = rng.randrange(len(sdp) + 1)
        if op == 0:
            sdp.insert(at, rng.choice(SDP_LINES))
        elif op == 1 and sdp:
            del sdp[min(at, len(sdp) - 1)]
        elif op == 2 and sdp:
            sdp[min(at, len(sdp) - 1)] = rng.choice(SDP_LINES)
        else:
            sdp[at:at] = [rng.choice(SDP_LINES)] * rng.choice((2, 10, 40))
    new_body = "\r\n".join(sdp).encode()
    lines = [ln for ln in lines if not ln.lower().startswith(b"content-length")]
    lines.append(b"Content-Length: %d" % len(new_body))
    return _join(lines, new_body)


MUTATORS: tuple[Callable[[random.Random, bytes], bytes], ...] = (
    flip_bytes,
    delete_header,
    duplicate_header,
    lie_about_length,
    truncate,
    huge_value,
    bad_uri,
    crlf_games,
    junk,
    mangle_start_line,
    sdp_games,
    sdp_games,
)


def mutate(rng: random.Random, msg: bytes) -> bytes:
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        msg = rng.choice(MUTATORS)(rng, msg)
    return msg


def template(rng: random.Random, client: SipClient, method: str) -> tuple[bytes | None, bytes]:
    """A valid *method* request, and (for ACK, BYE, CANCEL: sometimes) the unmutated INVITE of
    the same dialog to send before it, so the mutated one can match a live call."""
    dialog = Dialog(client, rng, user="1002")
    before = (
        dialog.invite(sdp=rng.random() < 0.8)
        if method in ("ACK", "BYE", "CANCEL") and rng.random() < 0.4
        else None
    )
    if method == "INVITE":
        msg = dialog.invite(sdp=rng.random() < 0.5)  # half delayed offer (no SDP)
    elif method == "MESSAGE":
        msg = dialog.request("MESSAGE", body="hello " * rng.randint(1, 20), content_type="text/plain")
    elif method == "CANCEL":
        msg = dialog.request("CANCEL")
    elif method == "ACK":
        dialog.to_tag = "x" + str(rng.getrandbits(32))
        msg = dialog.request("ACK", in_dialog=True)
    elif method == "BYE":
        dialog.cseq = 2
        msg = dialog.request("BYE", branch="z9hG4bK" + str(rng.getrandbits(40)), in_dialog=True)
    else:
        msg = dialog.request("OPTIONS", extra="Accept: application/sdp")
    return before, msg


def in_dialog(rng: random.Random, dialog: Dialog) -> bytes:
    """A request inside *dialog*, a connected call (its To tag known): a re-INVITE (hold,
    resume, no SDP), INFO (DTMF, relay, media control, junk), UPDATE, OPTIONS, MESSAGE, REFER,
    NOTIFY, PRACK, ACK or BYE. The caller mutates it or not."""
    method = rng.choice(("INVITE", "INVITE", "INFO", "INFO", "INFO", "UPDATE", "OPTIONS", "MESSAGE", "REFER",
                         "NOTIFY", "PRACK", "ACK", "BYE"))  # fmt: skip
    if method != "ACK":
        dialog.cseq += 1
    body, kind, extra = "", "application/sdp", ""
    if method in ("INVITE", "UPDATE") and rng.random() < 0.8:
        body = SDP.format(rtp=dialog.client.rtp_port)
        body = body.replace(
            "a=sendrecv", rng.choice(("a=sendrecv", "a=sendonly", "a=inactive", "a=recvonly"))
        )
        if rng.random() < 0.2:
            body = body.replace("c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0")
    elif method == "INFO":
        kind, body = rng.choice(
            (
                ("application/dtmf", rng.choice("0123456789*#ABCD")),
                ("application/dtmf-relay", f"Signal={rng.choice('0123456789*#')}\r\nDuration=160\r\n"),
                ("application/dtmf-relay", "Signal=\r\n"),
                ("application/media_control+xml", "<media_control><vc_primitive><to_encoder>"
                 "<picture_fast_update/></to_encoder></vc_primitive></media_control>"),
                ("text/plain", "x" * rng.randint(0, 50)),
            )
        )  # fmt: skip
    elif method == "MESSAGE":
        kind, body = "text/plain", "hi"
    elif method == "REFER":
        extra = f"Refer-To: <sip:9999@{HOST}>"
    elif method == "NOTIFY":
        extra = "Event: refer\r\nSubscription-State: active"
        kind, body = "message/sipfrag", "SIP/2.0 200 OK"
    elif method == "PRACK":
        extra = "RAck: 1 1 INVITE"
    branch = "z9hG4bK" + str(rng.getrandbits(40))
    return dialog.request(method, body=body, content_type=kind, branch=branch, extra=extra, in_dialog=True)


@dataclass
class Report:
    sent: int = 0
    responses: int = 0  # messages the phone sent back (responses, retransmissions)
    rang: int = 0  # mutated INVITEs that rang
    batches: int = 0
    checks: int = 0
    crashes: list[str] = field(default_factory=list)
    rss_start: int = 0
    rss_peak: int = 0
    rss_end: int = 0


class Fuzzer:
    """Sends *count* mutated requests in batches of *batch*, alternating UDP and TCP batches,
    and checks the phone after each. A dead phone is a crash: its batch is written to *out_dir*
    and, unless *stop_on_crash*, a new phone is started."""

    def __init__(
        self,
        seed: int,
        out_dir: Path,
        batch: int = 100,
        pace: float = 0.0005,
        phone_options: dict[str, object] | None = None,
    ) -> None:
        self.seed, self.out_dir, self.batch, self.pace = seed, out_dir, batch, pace
        self.rng = random.Random(seed)
        self.phone_options: dict[str, object] = {"ring_timeout": 30, "log_file": "", **(phone_options or {})}
        self.report = Report()
        self.phone: Phone | None = None
        self._last: list[bytes] = []  # the requests of the batch being sent

    def requests(self, client: SipClient, count: int, dialog: Dialog | None = None) -> Iterator[bytes]:
        """*count* mutated requests; with *dialog* (a connected call) half of them are sent
        inside it, and of those half go unmutated (a valid hold, DTMF …)."""
        for _ in range(count):
            if dialog is not None and self.rng.random() < 0.5:
                msg = in_dialog(self.rng, dialog)
                yield mutate(self.rng, msg) if self.rng.random() < 0.5 else msg
                continue
            method = self.rng.choice(METHODS)
            before, msg = template(self.rng, client, method)
            if before is not None:
                yield before
            yield mutate(self.rng, msg)

    async def start_phone(self) -> Phone:
        self.phone = await Phone.start(self.out_dir, **self.phone_options)
        return self.phone

    async def run(self, count: int, stop_on_crash: bool = True) -> Report:
        report = self.report
        phone = self.phone or await self.start_phone()
        report.rss_start = phone.rss_kib()
        try:
            number = 0
            while report.sent < count:
                tcp = number % 2 == 1
                size = min(self.batch, count - report.sent)
                dnd = number % 3 == 2  # every third batch with do-not-disturb on (486 to all)
                if dnd:
                    mark = len(phone.lines)
                    await phone.send("dnd on")
                    await phone.expect(since=mark, event="status", dnd=True, timeout=5)
                connected = not dnd and number % 4 < 2
                report.sent += await self._batch(phone, tcp, size, connected)
                if dnd and phone.alive():
                    mark = len(phone.lines)
                    await phone.send("dnd off")
                    with contextlib.suppress(AssertionError):  # (the phone may die meanwhile)
                        await phone.expect(since=mark, event="status", dnd=False, timeout=5)
                report.batches += 1
                report.rss_peak = max(report.rss_peak, phone.rss_kib("VmHWM"), phone.rss_kib())
                if not phone.alive():
                    report.crashes.append(await self._crashed(phone, number))
                    if stop_on_crash:
                        break
                    phone = await self.start_phone()
                else:
                    try:
                        await self.check(phone, tcp)
                        report.checks += 1
                    except (AssertionError, OSError) as exc:
                        with contextlib.suppress(TimeoutError):  # died during the check?
                            await asyncio.wait_for(phone.proc.wait(), 3)
                        if phone.alive():
                            raise AssertionError(f"batch {number} (seed {self.seed}): {exc}") from None
                        report.crashes.append(await self._crashed(phone, number))
                        if stop_on_crash:
                            break
                        phone = await self.start_phone()
                number += 1
            report.rss_end = phone.rss_kib()
        finally:
            await phone.stop()
            self.phone = None
        return report

    async def _batch(self, phone: Phone, tcp: bool, size: int, connected: bool = False) -> int:
        """Sends *size* mutated requests (and the valid INVITEs some come after); how many.
        With *connected*, a call is set up first and half the requests go inside it."""
        client = await SipClient(phone.port, tcp=tcp).open()
        sent: list[bytes] = []
        self._last = sent
        call: tuple[Dialog, str] | None = None
        try:
            if connected:
                with contextlib.suppress(AssertionError):  # refused (guard): no call this time
                    call = await self._connect(phone, client, "4343")
            for msg in self.requests(client, size, call[0] if call else None):
                sent.append(msg)
                try:
                    await client.send(msg)
                except OSError:  # pjsip closed our connection (it may, on garbage): a new one
                    self.report.responses += len(client.messages)
                    await client.close()
                    client = await SipClient(phone.port, tcp=tcp).open()
                if self.pace:
                    await asyncio.sleep(self.pace)
            await asyncio.sleep(0.2)  # let the phone read what is queued before we judge it
            if call is not None and phone.alive():
                await phone.send(f"hangup {call[1]}")  # if a BYE of ours has not ended it
                with contextlib.suppress(AssertionError):
                    await phone.expect(event="ended", call=call[1], timeout=5)
        except OSError:  # could not even connect: the phone is gone, or its TCP is stuck
            pass
        finally:
            self.report.responses += len(client.messages)
            await client.close()
        return len(sent)

    async def _crashed(self, phone: Phone, number: int) -> str:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(phone.proc.wait(), 5)
        path = self.out_dir / f"crash-seed{self.seed}-batch{number}.bin"
        path.write_bytes(b"\n=====\n".join(self._last))
        stderr = await phone.stderr()
        await phone.stop()
        return f"batch {number} (exit {phone.proc.returncode}, requests in {path}): {stderr[-600:]}"

    async def _end_ringing(self, phone: Phone) -> None:
        """Reject the calls the batch left ringing (valid enough to ring, never cancelled)."""
        ended = {line.get("call") for line in phone.lines if line.get("event") == "ended"}
        ringing = [
            line["call"]
            for line in phone.lines
            if line.get("event") == "incoming" and line["call"] not in ended
        ]
        self.report.rang += len(ringing)
        for call in ringing:
            await phone.send(f"reject {call}")
        for call in ringing:
            await phone.expect(event="ended", call=call, timeout=10)

    async def _connect(self, phone: Phone, client: SipClient, user: str) -> tuple[Dialog, str]:
        """A call from *user*, answered by the phone and ACKed: its dialog and the phone's id.
        An AssertionError carries the final answer when it was refused."""
        dialog = Dialog(client, user=user)
        mark = len(phone.lines)
        await client.send(dialog.invite())
        got = await _first(
            phone.expect(since=mark, event="incoming", remote_name=f"Raw {user}", timeout=10),
            client.final(dialog, timeout=10),
        )
        if not isinstance(got, dict):
            assert isinstance(got, Message)
            await client.send(dialog.ack(got))
            raise Refused(got)
        await phone.send(f"answer {got['call']}")
        ok = await client.final(dialog)
        assert ok.status == 200, ok.first
        await client.send(dialog.ack(ok))
        await phone.expect(since=mark, event="answered", call=got["call"])
        return dialog, str(got["call"])

    async def check(self, phone: Phone, tcp: bool) -> None:
        """A normal call is answered (INVITE, answer, ACK, BYE). Right after a batch full of
        INVITEs the flood guard may refuse it 503 (or the 4 calls be taken, 486): it tries again
        after Retry-After, as a PBX would."""
        for attempt in range(4):
            await self._end_ringing(phone)
            client = await SipClient(phone.port, tcp=tcp).open()
            try:
                mark = len(phone.lines)
                try:
                    dialog, call = await self._connect(phone, client, "4242")
                except Refused as refused:
                    if refused.response.status in (503, 486) and attempt < 3:
                        await asyncio.sleep(RETRY_AFTER)
                        continue
                    raise
                await client.send(dialog.bye())
                bye = await client.final(dialog, "BYE")
                assert bye.status == 200, bye.first
                await phone.expect(since=mark, event="ended", call=call)
                return
            finally:
                await client.close()


class Refused(AssertionError):
    def __init__(self, response: Message) -> None:
        super().__init__(f"a normal call was answered {response.first}")
        self.response = response


async def _first(*aws: object) -> object:
    """The result of whichever awaitable finishes first (the others are cancelled)."""
    tasks = [asyncio.ensure_future(aw) for aw in aws]  # type: ignore[call-overload]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        return next(iter(done)).result()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task


__all__ = ["HOST", "METHODS", "MUTATORS", "Fuzzer", "Report", "mutate", "template"]
