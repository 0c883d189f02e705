"""Real SIP peers for the softphone tests: kamailio, baresip and sipp from Debian's packages.

Each peer runs on free 127.0.0.1 ports in its own temporary directory and is stopped by its
PID. Nothing here ever addresses anything but 127.0.0.1, and the kamailio relay refuses 5060.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np

HOST = "127.0.0.1"

MALFORMED_DIR = Path(__file__).resolve().parent / "sipp_malformed"


def have(*programs: str) -> bool:
    return all(shutil.which(p) for p in programs)


def free_port(tcp_too: bool = True, pair: bool = False) -> int:
    """A port free for UDP (and TCP) on 127.0.0.1, never 5060; with *pair* port + 1 too
    (baresip listens for TLS on the SIP port + 1)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((HOST, 0))
            port = int(udp.getsockname()[1])
            if port in (5060, 5059) or port >= 65535:
                continue
            try:
                for p in (port, port + 1) if pair else (port,):
                    if tcp_too:
                        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                            tcp.bind((HOST, p))
                    if p != port:
                        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp2:
                            udp2.bind((HOST, p))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def free_port_range(count: int) -> int:
    """The first of *count* consecutive UDP ports that are free right now (RTP ranges)."""
    for _ in range(200):
        base = random.randrange(20000, 60000 - count, 2)
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind((HOST, p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port range")


class Process:
    """A peer process we started; stopped by PID (SIGTERM, then SIGKILL)."""

    def __init__(self, argv: list[str], cwd: Path, log_name: str) -> None:
        self.argv = argv
        self.log_path = cwd / log_name
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout / 2)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.proc.pid, signal.SIGTERM)  # baresip: a second TERM ends it
                try:
                    self.proc.wait(timeout / 2)
                except subprocess.TimeoutExpired:
                    os.kill(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(5)
        self._log.close()


def wait_udp_listening(port: int, timeout: float = 5.0) -> None:
    """Wait until something holds UDP *port* on 127.0.0.1 (bind fails)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind((HOST, port))
            except OSError:
                return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on udp {port}")


def wait_tcp_listening(port: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            if s.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on tcp {port}")


# ---------------------------------------------------------------------------------- kamailio
KAMAILIO_CFG = r"""#!KAMAILIO
# Test registrar/proxy on loopback (adapted from shared/reference/peers/kamailio).
# REGISTER: 401 + qop. INVITE from 1001: 401 + qop; INVITE from anyone else: 407 + qop.
debug=2
log_stderror=yes
fork=yes
children=2
tcp_children=2
listen=udp:127.0.0.1:@PORT@
listen=tcp:127.0.0.1:@PORT@
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "auth.so"
modparam("usrloc", "db_mode", 0)
modparam("registrar", "max_expires", 3600)
modparam("registrar", "min_expires", 10)
modparam("tm", "fr_timer", 5000)
modparam("tm", "fr_inv_timer", 60000)

request_route {
    xlog("L_INFO", "REQ $rm $ru from $si:$sp ci=$ci\n");
    if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
    if (!sanity_check("1511", "7")) { exit; }
    if (is_method("OPTIONS") && uri==myself && $rU==$null) { sl_send_reply("200", "OK"); exit; }
    if (is_method("CANCEL")) { if (t_check_trans()) route(RELAY); exit; }
    if (has_totag()) {
        # in-dialog requests follow the Record-Route back through us: that reuses the TCP
        # connection a TCP client registered over (its Contact port is not listening)
        if (loose_route()) route(RELAY);
        if (is_method("ACK") && !t_check_trans() && !route(ISLOCAL)) route(RELAY);
        if (route(ISLOCAL) && $rU!=$null) {
            if (!lookup("location")) { if (is_method("ACK")) exit; sl_send_reply("404", "Not Found"); exit; }
        }
        route(RELAY);
    }
    t_check_trans();
    if ($fU == "1001") $var(pw) = "secret1001";
    else if ($fU == "1002") $var(pw) = "secret1002";
    else if ($fU == "1003") $var(pw) = "secret1003";
    else if ($fU == "1004") $var(pw) = "secret1004";
    else $var(pw) = "";
    # flags of the *_challenge functions: 1 = qop=auth
    $var(qop) = 1;
    if (is_method("REGISTER") || (is_method("INVITE") && $fU == "1001")) {
        $var(rc) = pv_www_authenticate("$fd", "$var(pw)", "0");
        if ($var(rc) < 0) { xlog("L_INFO", "CHALLENGE 401 qop $rm $fU\n"); www_challenge("$fd", "$var(qop)"); exit; }
        consume_credentials();
    } else if (is_method("INVITE|REFER")) {
        $var(rc) = pv_proxy_authenticate("$fd", "$var(pw)", "0");
        if ($var(rc) < 0) { xlog("L_INFO", "CHALLENGE 407 qop $rm $fU\n"); proxy_challenge("$fd", "$var(qop)"); exit; }
        consume_credentials();
    }
    if (is_method("REGISTER")) { if (!save("location")) sl_reply_error(); exit; }
    if (route(ISLOCAL)) { if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; } }
    if (is_method("INVITE|SUBSCRIBE|REFER")) record_route();
    route(RELAY);
}

