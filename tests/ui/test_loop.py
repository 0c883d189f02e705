"""The desktop's asyncio loop (``ui.loop.EventLoop``): a socket that becomes readable is served
in the same turn of Qt's loop, before callbacks queued earlier — the softphone's INVITE does not
wait behind the previous call's deferred work (issue 17). qasync's own loop queues it last.

In a fresh interpreter: one qasync loop per QApplication."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import asyncio, json, socket
from ui.qt import QApplication
app = QApplication([])
from ui.loop import EventLoop
loop = EventLoop(app)
asyncio.set_event_loop(loop)
order, errors = [], []
loop.set_exception_handler(lambda _loop, context: errors.append(str(context.get("exception"))))
a, b = socket.socketpair()

def readable(tag):
    order.append(tag)
    data = a.recv(100)
    if data == b"boom":
        raise ValueError("boom")
    if data == b"bye":
        loop.remove_reader(a)

async def main():
    loop.add_reader(a, readable, "first reader")
    loop.add_reader(a, readable, "socket")  # replaces the first one
    await asyncio.sleep(0.05)
    b.send(b"x")
    for n in range(3):
        loop.call_soon(order.append, f"queued {n}")
    while len(order) < 4:
        await asyncio.sleep(0.01)
    b.send(b"boom")  # an exception goes to the loop's handler; the reader stays
    while len(order) < 5:
        await asyncio.sleep(0.01)
    b.send(b"bye")
    while len(order) < 6:
        await asyncio.sleep(0.01)
    b.send(b"after")  # removed: not called again
    await asyncio.sleep(0.1)
    print(json.dumps({"order": order, "errors": errors}))

with loop:
    loop.run_until_complete(main())
"""


def test_a_readable_socket_is_served_before_callbacks_queued_earlier() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["order"] == ["socket", "queued 0", "queued 1", "queued 2", "socket", "socket"]
    assert result["errors"] == ["boom"]
