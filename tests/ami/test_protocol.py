"""AMI framing: the real captures parse identically however the bytes are chunked, and bad
input is survived, not trusted."""

from __future__ import annotations

import random

import pytest

from providers.ami.protocol import FrameParser, encode_action, parse_frame
from tests.ami.fakeami import SCENARIOS, Transcript


def _all(parser: FrameParser, data: bytes, sizes: list[int]) -> list[dict[str, str]]:
    out = []
    pos = 0
    i = 0
    while pos < len(data):
        step = sizes[i % len(sizes)]
        out.extend(m.headers for m in parser.feed(data[pos : pos + step]))
        pos += step
        i += 1
    return out


@pytest.mark.parametrize("name", SCENARIOS)
def test_capture_parses_the_same_in_any_chunking(name: str) -> None:
    t = Transcript.load(name)
    body = b"".join(t.frames)
    whole = [m.headers for m in FrameParser().feed(body)]
    assert len(whole) == len(t.frames) == body.count(b"\r\n\r\n")
    rnd = random.Random(name)
    sizes = [rnd.randint(1, 700) for _ in range(64)]
    assert _all(FrameParser(), body, sizes) == whole
    assert _all(FrameParser(), body[:4000], [1]) == [m.headers for m in FrameParser().feed(body[:4000])]


def test_repeated_keys_are_kept() -> None:
    (msg,) = FrameParser().feed(b"Response: Success\r\nActionID: cmd-1\r\nOutput: a\r\nOutput: b\r\n\r\n")
    assert msg.get("Output") == "a" and msg.get_all("Output") == ["a", "b"]
    assert msg.get_all("Missing") == [] and msg.response == "Success" and msg.action_id == "cmd-1"


def test_malformed_lines_do_not_break_the_frame() -> None:
    data = (
        b"Event: Newstate\r\nno colon here\r\nKey:value\r\nEmpty: \r\nCallerIDName: Bad \xff\xfe name\r\n\r\n"
        b"\r\n\r\n"  # an empty frame
        b"Event: Next\r\n\r\n"
    )
    msgs = FrameParser().feed(data)
    assert [m.event for m in msgs] == ["Newstate", "Next"]
    first = msgs[0]
    assert first.get("") == "no colon here" and first.get("Key") == "value" and first.get("Empty") == ""
    assert first.get("CallerIDName") == "Bad \ufffd\ufffd name"


def test_bare_lf_frames_are_accepted() -> None:
    msgs = FrameParser().feed(b"Event: A\nX: 1\n\nEvent: B\n\n")
    assert [(m.event, m.get("X")) for m in msgs] == [("A", "1"), ("B", "")]


def test_oversized_frame_is_dropped_and_the_stream_recovers() -> None:
    parser = FrameParser(max_frame=1000)
    huge = b"Event: Huge\r\nJunk: " + b"x" * 5000
    out = parser.feed(b"Event: Before\r\n\r\n" + huge[:3000])
    assert [m.event for m in out] == ["Before"]
    assert parser.pending <= 1000  # the buffer does not grow with the junk
    out = parser.feed(huge[3000:] + b"\r\n\r\nEvent: After\r\n\r\n")
    assert [m.event for m in out] == ["After"]
    assert parser.dropped == 1
    # A huge frame that arrives whole is dropped too.
    out = parser.feed(huge + b"\r\n\r\nEvent: Again\r\n\r\n")
    assert [m.event for m in out] == ["Again"] and parser.dropped == 2


def test_encode_action_cannot_be_smuggled_extra_lines() -> None:
    data = encode_action(
        "Originate",
        "orig-1",
        [("Exten", "1002\r\nAction: Command"), ("Variable", "A=1"), ("Variable", "B=2")],
    )
    assert data.endswith(b"\r\n\r\n") and data.count(b"\r\n\r\n") == 1
    msg = parse_frame(data.decode())
    assert msg is not None
    assert msg.get("Action") == "Originate" and msg.get("Exten") == "1002  Action: Command"
    assert msg.get_all("Variable") == ["A=1", "B=2"]
