"""``$batch`` requests and responses (multipart/mixed, contract §1.3 and §3.3).

A batch is a list of parts; a part is either one ``BatchRequest`` (a GET, which must never sit
inside a changeset) or a ``ChangeSet`` of writes that Dataverse applies atomically. Inside a
changeset a request may address an earlier one's result as ``$<content-id>`` (``PATCH $1``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BatchRequest", "BatchResponse", "ChangeSet", "decode_batch", "encode_batch"]

CRLF = "\r\n"


@dataclass(frozen=True, slots=True)
class BatchRequest:
    method: str
    url: str  # absolute, or "$1" inside a changeset
    body: Any = None  # JSON-able, or None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChangeSet:
    requests: Sequence[BatchRequest]


@dataclass(frozen=True, slots=True)
class BatchResponse:
    status: int
    headers: Mapping[str, str]  # lower-cased names
    text: str
    content_id: str = ""

    def json(self) -> Any:
        return json.loads(self.text) if self.text.strip() else None


def _encode_request(req: BatchRequest, content_id: int | None) -> str:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id is not None:
        lines.append(f"Content-ID: {content_id}")
    lines.append("")
    lines.append(f"{req.method} {req.url} HTTP/1.1")
    headers = dict(req.headers)
    body = ""
    if req.body is not None:
        headers.setdefault("Content-Type", "application/json")
        body = json.dumps(req.body, ensure_ascii=False, separators=(",", ":"))
    headers.setdefault("Accept", "application/json")
    lines.extend(f"{k}: {v}" for k, v in headers.items())
    lines.append("")
    lines.append(body)
    return CRLF.join(lines)


def encode_batch(parts: Sequence[BatchRequest | ChangeSet]) -> tuple[str, bytes]:
    """(content-type header, body) for ``POST $batch``."""
    boundary = f"batch_{uuid.uuid4().hex}"
    out: list[str] = []
    for part in parts:
        out.append(f"--{boundary}")
        if isinstance(part, ChangeSet):
            cs = f"changeset_{uuid.uuid4().hex}"
            out.append(f"Content-Type: multipart/mixed; boundary={cs}")
            out.append("")
            for n, req in enumerate(part.requests, 1):
                out.append(f"--{cs}")
                out.append(_encode_request(req, n))
            out.append(f"--{cs}--")
        else:
            if part.method != "GET":
                raise ValueError("only GETs go outside a changeset")
            out.append(_encode_request(part, None))
    out.append(f"--{boundary}--")
    out.append("")
    return f"multipart/mixed; boundary={boundary}", CRLF.join(out).encode("utf-8")


def _boundary(content_type: str) -> str:
    for piece in content_type.split(";"):
        key, _, value = piece.strip().partition("=")
        if key.lower() == "boundary":
            return value.strip('"')
    raise ValueError(f"no boundary in {content_type!r}")


def _split_headers(block: str) -> tuple[dict[str, str], str]:
    head, _, rest = block.partition("\r\n\r\n")
    if not _:
        head, _, rest = block.partition("\n\n")
    headers: dict[str, str] = {}
    for line in head.splitlines():
        if ":" in line:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
    return headers, rest


def _parts(text: str, boundary: str) -> list[str]:
    delimiter = f"--{boundary}"
    chunks = text.split(delimiter)
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith("--"):
            break
        parts.append(chunk.lstrip("\r\n") if chunk.startswith(("\r\n", "\n")) else chunk)
    return parts


def decode_batch(content_type: str, text: str) -> list[BatchResponse]:
    """Every response in order; a changeset's responses are flattened in place."""
    out: list[BatchResponse] = []
    for part in _parts(text, _boundary(content_type)):
        headers, body = _split_headers(part)
        ctype = headers.get("content-type", "")
        if ctype.lower().startswith("multipart/mixed"):
            out.extend(decode_batch(ctype, body))
            continue
        status_line, _, rest = body.lstrip("\r\n").partition("\n")
        bits = status_line.split()
        status = int(bits[1]) if len(bits) > 1 and bits[1].isdigit() else 0
        inner_headers, inner_body = _split_headers(rest if rest.strip() else "\r\n")
        if not rest.strip():
            inner_body = ""
        out.append(
            BatchResponse(
                status=status,
                headers=inner_headers,
                text=inner_body.rstrip("\r\n"),
                content_id=headers.get("content-id", ""),
            )
        )
    return out
