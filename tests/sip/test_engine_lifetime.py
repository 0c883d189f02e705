"""pjsua2 objects released late or in the wrong thread must not abort the process (B5, IN1).

A player, a recorder or a call proxy still referenced when the softphone stops (a cycle, a
traceback's frames, a leftover attribute) is destroyed whenever Python lets it go — at a garbage
collection in the middle of something else, possibly while the next softphone runs. Its C++
destructor then asks pjsua for a slot that is gone and pjlib's assertion aborts the whole process
(``pjsua_player_destroy: Assertion 'pjsua_var.player[id].port != NULL' failed``). Each scenario
runs in its own process: before the fix it died with SIGABRT.

The same abort came from a library-bound object whose last reference went in a thread pjlib does
not know (an HTTP server's thread, a sync worker — or the garbage collector run there finding a
call in a reference cycle): ``pj_thread_this: Assertion '!"Calling pjlib from unknown/external
thread..."'``. Such objects are now destroyed on the engine's thread at its next poll.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import gc, socket, sys, threading, wave
    from pathlib import Path

    from providers.sip import pjengine
    from providers.sip.options import SipOptions

    tmp = Path(sys.argv[1])
    with wave.open(str(tmp / "tone.wav"), "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000); w.writeframes(bytes(16000))

    class Listener:
        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    def options():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        audio = {"mode": "files", "play_file": str(tmp / "tone.wav"), "record_dir": str(tmp)}
        return SipOptions.parse({"listen_host": "127.0.0.1", "listen_port": port, "audio": audio})

    engine = pjengine.PjEngine()
    engine.start(options(), Listener())
    if sys.argv[2] == "thread":  # the last references go in threads pjlib does not know
        account = next(iter(engine._accounts.values()))
        call = pjengine._Call(engine, account, "stray")
        call.makeCall("sip:nobody@127.0.0.1:9", pjengine.pj.CallOpParam(True))
        for _ in range(5):
            engine.poll()
        assert call.isActive()
        recorder = pjengine._Recorder()
        recorder.createRecorder(str(tmp / "stray.wav"))
        loop = {"call": call}
        loop["self"] = loop  # only a collector frees the call: the one run in the thread
        box = [recorder]
        del call, recorder, loop
        def let_go():
            box.clear()
            gc.collect()
        worker = threading.Thread(target=let_go)
        worker.start()
        worker.join()
        for _ in range(5):
            engine.poll()  # destroys them here
        assert not pjengine._strays
        engine.destroy()
        print("alive")
        sys.exit(0)
    kept = [engine._player, pjengine.pj.AudioMediaRecorder()]
    kept[1].createRecorder(str(tmp / "kept.wav"))
    cycle = {"kept": kept}
    cycle["self"] = cycle  # only the cyclic collector frees it
    del kept
    engine.destroy()
    if sys.argv[2] == "next":  # a new softphone runs when the leftovers go
        engine = pjengine.PjEngine()
        engine.start(options(), Listener())
        del cycle
        gc.collect()
        engine.destroy()
    else:
        del cycle
        gc.collect()
    print("alive")
    """
)


@pytest.mark.parametrize("when", ["after", "next", "thread"])
def test_leftover_player_and_recorder_do_not_abort_the_process(tmp_path: Path, when: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), when],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "alive"), done.stderr[-2000:]
