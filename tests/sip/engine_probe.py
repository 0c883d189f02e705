"""A bare ``PjEngine`` whose listener gives every incoming call its final answer *inside*
``on_incoming`` (i.e. inside pjsua2's ``onIncomingCall``), as a future rule might.

    python -m tests.sip.engine_probe ACTION PORT     # ACTION: redirect | hangup | busy | answer

Prints ``ready`` once listening on 127.0.0.1:PORT, then polls until stdin closes. Run as a
subprocess by ``test_abort_peers.py``: before the engine queued such answers, a delayed-offer
INVITE aborted the process.
"""

from __future__ import annotations

import sys
import threading
import time

from providers.sip.engine import IncomingCall, Phase
from providers.sip.options import SipOptions
from providers.sip.pjengine import PjEngine

VOICEMAIL = "sip:vm@127.0.0.1"


class Listener:
    def __init__(self, engine: PjEngine, action: str) -> None:
        self.engine, self.action = engine, action

    def on_incoming(self, key: str, call: IncomingCall) -> None:
        if self.action == "redirect":
            self.engine.redirect(key, VOICEMAIL)
        elif self.action == "hangup":
            self.engine.hangup(key, 480)
        elif self.action == "busy":
            self.engine.hangup(key, 486)
        else:
            self.engine.answer(key, 200)
        print(f"incoming {key}", flush=True)

    def on_phase(self, key: str, phase: Phase, code: int, reason: str) -> None:
        print(f"phase {key} {phase.value} {code}", flush=True)

    def on_media(self, key: str, local_hold: bool, remote_hold: bool) -> None: ...

    def on_dtmf(self, key: str, digit: str) -> None: ...

    def on_transfer(self, key: str, code: int, final: bool) -> None: ...

    def on_registration(self, line_id: str, code: int, reason: str, registered: bool) -> None: ...


def main() -> None:
    action, port = sys.argv[1], int(sys.argv[2])
    engine = PjEngine()
    options = SipOptions.parse({"listen_host": "127.0.0.1", "listen_port": port, "audio": {"mode": "none"}})
    engine.start(options, Listener(engine, action))
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    print("ready", flush=True)
    while not done.is_set():
        engine.poll()
        time.sleep(0.005)
    engine.hangup_all()
    for _ in range(50):
        engine.poll()
        time.sleep(0.005)
    engine.destroy()


if __name__ == "__main__":
    main()
