"""The flood guard's bookkeeping, and the INVITE whose Content-Length is larger than its body
(RFC 3261 §18.3: answered 400) — pure Python, no pjsua2."""

from __future__ import annotations

import pytest

from providers.sip.guard import BUDGET, LINGER, SLOTS_PER_CALL, MediaBudget
from providers.sip.headers import caller_info


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


CALLS = BUDGET // SLOTS_PER_CALL  # calls whose sockets fit in the budget


def test_calls_set_up_and_torn_down_faster_than_slots_come_back_are_refused() -> None:
    clock = Clock()
    budget = MediaBudget(clock)
    for _ in range(CALLS):  # each call rings, is cancelled at once: its slots linger
        assert budget.admit(live_calls=0)
        budget.started()
        budget.ended()
    assert not budget.admit(live_calls=0)
    assert budget.refused == 1
    clock.now += LINGER + 0.01  # pjlib has given the slots back by now
    assert budget.admit(live_calls=0)


def test_live_calls_hold_their_slots() -> None:
    budget = MediaBudget(Clock())
    assert budget.admit(live_calls=CALLS - 1)
    budget.started()
    assert not budget.admit(live_calls=CALLS)


def test_an_admitted_invite_that_never_became_a_call_counts_as_closed() -> None:
    """pjsua opened its sockets and closed them again (e.g. 488: no common codec)."""
    clock = Clock()
    budget = MediaBudget(clock)
    for _ in range(CALLS):
        assert budget.admit(live_calls=0)  # no started(): pjsua refused each one itself
    assert not budget.admit(live_calls=0)
    clock.now += LINGER + 0.01
    assert budget.admit(live_calls=0)


def test_a_steady_stream_of_calls_is_never_refused() -> None:
    """20 calls a second, each ended at once (benchmarks/sip_latency.py's load) is fine."""
    clock = Clock()
    budget = MediaBudget(clock)
    for _ in range(400):
        assert budget.admit(live_calls=0)
        budget.started()
        budget.ended()
        clock.now += 0.05
    assert budget.refused == 0


def message(content_length: str, body: bytes, eol: bytes = b"\r\n", name: bytes = b"Content-Length") -> bytes:
    head = [
        b"INVITE sip:callsys@127.0.0.1 SIP/2.0",
        b"Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK1",
        b"Call-ID: x@y",
        b"Content-Type: application/sdp",
    ]
    if content_length:
        head.append(name + b": " + content_length.encode())
    return eol.join(head) + eol + eol + body


SDP = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"


@pytest.mark.parametrize(
    ("msg", "bad"),
    [
        (message(str(len(SDP)), SDP), False),
        (message("99999", SDP), True),  # sipp's m04_bad_content_length
        (message(str(len(SDP) + 1), SDP), True),
        (message(str(len(SDP) - 10), SDP), False),  # more than declared: the rest is dropped
        (message("99999", SDP, name=b"l"), True),  # compact form
        (message("99999", SDP, name=b"content-LENGTH"), True),
        (message("99999", SDP, eol=b"\n"), True),  # bare LF line ends
        (message("0", b""), False),
        (message("", SDP), False),  # none: the datagram's end is the body's end
        (message("abc", SDP), False),  # pjsip answers that one itself (400)
        (message("99999", SDP) + b"\r\nContent-Length: 1", True),  # a "header" in the body
        (b"INVITE sip:x SIP/2.0\r\nContent-Length: 50\r\n", False),  # no end of header
        (b"", False),
    ],
)
def test_content_length_larger_than_the_body(msg: bytes, bad: bool) -> None:
    assert caller_info(msg.decode("utf-8", "surrogateescape")).body_cut is bad


def test_two_content_lengths_are_not_judged_here() -> None:
    msg = message("99999", SDP).replace(b"Content-Length: 99999", b"Content-Length: 99999\r\nl: 1")
    assert caller_info(msg.decode()).body_cut is False


def test_content_length_counts_bytes_not_characters() -> None:
    body = "s=Café ☎\r\n".encode()
    assert not caller_info(message(str(len(body)), body).decode()).body_cut
    assert caller_info(message(str(len(body) + 1), body).decode()).body_cut
    assert (
        caller_info(
            message(str(len(body)), b"\xff\xfe" + body[2:]).decode("utf-8", "surrogateescape")
        ).body_cut
        is False
    )
