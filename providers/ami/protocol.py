"""AMI wire format: frames of ``Key: Value`` lines ended by an empty line, CRLF everywhere.

``FrameParser`` is incremental (feed it whatever the socket returned, get whole messages back)
and tolerant, because one bad frame must never stop the phone from ringing:

- a line without ``": "`` is kept under the empty key (old ``Command`` output does that) — or,
  with a colon but no space, split at the colon;
- bare ``\\n`` line endings are accepted as well as ``\\r\\n``;
- bytes that are not UTF-8 are replaced, not fatal;
- a frame larger than ``max_frame`` is dropped whole (counted in ``dropped``) instead of growing
  the buffer without bound.

``encode_action`` writes one action; header values cannot smuggle extra lines (CR/LF removed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["BANNER_PREFIX", "FrameParser", "Message", "encode_action"]

BANNER_PREFIX = "Asterisk Call Manager/"
_SEP = b"\r\n\r\n"
_MAX_FRAME = 1 << 20  # 1 MiB: far above any real frame (a long Command output is ~100 kB)


class Message:
    """One AMI frame. ``headers`` keeps the first value of each key; ``get_all`` sees repeats
    (``Output:`` lines of a ``Command`` response, several ``Variable:`` lines)."""

    __slots__ = ("_repeats", "headers")

    def __init__(self, headers: dict[str, str], repeats: dict[str, list[str]] | None = None) -> None:
        self.headers = headers
        self._repeats = repeats

    def get(self, key: str, default: str = "") -> str:
        return self.headers.get(key, default)

    def __getitem__(self, key: str) -> str:
        return self.headers[key]

    def __contains__(self, key: object) -> bool:
        return key in self.headers

    def get_all(self, key: str) -> list[str]:
        if self._repeats is not None and key in self._repeats:
            return list(self._repeats[key])
        value = self.headers.get(key)
        return [] if value is None else [value]

    @property
    def event(self) -> str:
        return self.headers.get("Event", "")

    @property
    def response(self) -> str:
        return self.headers.get("Response", "")

    @property
    def action_id(self) -> str:
        return self.headers.get("ActionID", "")

    def __repr__(self) -> str:
        return f"Message({self.headers!r})"


def parse_frame(text: str) -> Message | None:
    """Parse one frame's text (without the terminating empty line). ``None`` if it is empty."""
    lines = text.split("\r\n")
    try:
        # Fast path: well-formed lines, no repeated keys (nearly every real frame).
        headers = dict(line.split(": ", 1) for line in lines)
        if len(headers) == len(lines):
            return Message(headers)
    except ValueError:
        pass
    return _parse_slow(lines)


def _parse_slow(lines: list[str]) -> Message | None:
    headers: dict[str, str] = {}
    repeats: dict[str, list[str]] | None = None
    for full in lines:
        line = full[:-1] if full.endswith("\r") else full
        if not line:
            continue
        key, sep, value = line.partition(": ")
        if not sep:
            key, sep, value = line.partition(":")
            if not sep:
                key, value = "", line
        if key in headers:
            if repeats is None:
                repeats = {}
            repeats.setdefault(key, [headers[key]]).append(value)
        else:
            headers[key] = value
    if not headers:
        return None
    return Message(headers, repeats)


class FrameParser:
    """Turns a byte stream into ``Message``s. Not thread-safe; one per connection."""

    def __init__(self, max_frame: int = _MAX_FRAME) -> None:
        self._buf = b""
        self._max = max_frame
        self._skipping = False  # inside an oversized frame: drop bytes until its end
        self.dropped = 0  # oversized frames dropped so far

    def feed(self, data: bytes) -> list[Message]:
        buf = self._buf + data if self._buf else data
        if b"\n\n" in buf:  # a peer that ends lines with bare LF (never Asterisk itself)
            buf = buf.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        end = buf.rfind(_SEP)
        out: list[Message] = []
        if end >= 0:
            complete, buf = buf[:end], buf[end + 4 :]
            # One decode per read, not per frame; a UTF-8 sequence never spans a separator.
            for raw in complete.decode("utf-8", "replace").split("\r\n\r\n"):
                if self._skipping:
                    self._skipping = False  # this part is the tail of the oversized frame
                    continue
                if len(raw) > self._max:
                    self.dropped += 1
                    continue
                if raw:
                    msg = parse_frame(raw)
                    if msg is not None:
                        out.append(msg)
        if len(buf) > self._max:
            if not self._skipping:
                self.dropped += 1
            self._skipping = True
            # Keep the last 3 bytes: the separator may straddle this read and the next.
            buf = buf[-3:]
        self._buf = buf
        return out

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the end of a frame."""
        return len(self._buf)


def _clean(value: object) -> str:
    return str(value).replace("\r", " ").replace("\n", " ")


def encode_action(
    action: str, action_id: str, headers: Mapping[str, object] | Iterable[tuple[str, object]] = ()
) -> bytes:
    """The bytes of one action. *headers* may repeat a key when given as pairs (``Variable``)."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    lines = [f"Action: {_clean(action)}", f"ActionID: {_clean(action_id)}"]
    lines.extend(f"{_clean(k)}: {_clean(v)}" for k, v in pairs)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
