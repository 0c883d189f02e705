"""Hand-made SIP over raw sockets, for the tests that must send what no SIP stack would: a
client that writes bytes over UDP or TCP and reads back the phone's messages, and the valid
requests the abort tests and the fuzzer start from."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .peers import HOST, free_port

_counter = itertools.count(1)

SDP = (
    "v=0\r\n"
    "o=raw 1 1 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "m=audio {rtp} RTP/AVP 0 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=sendrecv\r\n"
)


@dataclass
class Message:
    """One SIP message the phone sent us."""

    raw: bytes
    first: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def status(self) -> int:
        match = re.match(r"SIP/2\.0 (\d{3})", self.first)
        return int(match.group(1)) if match else 0

    @property
    def method(self) -> str:
        return "" if self.status else self.first.split(" ", 1)[0]

    def header(self, name: str) -> str:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return ""

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


def parse(raw: bytes) -> Message:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.append((name.strip(), value.strip()))
    return Message(raw, lines[0], headers, body)


def token(rng: random.Random | None = None) -> str:
    rng = rng or random.Random()
    return f"{rng.getrandbits(48):012x}{next(_counter)}"


class Dialog:
    """What a request needs to belong to one call: Call-ID, tags, branch, CSeq."""

    def __init__(self, client: SipClient, rng: random.Random | None = None, user: str = "1002") -> None:
        self.client = client
        self.call_id = f"{token(rng)}@{client.host}"
        self.from_tag = token(rng)
        self.to_tag = ""
        self.branch = "z9hG4bK" + token(rng)
        self.cseq = 1
        self.user = user

    def request(
        self,
        method: str,
        body: str = "",
        content_type: str = "application/sdp",
        cseq: int | None = None,
        branch: str | None = None,
        extra: str = "",
        content_length: int | None = None,
        in_dialog: bool = False,
    ) -> bytes:
        c = self.client
        target = f"sip:callsys@{HOST}:{c.phone_port}"
        via_proto = "TCP" if c.tcp else "UDP"
        to = f"<{target}>" + (f";tag={self.to_tag}" if self.to_tag and in_dialog else "")
        length = len(body.encode()) if content_length is None else content_length
        lines = [
            f"{method} {target}{';transport=tcp' if c.tcp else ''} SIP/2.0",
            f"Via: SIP/2.0/{via_proto} {c.host}:{c.port};branch={branch or self.branch};rport",
            "Max-Forwards: 70",
            f'From: "Raw {self.user}" <sip:{self.user}@{c.host}:{c.port}>;tag={self.from_tag}',
            f"To: {to}",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq if cseq is None else cseq} {method}",
            f"Contact: <sip:{self.user}@{c.host}:{c.port}{';transport=tcp' if c.tcp else ''}>",
            "User-Agent: rawsip",
        ]
        if extra:
            lines += extra.rstrip("\r\n").split("\r\n")
        if body or content_length is not None:
            lines.append(f"Content-Type: {content_type}")
        lines.append(f"Content-Length: {length}")
        return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()

    def invite(self, sdp: bool = True, **kw: object) -> bytes:
        body = SDP.format(rtp=self.client.rtp_port) if sdp else ""
        return self.request("INVITE", body=body, **kw)  # type: ignore[arg-type]

    def ack(self, response: Message) -> bytes:
        """ACK to a final response: same branch for a non-2xx one (RFC 3261 §17.1.1.3), a new
        one for a 2xx (a request of the dialog)."""
        self.to_tag = _tag(response.header("To"))
        if response.status >= 300:
            return self.request("ACK", cseq=1, in_dialog=True)
        return self.request("ACK", cseq=1, branch="z9hG4bK" + token(), in_dialog=True)

    def bye(self) -> bytes:
        self.cseq += 1
        return self.request("BYE", branch="z9hG4bK" + token(), in_dialog=True)


def _tag(value: str) -> str:
    match = re.search(r";\s*tag=([^;\s>]+)", value)
    return match.group(1) if match else ""


class SipClient:
    """A UDP socket, or one TCP connection, to the phone; every message it sends us is kept."""

    def __init__(self, phone_port: int, tcp: bool = False, host: str = HOST) -> None:
        """*host*: our own address, e.g. 127.0.0.2 to be a caller from another address."""
        self.phone_port, self.tcp, self.host = phone_port, tcp, host
        self.port = free_port()
        self.rtp_port = free_port(tcp_too=False)
        self.messages: list[Message] = []
        self._changed = asyncio.Event()
        self._sock: socket.socket | None = None
        self._reader: asyncio.Task[None] | None = None
        self._buffer = b""

    async def open(self) -> SipClient:
        loop = asyncio.get_running_loop()
        if self.tcp:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.setblocking(False)
            await loop.sock_connect(sock, (HOST, self.phone_port))
        else:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((self.host, self.port))
            sock.setblocking(False)
        self._sock = sock
        self._reader = loop.create_task(self._read())
        return self

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    async def send(self, data: bytes) -> None:
        assert self._sock is not None
        loop = asyncio.get_running_loop()
        if self.tcp:
            await loop.sock_sendall(self._sock, data)
        else:
            with contextlib.suppress(OSError):  # e.g. too big for one datagram
                await loop.sock_sendto(self._sock, data, (HOST, self.phone_port))

    async def _read(self) -> None:
        assert self._sock is not None
        loop = asyncio.get_running_loop()
        while True:
            try:
                data = await loop.sock_recv(self._sock, 65535)
            except OSError:
                data = b""
            if not data and self.tcp:
                self._changed.set()
                return
            if self.tcp:
                self._buffer += data
                while (msg := self._take_stream_message()) is not None:
                    self._keep(msg)
            elif data.strip():
                self._keep(data)

    def _take_stream_message(self) -> bytes | None:
        self._buffer = self._buffer.lstrip(b"\r\n")
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = self._buffer[:end].decode(errors="replace")
        match = re.search(r"^(?:content-length|l)\s*:\s*(\d+)", head, re.I | re.M)
        size = end + 4 + (int(match.group(1)) if match else 0)
        if len(self._buffer) < size:
            return None
        msg, self._buffer = self._buffer[:size], self._buffer[size:]
        return msg

    def _keep(self, raw: bytes) -> None:
        self.messages.append(parse(raw))
        self._changed.set()

    async def wait_for(
        self, pred: Callable[[Message], bool], timeout: float = 10.0, since: int = 0, what: str = ""
    ) -> Message:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for msg in self.messages[since:]:
                if pred(msg):
                    return msg
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = [m.first for m in self.messages[since:]][-8:]
                raise AssertionError(f"no {what or 'such message'} within {timeout} s; got {seen}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def final(self, dialog: Dialog, method: str = "INVITE", timeout: float = 10.0) -> Message:
        """The phone's final response to *dialog*'s request *method* (its latest, by CSeq: an
        INVITE and its CANCEL are CSeq 1, later requests the dialog's current number)."""
        cseq = f"{1 if method in ('INVITE', 'CANCEL') else dialog.cseq} {method}"
        return await self.wait_for(
            lambda m: (
                m.status >= 200
                and m.header("Call-ID") == dialog.call_id
                and " ".join(m.header("CSeq").split()) == cseq
            ),
            timeout,
            what=f"final response to {cseq} {dialog.call_id}",
        )


async def answered_call(phone: Any, client: SipClient, user: str = "4242") -> tuple[Dialog, str]:
    """A normal call, by hand: INVITE with SDP, the phone rings (``incoming`` on its stdout), we
    answer it there, the 200 comes, ACK. Returns the dialog and the phone's id of the call.
    *phone* is ``peers.Phone`` (``callsys phone`` as a subprocess)."""
    dialog = Dialog(client, user=user)
    mark = len(phone.lines)
    await client.send(dialog.invite())
    ring = await phone.expect(since=mark, event="incoming", remote_name=f"Raw {user}")
    await phone.send(f"answer {ring['call']}")
    ok = await client.final(dialog)
    assert ok.status == 200, ok.first
    await client.send(dialog.ack(ok))
    await phone.expect(since=mark, event="answered", call=ring["call"])
    return dialog, str(ring["call"])


async def a_raw_call_is_answered(phone: Any, tcp: bool = False, user: str = "4242") -> None:
    """``answered_call``, then BYE → 200 and the phone says ``ended`` ``completed``."""
    client = await SipClient(phone.port, tcp=tcp).open()
    try:
        mark = len(phone.lines)
        dialog, call = await answered_call(phone, client, user)
        await client.send(dialog.bye())
        bye = await client.final(dialog, "BYE")
        assert bye.status == 200, bye.first
        ended = await phone.expect(since=mark, event="ended", call=call)
        assert ended["reason"] == "completed"
    finally:
        await client.close()
