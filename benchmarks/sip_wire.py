"""Tiny SIP-over-UDP peers for the softphone benchmarks (127.0.0.1 only; not a SIP stack).

``Caller`` sends INVITEs and ACKs their final responses; ``Sink`` answers one INVITE with 200
OK and records when each RTP packet of the call arrives.
"""

from __future__ import annotations

import re
import socket
import threading
import time
import uuid

HOST = "127.0.0.1"


def _header(msg: str, name: str) -> str:
    m = re.search(rf"^{name}:\s*(.*?)\r?$", msg, re.M | re.I)
    return m.group(1) if m else ""


class Caller:
    """Sends INVITE n from user ``9000n`` and remembers when; ACKs the final answer."""

    def __init__(self, target_port: int) -> None:
        self.target = (HOST, target_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.port = self.sock.getsockname()[1]
        self.sent: dict[int, float] = {}
        self.finals: dict[str, int] = {}
        self._stop = False
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def invite(self, n: int, rtp_port: int = 40000) -> None:
        call_id = f"{n}-{uuid.uuid4().hex}@{HOST}"
        sdp = (
            f"v=0\r\no=- {n} 1 IN IP4 {HOST}\r\ns=-\r\nc=IN IP4 {HOST}\r\nt=0 0\r\n"
            f"m=audio {rtp_port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
        )
        msg = (
            f"INVITE sip:callsys@{HOST}:{self.target[1]} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {HOST}:{self.port};branch=z9hG4bK{uuid.uuid4().hex};rport\r\n"
            f"From: <sip:{90000 + n}@{HOST}:{self.port}>;tag={n}\r\n"
            f"To: <sip:callsys@{HOST}:{self.target[1]}>\r\n"
            f"Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\n"
            f"Contact: <sip:{90000 + n}@{HOST}:{self.port}>\r\nMax-Forwards: 70\r\n"
            f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}"
        )
        self.sent[90000 + n] = time.perf_counter()
        self.sock.sendto(msg.encode(), self.target)

    def _receive(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                data, _ = self.sock.recvfrom(65536)
            except OSError:
                continue
            msg = data.decode(errors="replace")
            m = re.match(r"SIP/2.0 (\d+)", msg)
            if not m or int(m.group(1)) < 200 or "INVITE" not in _header(msg, "CSeq"):
                continue
            call_id = _header(msg, "Call-ID")
            self.finals[call_id] = int(m.group(1))
            via = _header(msg, "Via")
            ack = (
                f"ACK sip:callsys@{HOST}:{self.target[1]} SIP/2.0\r\nVia: {via}\r\n"
                f"From: {_header(msg, 'From')}\r\nTo: {_header(msg, 'To')}\r\n"
                f"Call-ID: {call_id}\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
            )
            self.sock.sendto(ack.encode(), self.target)

    def close(self) -> None:
        self._stop = True
        self._thread.join(1)
        self.sock.close()


class Sink:
    """Answers an INVITE with 200 OK (PCMU) and timestamps every RTP packet it receives."""

    def __init__(self) -> None:
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sip.bind((HOST, 0))
        self.port = self.sip.getsockname()[1]
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind((HOST, 0))
        self.rtp_port = self.rtp.getsockname()[1]
        self.arrivals: list[tuple[int, int, int]] = []  # (ns, seq, rtp timestamp)
        self.recording = False
        self._stop = False
        self._threads = [
            threading.Thread(target=self._sip_loop, daemon=True),
            threading.Thread(target=self._rtp_loop, daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _sip_loop(self) -> None:
        self.sip.settimeout(0.2)
        while not self._stop:
            try:
                data, addr = self.sip.recvfrom(65536)
            except OSError:
                continue
            msg = data.decode(errors="replace")
            method = msg.split(" ", 1)[0]
            if method not in ("INVITE", "BYE", "OPTIONS"):
                continue
            vias = "".join(f"Via: {v}\r\n" for v in re.findall(r"^Via:\s*(.*?)\r?$", msg, re.M | re.I))
            to = _header(msg, "To")
            if ";tag=" not in to:
                to += ";tag=sink"
            body = ""
            if method == "INVITE":
                body = (
                    f"v=0\r\no=- 1 1 IN IP4 {HOST}\r\ns=-\r\nc=IN IP4 {HOST}\r\nt=0 0\r\n"
                    f"m=audio {self.rtp_port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=recvonly\r\n"
                )
            reply = (
                f"SIP/2.0 200 OK\r\n{vias}From: {_header(msg, 'From')}\r\nTo: {to}\r\n"
                f"Call-ID: {_header(msg, 'Call-ID')}\r\nCSeq: {_header(msg, 'CSeq')}\r\n"
                f"Contact: <sip:sink@{HOST}:{self.port}>\r\n"
                + ("Content-Type: application/sdp\r\n" if body else "")
                + f"Content-Length: {len(body)}\r\n\r\n{body}"
            )
            self.sip.sendto(reply.encode(), addr)

    def _rtp_loop(self) -> None:
        self.rtp.settimeout(0.2)
        while not self._stop:
            try:
                data = self.rtp.recv(2048)
            except OSError:
                continue
            now = time.perf_counter_ns()
            if self.recording and len(data) >= 12:
                seq = int.from_bytes(data[2:4], "big")
                ts = int.from_bytes(data[4:8], "big")
                self.arrivals.append((now, seq, ts))

    def close(self) -> None:
        self._stop = True
        for t in self._threads:
            t.join(1)
        self.sip.close()
        self.rtp.close()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]
