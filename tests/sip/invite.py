"""A caller made of one UDP socket: sends a real SIP INVITE (with an SDP offer) to a phone on
127.0.0.1 and reads the phone's answers — for tests that only need a call to ring with a given
caller number, without starting a SIP peer program."""

from __future__ import annotations

import socket
import uuid

HOST = "127.0.0.1"

_SDP = (
    "v=0\r\no=- 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)


class RawCaller:
    """``with RawCaller() as caller: caller.invite(port, "01712345678")``."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.sock.settimeout(5.0)
        self.port: int = self.sock.getsockname()[1]

    def __enter__(self) -> RawCaller:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def invite(self, phone_port: int, user: str, name: str = "", dialled: str = "callsys") -> str:
        """Send an INVITE From ``sip:USER@…`` to ``sip:DIALLED@127.0.0.1:PHONE_PORT``; returns its
        Call-ID."""
        call_id = f"{uuid.uuid4().hex}@{HOST}"
        sdp = _SDP.format(host=HOST, port=self.port + 2)
        shown = f'"{name}" ' if name else ""
        head = [
            f"INVITE sip:{dialled}@{HOST}:{phone_port} SIP/2.0",
            f"Via: SIP/2.0/UDP {HOST}:{self.port};branch=z9hG4bK{uuid.uuid4().hex[:16]};rport",
            "Max-Forwards: 70",
            f"From: {shown}<sip:{user}@{HOST}:{self.port}>;tag={uuid.uuid4().hex[:8]}",
            f"To: <sip:{dialled}@{HOST}:{phone_port}>",
            f"Call-ID: {call_id}",
            "CSeq: 1 INVITE",
            f"Contact: <sip:{user}@{HOST}:{self.port}>",
            "Content-Type: application/sdp",
            f"Content-Length: {len(sdp)}",
            "",
            sdp,
        ]
        self.sock.sendto("\r\n".join(head).encode(), (HOST, phone_port))
        return call_id