route[ISLOCAL] {
    if ($rd == "127.0.0.1" && ($rp == "@PORT@" || $rp == "")) return 1;
    return -1;
}

route[RELAY] {
    if ($nh(p) == "5060" || $nh(p) == "") {
        xlog("L_WARN", "refusing to relay to $nh(u)\n");
        sl_send_reply("404", "Not Found (no relay to 5060)"); exit;
    }
    if (!t_relay()) sl_reply_error();
    exit;
}
"""


class Kamailio:
    def __init__(self, rundir: Path, port: int | None = None) -> None:
        self.rundir = rundir
        self.port = port or free_port()
        self.cfg = rundir / "kamailio.cfg"
        self.cfg.write_text(KAMAILIO_CFG.replace("@PORT@", str(self.port)))
        self.proc: Process | None = None
        self.uri = f"sip:{HOST}:{self.port}"

    def start(self, same_port: bool = False) -> Kamailio:
        """Start kamailio; unless *same_port*, retry on fresh ports if ours was taken meanwhile."""
        for attempt in range(1 if same_port else 3):
            if attempt:
                self.port = free_port()
                self.uri = f"sip:{HOST}:{self.port}"
                self.cfg.write_text(KAMAILIO_CFG.replace("@PORT@", str(self.port)))
            self.proc = Process(
                ["kamailio", "-f", str(self.cfg), "-DD", "-E", "-m", "32", "-M", "4",
                 "-P", str(self.rundir / "kamailio.pid"), "-Y", str(self.rundir)],
                self.rundir, f"kamailio{attempt or ''}.log",
            )  # fmt: skip
            try:
                self._wait_answering()
                wait_tcp_listening(self.port)
                return self
            except TimeoutError:
                log = self.proc.log()
                self.proc.stop()
                self.proc = None
                if same_port or attempt == 2:
                    raise RuntimeError("kamailio did not start:\n" + log) from None
        raise AssertionError("unreachable")

    def _wait_answering(self, timeout: float = 8.0) -> None:
        """Until *our* kamailio answers an OPTIONS on its UDP port (not just "port in use")."""
        deadline = time.monotonic() + timeout
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((HOST, 0))
            sock.settimeout(0.1)
            local = sock.getsockname()[1]
            n = 0
            while time.monotonic() < deadline:
                assert self.proc is not None
                if not self.proc.alive():
                    break
                n += 1
                msg = (
                    f"OPTIONS sip:{HOST}:{self.port} SIP/2.0\r\n"
                    f"Via: SIP/2.0/UDP {HOST}:{local};branch=z9hG4bKprobe{n}{os.getpid()}\r\n"
                    f"From: <sip:probe@{HOST}>;tag=p{n}\r\nTo: <sip:{HOST}:{self.port}>\r\n"
                    f"Call-ID: probe-{n}-{os.getpid()}\r\nCSeq: {n} OPTIONS\r\nMax-Forwards: 70\r\n"
                    "Content-Length: 0\r\n\r\n"
                )
                sock.sendto(msg.encode(), (HOST, self.port))
                try:
                    data = sock.recv(4096)
                except OSError:
                    continue
                if data.startswith(b"SIP/2.0 200") and b"kamailio" in data.lower():
                    return
        raise TimeoutError("kamailio does not answer")

    def log(self) -> str:
        return self.proc.log() if self.proc is not None else ""

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None


# ---------------------------------------------------------------------------------- baresip
def make_tone(path: Path, freq: int, seconds: float = 120.0) -> Path:
    subprocess.run(
        [
            "sox",
            "-n",
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            str(path),
            "synth",
            str(seconds),
            "sine",
            str(freq),
            "vol",
            "0.5",
        ],
        check=True,
    )
    return path


class Baresip:
    """baresip as the far-end phone, driven over ctrl_tcp (netstring JSON)."""

    def __init__(
        self, rundir: Path, accounts: list[str], tone_hz: int = 1000, modules: tuple[str, ...] = ()
    ) -> None:
        """*modules*: more baresip modules to load, e.g. ``("srtp",)`` for ``mediaenc=srtp…``."""
        self.modules = modules
        self.dir = rundir / "baresip"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.rec = self.dir / "rec"
        self.rec.mkdir(exist_ok=True)
        self.tone = make_tone(self.dir / f"tone{tone_hz}.wav", tone_hz)
        self.tone_hz = tone_hz
        (self.dir / "accounts").write_text("\n".join(accounts) + "\n")
        (self.dir / "contacts").write_text("")
        self.proc: Process | None = None
        self.events: list[dict[str, Any]] = []
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._responses: dict[str, dict[str, Any]] = {}
        self._token = 0
        self._configure()

    def _configure(self) -> None:
        """Pick free ports and write baresip's config (again, when a port was taken meanwhile)."""
        self.sip_port = free_port(pair=True)
        self.ctrl_port = free_port()
        rtp = free_port_range(40)
        tone = self.tone
        extra = "".join(f"module\t\t\t{name}.so\n" for name in self.modules)
        config = f"""poll_method		epoll
sip_listen		{HOST}:{self.sip_port}
sip_trans_def		udp
call_local_timeout	120
call_max_calls		8
audio_path		/usr/share/baresip
audio_player		aubridge,nodev
audio_source		aufile,{tone}
audio_alert		aubridge,nodev
ausrc_srate		8000
auplay_srate		8000
ausrc_channels		1
auplay_channels		1
rtp_ports		{rtp}-{rtp + 39}
rtp_timeout		0
module_path		/usr/lib/baresip/modules
module			g711.so
module			aufile.so
module			aubridge.so
module			sndfile.so
{extra}module_app		account.so
module_app		contact.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		{HOST}:{self.ctrl_port}
snd_path		{self.rec}
"""
        (self.dir / "config").write_text(config)

    @property
    def address(self) -> str:
        return f"{HOST}:{self.sip_port}"

    async def start(self) -> Baresip:
        """Start baresip; if a port was grabbed by someone else meanwhile, try fresh ports."""
        for attempt in range(3):
            self.proc = Process(["baresip", "-f", str(self.dir)], self.dir, f"baresip{attempt or ''}.log")
            deadline = time.monotonic() + 10
            while True:
                try:
                    self._reader, self._writer = await asyncio.open_connection(HOST, self.ctrl_port)
                    self._task = asyncio.get_running_loop().create_task(self._read_loop())
                    return self
                except OSError:
                    if time.monotonic() > deadline or not self.proc.alive():
                        break
                    await asyncio.sleep(0.05)
            log = self.proc.log()
            self.proc.stop()
            self.proc = None
            if "already in use" not in log or attempt == 2:
                raise RuntimeError("baresip did not start:\n" + log)
            self._configure()
        raise AssertionError("unreachable")

    async def _read_loop(self) -> None:
        assert self._reader is not None
        buf = b""
        while True:
            data = await self._reader.read(65536)
            if not data:
                return
            buf += data
            while b":" in buf:
                head, rest = buf.split(b":", 1)
                size = int(head)
                if len(rest) < size + 1:
                    break
                msg = json.loads(rest[:size])
                buf = rest[size + 1 :]
                if msg.get("event"):
                    self.events.append(msg)
                elif msg.get("response"):
                    self._responses[str(msg.get("token"))] = msg
                self._changed.set()

    async def cmd(self, command: str, params: str = "", timeout: float = 5.0) -> dict[str, Any]:
        assert self._writer is not None
        self._token += 1
        token = f"t{self._token}"
        body = json.dumps({"command": command, "params": params, "token": token}).encode()
        self._writer.write(b"%d:%s," % (len(body), body))
        await self._writer.drain()
        await self._wait(lambda: token in self._responses, timeout, f"response to {command}")
        return self._responses.pop(token)

    async def _wait(self, pred: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not pred():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"baresip: no {what} within {timeout} s; events: {self.events[-8:]}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def wait_event(
        self,
        type_: str,
        timeout: float = 10.0,
        since: int = 0,
        pred: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            for ev in self.events[since:]:
                if ev.get("type") == type_ and (pred is None or pred(ev)):
                    return ev
            return None

        await self._wait(lambda: find() is not None, timeout, f"event {type_}")
        found = find()
        assert found is not None
        return found

    async def registered(self, timeout: float = 10.0) -> None:
        """Wait until every account of baresip is registered (asks ``reginfo``)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            info = str((await self.cmd("reginfo")).get("data", ""))
            if "OK" in info and "ERR" not in info and "zzz" not in info:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"baresip did not register: {info}")
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.proc is not None:
            self.proc.stop()
            self.proc = None

    def recordings(self, suffix: str = "dec") -> list[Path]:
        return sorted(self.rec.glob(f"*{suffix}*.wav"), key=lambda p: p.stat().st_mtime)


@contextlib.asynccontextmanager
async def registered_far_end(rundir: Path, registrar: Kamailio) -> AsyncIterator[Baresip]:
    """baresip as 1002, registered to *registrar* over UDP, answering by itself (PCMU)."""
    peer = Baresip(
        rundir,
        [
            f'<sip:1002@127.0.0.1:{registrar.port}>;auth_pass=secret1002;outbound="{registrar.uri}";'
            "regint=300;answermode=auto;audio_codecs=PCMU"
        ],
    )
    try:
        await peer.start()
        await peer.registered()
        yield peer
    finally:
        await peer.stop()


# ---------------------------------------------------------------------------------- sipp
async def run_sipp(
    args: list[str], cwd: Path, timeout: float = 60.0, kill_after: bool = False
) -> tuple[int, str]:
    """Run sipp to completion; returns (exit status, output).

    sipp never exits when a scenario breaks its own call matching (no Call-ID, no From/To),
    even with ``-timeout``: with *kill_after* it is killed after *timeout* seconds and
    ``(-9, "")`` is returned (read its ``-trace_msg`` file instead)."""
    proc = await asyncio.create_subprocess_exec(
        "sipp",
        *args,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        if kill_after:
            return -9, ""
        raise
    return int(proc.returncode or 0), out.decode(errors="replace")


# ---------------------------------------------------------------------------------- audio
def read_wav(path: Path) -> tuple[np.ndarray[Any, Any], int]:
    with wave.open(str(path), "rb") as w:
        rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
        data = w.readframes(w.getnframes())
    assert width == 2, f"{path}: {width * 8}-bit audio"
    samples = np.frombuffer(data, dtype=np.int16)
    if channels > 1:
        samples = samples[::channels]
    return samples, rate


def peak_hz(samples: np.ndarray[Any, Any], rate: int) -> float:
    """Frequency of the strongest FFT bin (DC excluded)."""
    x = samples.astype(np.float64)
    if len(x) < 256 or not np.any(x):
        return 0.0
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    spectrum[:3] = 0
    return float(np.argmax(spectrum) * rate / len(x))


def has_tone(samples: np.ndarray[Any, Any], rate: int, hz: float, tolerance: float = 30.0) -> bool:
    """True when *hz* is the dominant frequency and the signal is not near-silence."""
    if len(samples) < 256 or float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) < 200:
        return False
    return abs(peak_hz(samples, rate) - hz) <= tolerance


class ToneTap:
    """Collects what each call receives (via ``Engine.set_audio_tap``) for tone checks.

    Frames arrive on pjmedia's clock thread; list.append is atomic, and readers copy.
    """

    def __init__(self) -> None:
        self.frames: dict[str, list[tuple[float, bytes]]] = {}

    def __call__(self, key: str, pcm: bytes) -> None:
        self.frames.setdefault(key, []).append((time.monotonic(), pcm))

    def recent(self, key: str, seconds: float) -> np.ndarray[Any, Any]:
        frames = list(self.frames.get(key, ()))
        now = time.monotonic()
        pcm = b"".join(p for t, p in frames if now - t <= seconds)
        return np.frombuffer(pcm, dtype=np.int16)

    def hearing(self, key: str, hz: float, seconds: float = 0.4) -> bool:
        return has_tone(self.recent(key, seconds), 8000, hz)

    def silent(self, key: str, seconds: float = 0.4) -> bool:
        samples = self.recent(key, seconds)
        # nothing received at all (frames stop) or only near-silence
        return len(samples) == 0 or float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) < 100


ROOT = Path(__file__).resolve().parents[2]


class Phone:
    """``callsys phone`` as a child process; its JSON lines are read all the time (a full pipe
    would block the phone and look like a hang)."""

    def __init__(self, proc: asyncio.subprocess.Process, port: int) -> None:
        self.proc, self.port = proc, port
        self.engine: dict[str, Any] = {}  # what the phone's engine build can do (its ready line)
        self.lines: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(
        cls, tmp_path: Path, engine: str = "", env: dict[str, str] | None = None, **extra: Any
    ) -> Phone:
        """*engine*: ``wheel`` or ``built`` (``CALLSYS_SIP_ENGINE``); "" = as this process is set.
        *env*: more environment variables for the phone."""
        from providers.sip.engines import ENGINE_ENV

        port = free_port()
        options = {
            "listen_host": HOST, "listen_port": port, "audio": {"mode": "none"},
            "log_file": str(tmp_path / "pjsip.log"), "log_level": 3, "ring_timeout": 0, **extra,
        }  # fmt: skip
        child_env = {**os.environ, **(env or {}), **({ENGINE_ENV: engine} if engine else {})}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "providers.sip.phone_cli", json.dumps(options), cwd=ROOT, env=child_env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        phone = cls(proc, port)
        phone.engine = (await phone.expect(event="ready")).get("engine", {})
        return phone

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            self.lines.append(json.loads(line))
            self._changed.set()
        self._changed.set()

    def alive(self) -> bool:
        """False as soon as the process has exited (a zombie counts as gone: asyncio notices
        the exit a little later)."""
        if self.proc.returncode is not None or self._reader.done():
            return False
        try:
            with open(f"/proc/{self.proc.pid}/stat") as stat:
                return stat.read().rpartition(")")[2].split()[0] not in ("Z", "X")
        except OSError:
            return True  # no /proc: trust asyncio

    def rss_kib(self, field: str = "VmRSS") -> int:
        """The phone's resident memory (``VmHWM``: its peak so far) in KiB, 0 once it is gone."""
        try:
            with open(f"/proc/{self.proc.pid}/status") as status:
                for line in status:
                    if line.startswith(field + ":"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    async def stderr(self) -> str:
        if self.proc.returncode is None or self.proc.stderr is None:
            return ""
        return (await self.proc.stderr.read()).decode(errors="replace")[-2000:]

    async def expect(self, since: int = 0, timeout: float = 15.0, **fields: Any) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for obj in self.lines[since:]:
                if all(obj.get(k) == v for k, v in fields.items()):
                    return obj
            if self._reader.done():
                await self.proc.wait()
                raise AssertionError(
                    f"the phone exited ({self.proc.returncode}) waiting for {fields}: {await self.stderr()}"
                )
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no line with {fields}; last: {self.lines[-5:]}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        await self.proc.stdin.drain()

    async def stop(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(Exception):
                await self.send("quit")
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader


def received(out: str, code: int) -> int:
    """How many *code* responses sipp counted (its final statistics screen)."""
    return sum(int(n) for n in re.findall(rf"^\s*{code}\s+<----------\s+(\d+)", out, re.M))


async def a_normal_call_is_answered(phone: Phone, tmp_path: Path, transport: str) -> None:
    mark = len(phone.lines)
    sipp = asyncio.create_task(
        run_sipp(
            [
                f"{HOST}:{phone.port}", "-sn", "uac", "-d", "200", "-m", "1", "-t", transport,
                "-i", HOST, "-p", str(free_port()), "-nostdin", "-timeout", "30s", "-recv_timeout", "8000",
            ],
            tmp_path,
        )
    )  # fmt: skip
    ring = await phone.expect(since=mark, event="incoming", remote_name="sipp")
    await phone.send(f"answer {ring['call']}")
    await phone.expect(since=mark, event="answered", call=ring["call"])
    status, out = await sipp
    assert status == 0, out
    ended = await phone.expect(since=mark, event="ended", call=ring["call"])
    assert ended["reason"] == "completed"


async def baresip_heard(phone, baresip: Baresip, size: int = 24000) -> None:  # type: ignore[no-untyped-def]
    """Keep the call up until baresip has written >= *size* bytes of what it decoded."""
    await phone.until(
        lambda: any(p.stat().st_size >= size for p in baresip.recordings("dec")), 15, "baresip recording"
    )


def assert_baresip_heard(baresip: Baresip, hz: float) -> None:
    samples, rate = read_wav(baresip.recordings("dec")[-1])
    assert has_tone(samples[rate // 2 :], rate, hz), "baresip did not hear our tone"


def _udp_taken(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return True
    return False


class PhoneProcess:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []

    @classmethod
    async def start(cls, options: dict[str, Any]) -> PhoneProcess:
        """``python -m providers.sip.phone_cli OPTIONS`` with its stdin and stdout piped."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "providers.sip.phone_cli", json.dumps(options), cwd=ROOT,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        return cls(proc)

    async def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        await self.proc.stdin.drain()

    async def expect(self, timeout: float = 10.0, **fields: Any) -> dict[str, Any]:
        """The next (or an already read) output line whose fields match."""
        assert self.proc.stdout is not None

        def match(obj: dict[str, Any]) -> bool:
            return all(obj.get(k) == v for k, v in fields.items())

        for i, obj in enumerate(self.lines):
            if match(obj):
                del self.lines[: i + 1]
                return obj
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no line with {fields}; got {self.raw[-10:]}")
            try:
                line = await asyncio.wait_for(self.proc.stdout.readline(), remaining)
            except TimeoutError:
                continue
            if not line:
                raise AssertionError(f"phone exited; output: {self.raw[-10:]}")
            text = line.decode()
            self.raw.append(text)
            obj = json.loads(text)  # every stdout line is JSON
            if match(obj):
                return obj
            self.lines.append(obj)
