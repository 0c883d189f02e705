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

__all__ = ["BatchRequest", "BatchResponse", "ChangeSet", "decode_batch", "decode_batch_parts", "encode_batch"]

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
    """(content-type header, body) for ``POST $batch``.

    Content-IDs are unique within the whole batch, as OData requires (Microsoft's Python SDK
    numbers them the same way): a changeset's ``$1`` is its own first request, renumbered here
    when other changesets come before it."""
    boundary = f"batch_{uuid.uuid4().hex}"
    out: list[str] = []
    base = 0
    for part in parts:
        out.append(f"--{boundary}")
        if isinstance(part, ChangeSet):
            cs = f"changeset_{uuid.uuid4().hex}"
            out.append(f"Content-Type: multipart/mixed; boundary={cs}")
            out.append("")
            for n, req in enumerate(part.requests, 1):
                out.append(f"--{cs}")
                out.append(_encode_request(_renumbered(req, base), base + n))
            base += len(part.requests)
            out.append(f"--{cs}--")
        else:
            if part.method != "GET":
                raise ValueError("only GETs go outside a changeset")
            out.append(_encode_request(part, None))
    out.append(f"--{boundary}--")
    out.append("")
    return f"multipart/mixed; boundary={boundary}", CRLF.join(out).encode("utf-8")


def _renumbered(req: BatchRequest, base: int) -> BatchRequest:
    """``$n`` (the changeset's n-th request) as the batch-wide Content-ID ``$(base + n)``."""
    if not base or not req.url.startswith("$"):
        return req
    digits = len(req.url) - len(req.url[1:].lstrip("0123456789")) - 1
    if digits == 0:
        return req
    n = int(req.url[1 : 1 + digits])
    return BatchRequest(req.method, f"${base + n}{req.url[1 + digits :]}", req.body, req.headers)


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
    return [r for part in decode_batch_parts(content_type, text) for r in part]


def decode_batch_parts(content_type: str, text: str) -> list[list[BatchResponse]]:
    """The responses of each top-level part, in order: a GET's one response; a changeset that
    was applied, one response per request; a changeset that failed, the failing request's
    response alone (the service rolled the others back and answers only for that one)."""
    out: list[list[BatchResponse]] = []
    for part in _parts(text, _boundary(content_type)):
        headers, body = _split_headers(part)
        ctype = headers.get("content-type", "")
        if ctype.lower().startswith("multipart/mixed"):
            out.append([r for inner in decode_batch_parts(ctype, body) for r in inner])
            continue
        status_line, _, rest = body.lstrip("\r\n").partition("\n")
        bits = status_line.split()
        status = int(bits[1]) if len(bits) > 1 and bits[1].isdigit() else 0
        inner_headers, inner_body = _split_headers(rest if rest.strip() else "\r\n")
        if not rest.strip():
            inner_body = ""
        out.append(
            [
                BatchResponse(
                    status=status,
                    headers=inner_headers,
                    text=inner_body.rstrip("\r\n"),
                    content_id=headers.get("content-id", ""),
                )
            ]
        )
    return out
