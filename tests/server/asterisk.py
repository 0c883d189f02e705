"""A real Asterisk 22 on loopback for the server's PBX tests, and sipp phones that call through it.

The Asterisk is the one ``scripts/build-asterisk`` builds and caches (``scripts/setup --test`` runs
it); without a matching build the tests that need it are skipped, saying so. It runs with its own
configuration in a temporary folder — never the system's — on free 127.0.0.1 ports: AMI (TCP) and
chan_pjsip (UDP), with the call records switched on as for the recorded reference
(``cdr_csv`` with ``usegmtime``/``loguniqueid``, ``cdr_custom`` with linkedid, ``cel_custom``).

Phones 1001 Alice, 1002 Bob, 1003 Carol are chan_pjsip endpoints without authentication whose
contact is a fixed loopback port each: a sipp that answers (:meth:`Asterisk.phone`) plays the
phone that is rung, a sipp that calls (:meth:`Asterisk.call`) the phone that dials. The dialplan is
the reference's: ``internal`` 1001–1003 ``Dial(PJSIP/…,30)``, queue 7300 ``support-local`` (ring-all,
members ``Local/100N@queue-members/n``, the caller answered before ``Queue()``), and queue 7301
``sales-local`` with Carol alone (``Local/1003@queue-members/n``).
"""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.sip.peers import HOST, Process, free_port, free_port_range, have

ROOT = Path(__file__).resolve().parents[2]
PHONES = {"1001": "Alice", "1002": "Bob", "1003": "Carol"}


def build() -> Path | None:
    """The cached Asterisk build that matches ``scripts/build-asterisk`` (None if there is none)."""
    env = dict(os.environ)
    if os.environ.get("CALLSYS_ASTERISK_CACHE_DIR"):  # the real cache, not the tests' own (conftest)
        env["CALLSYS_CACHE_DIR"] = os.environ["CALLSYS_ASTERISK_CACHE_DIR"]
    try:
        out = subprocess.run(
            [str(ROOT / "scripts" / "build-asterisk"), "--print"],
            env=env,
            capture_output=True,
            check=False,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0 or not out.stdout.strip():
        return None
    prefix = Path(out.stdout.strip().splitlines()[-1])
    return prefix if (prefix / "sbin" / "asterisk").exists() else None


def require() -> Path:
    prefix = build()
    if prefix is None:
        pytest.skip("no Asterisk build: run scripts/build-asterisk (scripts/setup --test does)")
    if not have("sipp"):
        pytest.skip("sipp is not installed (scripts/setup --test installs it)")
    return prefix


AMI_USER, AMI_SECRET = "callsys", "callsys"  # the e2e rig gives the server this secret

CDR_CUSTOM = (
    "${CSV_QUOTE(${CDR(clid)})},${CSV_QUOTE(${CDR(src)})},${CSV_QUOTE(${CDR(dst)})},"
    "${CSV_QUOTE(${CDR(dcontext)})},${CSV_QUOTE(${CDR(channel)})},${CSV_QUOTE(${CDR(dstchannel)})},"
    "${CSV_QUOTE(${CDR(lastapp)})},${CSV_QUOTE(${CDR(lastdata)})},${CSV_QUOTE(${CDR(start)})},"
    "${CSV_QUOTE(${CDR(answer)})},${CSV_QUOTE(${CDR(end)})},${CSV_QUOTE(${CDR(duration)})},"
    "${CSV_QUOTE(${CDR(billsec)})},${CSV_QUOTE(${CDR(disposition)})},${CSV_QUOTE(${CDR(amaflags)})},"
    "${CSV_QUOTE(${CDR(accountcode)})},${CSV_QUOTE(${CDR(uniqueid)})},${CSV_QUOTE(${CDR(linkedid)})},"
    "${CSV_QUOTE(${CDR(userfield)})},${CDR(sequence)},${CSV_QUOTE(${CDR(peeraccount)})}"
)
CEL_CUSTOM = (
    "${CSV_QUOTE(${eventtype})},${CSV_QUOTE(${eventtime})},${CSV_QUOTE(${CALLERID(name)})},"
    "${CSV_QUOTE(${CALLERID(num)})},${CSV_QUOTE(${CALLERID(ANI)})},${CSV_QUOTE(${CALLERID(RDNIS)})},"
    "${CSV_QUOTE(${CALLERID(DNID)})},${CSV_QUOTE(${CHANNEL(exten)})},${CSV_QUOTE(${CHANNEL(context)})},"
    "${CSV_QUOTE(${CHANNEL(channame)})},${CSV_QUOTE(${CHANNEL(appname)})},"
    "${CSV_QUOTE(${CHANNEL(appdata)})},${CSV_QUOTE(${CHANNEL(amaflags)})},"
    "${CSV_QUOTE(${CHANNEL(accountcode)})},${CSV_QUOTE(${CHANNEL(uniqueid)})},"
    "${CSV_QUOTE(${CHANNEL(linkedid)})},${CSV_QUOTE(${BRIDGEPEER})},${CSV_QUOTE(${CHANNEL(userfield)})},"
    "${CSV_QUOTE(${userdeftype})},${CSV_QUOTE(${eventextra})}"
)

# Modules: only what the tests use (a quicker start than autoload, and no listener but ours).
MODULES = """[modules]
autoload = no
load => res_pjproject.so
load => res_sorcery_astdb.so
load => res_sorcery_config.so
load => res_sorcery_memory.so
load => res_sorcery_realtime.so
load => res_sorcery_memory_cache.so
load => res_timing_timerfd.so
load => res_rtp_asterisk.so
load => res_musiconhold.so
load => res_pjsip.so
load => res_pjsip_session.so
load => res_pjsip_authenticator_digest.so
load => res_pjsip_endpoint_identifier_user.so
load => res_pjsip_endpoint_identifier_ip.so
load => res_pjsip_sdp_rtp.so
load => res_pjsip_caller_id.so
load => res_pjsip_dtmf_info.so
load => res_pjsip_refer.so
load => res_pjsip_pubsub.so
load => res_pjsip_nat.so
load => res_pjsip_diversion.so
load => res_pjsip_rfc3326.so
load => res_pjsip_logger.so
load => chan_pjsip.so
load => func_pjsip_endpoint.so
load => pbx_config.so
load => app_dial.so
load => app_queue.so
load => app_echo.so
load => app_playback.so
load => app_transfer.so
load => app_stack.so
load => func_callerid.so
load => func_channel.so
load => func_strings.so
load => func_cdr.so
load => func_logic.so
load => bridge_simple.so
load => bridge_native_rtp.so
load => bridge_softmix.so
load => bridge_holding.so
load => res_format_attr_opus.so
load => codec_ulaw.so
load => codec_alaw.so
load => format_pcm.so
load => format_wav.so
load => res_cdrel_custom.so
load => cdr_csv.so
load => cdr_custom.so
load => cel_custom.so
load => res_manager_devicestate.so
load => res_manager_presencestate.so
"""


@dataclass
class Call:
    """A sipp caller: ``wait()`` until it has hung up (or failed)."""

    proc: Process

    def wait(self, timeout: float = 60.0) -> int:
        try:
            return self.proc.proc.wait(timeout)
        finally:
            self.proc.stop()

    def log(self) -> str:
        path = self.proc.log_path
        return path.read_text(errors="replace") if path.exists() else ""


class Asterisk:
    """One Asterisk process (start, stop, start again on the same ports and files)."""

    def __init__(self, prefix: Path, rundir: Path) -> None:
        self.prefix = prefix
        self.dir = rundir
        self.ami_port = free_port()
        self.sip_port = free_port()
        self.rtp_base = free_port_range(200)
        self.phone_ports = {ext: free_port() for ext in PHONES}
        self.etc = rundir / "etc"
        self.logs = rundir / "log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._out: object = None
        self._sipp: list[Process] = []
        self._configure()

    # ------------------------------------------------------------------ configuration
    def _configure(self) -> None:
        for sub in ("etc", "log", "log/cdr-csv", "log/cdr-custom", "log/cel-custom", "lib", "spool", "run"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        d = self.dir
        files = {
            "asterisk.conf": f"""[directories]
astetcdir => {d}/etc
astmoddir => {self.prefix}/lib/asterisk/modules
astvarlibdir => {d}/lib
astdbdir => {d}/lib
astkeydir => {d}/lib
astdatadir => {self.prefix}/var/lib/asterisk
astagidir => {d}/lib/agi-bin
astspooldir => {d}/spool
astrundir => {d}/run
astlogdir => {d}/log
astsbindir => {self.prefix}/sbin
[options]
cache_media_frames = yes
transmit_silence = no
""",
            "modules.conf": MODULES,
            "logger.conf": "[general]\n[logfiles]\nmessages.log => notice,warning,error,verbose(3)\n",
            "manager.conf": self._manager(True),
            "pjsip.conf": self._pjsip(),
            "rtp.conf": f"[general]\nrtpstart={self.rtp_base}\nrtpend={self.rtp_base + 199}\n",
            "extensions.conf": EXTENSIONS,
            "queues.conf": QUEUES,
            "musiconhold.conf": "[default]\nmode = files\ndirectory = moh\n",
            "cdr.conf": "[general]\nenable = yes\n\n[csv]\nusegmtime = yes\nloguniqueid = yes\n"
            "loguserfield = yes\naccountlogs = no\n",
            "cdr_custom.conf": f"[mappings]\nMaster.csv => {CDR_CUSTOM}\n",
            "cel.conf": "[general]\nenable = yes\napps = all\nevents = ALL\ndateformat = %F %T\n",
            "cel_custom.conf": f"[mappings]\nMaster.csv => {CEL_CUSTOM}\n",
        }
        for name, text in files.items():
            (self.etc / name).write_text(text, encoding="utf-8")

    def _manager(self, enabled: bool) -> str:
        return f"""[general]
enabled = {"yes" if enabled else "no"}
port = {self.ami_port}
bindaddr = {HOST}
timestampevents = yes

[{AMI_USER}]
secret = {AMI_SECRET}
read = all
write = originate,call,reporting,system
"""

    def _pjsip(self) -> str:
        out = [
            f"[udp]\ntype = transport\nprotocol = udp\nbind = {HOST}:{self.sip_port}\n",
        ]
        for ext, name in PHONES.items():
            out.append(
                f"""[{ext}]
type = endpoint
context = internal
disallow = all
allow = ulaw,alaw
aors = {ext}
callerid = "{name}" <{ext}>
direct_media = no
rtp_symmetric = yes

[{ext}]
type = aor
contact = sip:{ext}@{HOST}:{self.phone_ports[ext]}
max_contacts = 1
"""
            )
        return "\n".join(out)

    @property
    def conf(self) -> Path:
        return self.etc / "asterisk.conf"

    @property
    def cdr_csv(self) -> Path:
        return self.logs / "cdr-csv" / "Master.csv"

    @property
    def cdr_custom(self) -> Path:
        return self.logs / "cdr-custom" / "Master.csv"

    @property
    def cel(self) -> Path:
        return self.logs / "cel-custom" / "Master.csv"

    def ami_options(self, **more: object) -> dict[str, object]:
        """The AMI provider's options for this PBX (the secret too: tests pass it in options)."""
        return {
            "host": HOST,
            "port": self.ami_port,
            "username": AMI_USER,
            "secret": AMI_SECRET,
            "technology": "PJSIP",
            "context": "internal",
            **more,
        }

    # ------------------------------------------------------------------ process
    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = str(self.prefix / "lib")
        env["TZ"] = "UTC"  # cdr_custom and CEL write the PBX's local time; the server expects UTC
        return env

    def start(self, timeout: float = 60.0, *, ami: bool = True) -> Asterisk:
        """Start it and wait until it has fully booted; without *ami* its manager interface stays
        closed until :meth:`open_ami` (the PBX is back, its AMI not yet)."""
        assert self.proc is None or self.proc.poll() is not None
        (self.etc / "manager.conf").write_text(self._manager(ami), encoding="utf-8")
        out = (self.logs / "console.log").open("ab")
        self._out = out
        self.proc = subprocess.Popen(
            [str(self.prefix / "sbin" / "asterisk"), "-f", "-n", "-q", "-C", str(self.conf)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=self._env(),
            cwd=self.dir,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"asterisk exited ({self.proc.returncode}): {self.log()[-3000:]}")
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                if "fully booted" in self.cli("core waitfullybooted", timeout=20).lower():
                    return self
            if time.monotonic() > deadline:
                raise RuntimeError(f"asterisk did not boot: {self.log()[-3000:]}")
            time.sleep(0.1)

    def cli(self, command: str, timeout: float = 20.0) -> str:
        """One CLI command over the control socket (``asterisk -rx``)."""
        if not (self.dir / "run" / "asterisk.ctl").exists():
            raise RuntimeError("no control socket yet")
        out = subprocess.run(
            [str(self.prefix / "sbin" / "asterisk"), "-C", str(self.conf), "-rx", command],
            capture_output=True,
            check=False,
            env=self._env(),
            timeout=timeout,
            cwd=self.dir,
        )
        if out.returncode != 0:
            raise RuntimeError(out.stderr.decode(errors="replace"))
        return out.stdout.decode(errors="replace")

    def open_ami(self) -> None:
        (self.etc / "manager.conf").write_text(self._manager(True), encoding="utf-8")
        self.cli("manager reload")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 30.0) -> None:
        """Stop it (SIGTERM: Asterisk hangs up every channel, writes their records and exits);
        SIGKILL if it does not go."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self._out is not None:
            self._out.close()  # type: ignore[attr-defined]
            self._out = None

    def close(self) -> None:
        for p in self._sipp:
            p.stop()
        self._sipp.clear()
        self.stop()

    def log(self) -> str:
        parts = []
        for name in ("console.log", "messages.log"):
            path = self.logs / name
            if path.exists():
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)

    def channels(self) -> int:
        """How many channels the PBX has now."""
        text = self.cli("core show channels count")
        for line in text.splitlines():
            if "active channel" in line:
                return int(line.split()[0])
        raise RuntimeError(text)

    # ------------------------------------------------------------------ records
    def cdr_rows(self) -> list[list[str]]:
        if not self.cdr_csv.exists():
            return []
        return list(csv.reader(self.cdr_csv.read_text(encoding="utf-8").splitlines()))

    def cel_rows(self) -> list[list[str]]:
        if not self.cel.exists():
            return []
        return list(csv.reader(self.cel.read_text(encoding="utf-8").splitlines()))

    def calls_over(self) -> bool:
        """No channel left and every linkedid in CEL has its LINKEDID_END (all records written)."""
        rows = self.cel_rows()
        ids = {r[15] for r in rows}
        ended = {r[15] for r in rows if r[0] == "LINKEDID_END"}
        return bool(rows) and ids == ended and self.channels() == 0

    # ------------------------------------------------------------------ phones (sipp)
    def _scenario(self, name: str, text: str) -> Path:
        path = self.dir / f"{name}.xml"
        path.write_text(text, encoding="utf-8")
        return path

    def phone(self, ext: str, *, ring_ms: int = 1000, calls: int = 1, answer: bool = True) -> Process:
        """Phone *ext*: a sipp that rings *ring_ms*, then answers (or, without *answer*, rings until
        the caller gives up) and waits for the BYE; *calls* times."""
        text = UAS_ANSWER if answer else UAS_RING
        scenario = self._scenario(f"uas_{ext}_{len(self._sipp)}", text.replace("@RING_MS@", str(ring_ms)))
        rtp = free_port_range(4)
        proc = Process(
            ["sipp", "-i", HOST, "-p", str(self.phone_ports[ext]), "-mp", str(rtp), "-sf", str(scenario),
             "-m", str(calls), "-nostdin", "-timeout", "120s", "-timeout_error", "-trace_err",
             "-error_file", str(self.dir / f"uas_{ext}.err")],
            self.dir,
            f"uas_{ext}.log",
        )  # fmt: skip
        self._sipp.append(proc)
        return proc

    def call(self, caller: str, to: str, *, talk_ms: int = 2000, give_up_ms: int | None = None) -> Call:
        """Phone *caller* dials *to* through the PBX; once answered it talks *talk_ms* and hangs up
        (BYE) — or, with *give_up_ms*, it hangs up while it rings (CANCEL). ``.wait()`` for it."""
        if give_up_ms is None:
            text = UAC_CALL.replace("@TALK_MS@", str(talk_ms))
        else:
            text = UAC_CANCEL.replace("@RING_MS@", str(give_up_ms))
        scenario = self._scenario(f"uac_{caller}_{len(self._sipp)}", text)
        rtp = free_port_range(4)
        proc = Process(
            ["sipp", f"{HOST}:{self.sip_port}", "-i", HOST, "-p", str(free_port()), "-mp", str(rtp),
             "-sf", str(scenario), "-m", "1", "-s", to, "-key", "caller", caller, "-nostdin",
             "-timeout", "120s", "-timeout_error", "-trace_err",
             "-error_file", str(self.dir / f"uac_{caller}.err")],
            self.dir,
            f"uac_{caller}_{len(self._sipp)}.log",
        )  # fmt: skip
        self._sipp.append(proc)
        return Call(proc)


EXTENSIONS = """[general]
static = yes
writeprotect = yes

[internal]
exten => _100X,1,NoOp(internal call to ${EXTEN})
 same => n,Dial(PJSIP/${EXTEN},30)
 same => n,Hangup()

exten => 7300,1,NoOp(queue support-local)
 same => n,Answer()
 same => n,Queue(support-local,t,,,60)
 same => n,Hangup()

exten => 7301,1,NoOp(queue sales-local: Carol alone)
 same => n,Answer()
 same => n,Queue(sales-local,t,,,60)
 same => n,Hangup()

[queue-members]
exten => _100X,1,Dial(PJSIP/${EXTEN},30,t)
 same => n,Hangup()
"""

QUEUES = """[general]
persistentmembers = no

[support-local]
strategy = ringall
timeout = 15
retry = 1
wrapuptime = 0
ringinuse = no
joinempty = yes
leavewhenempty = no
member => Local/1001@queue-members/n,0,Alice,PJSIP/1001
member => Local/1003@queue-members/n,0,Carol,PJSIP/1003

[sales-local]
strategy = ringall
timeout = 15
retry = 1
ringinuse = no
joinempty = yes
member => Local/1003@queue-members/n,0,Carol,PJSIP/1003
"""

_SDP = """v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
"""

UAS_ANSWER = f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="phone: ring, answer, wait for the BYE">
  <recv request="INVITE" crlf="true"/>
  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Length: 0

  ]]></send>
  <pause milliseconds="@RING_MS@"/>
  <send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

{_SDP}
  ]]></send>
  <recv request="ACK" optional="true" rtd="true" crlf="true"/>
  <recv request="BYE"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

  ]]></send>
  <timewait milliseconds="500"/>
</scenario>
"""

UAS_RING = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="phone: ring until the caller gives up (CANCEL)">
  <recv request="INVITE" crlf="true"/>
  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Length: 0

  ]]></send>
  <recv request="CANCEL"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

  ]]></send>
  <send><![CDATA[
SIP/2.0 487 Request Terminated
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: [cseq] INVITE
Content-Length: 0

  ]]></send>
  <recv request="ACK"/>
  <timewait milliseconds="500"/>
</scenario>
"""

UAC_CALL = f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="phone: dial, talk, hang up">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:[caller]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

{_SDP}
  ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: <sip:[caller]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

  ]]></send>
  <pause milliseconds="@TALK_MS@"/>
  <send retrans="500"><![CDATA[
BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 BYE
Contact: <sip:[caller]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

  ]]></send>
  <recv response="200" crlf="true"/>
</scenario>
"""

UAC_CANCEL = f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="phone: dial, give up while it rings">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:[caller]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

{_SDP}
  ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180"/>
  <pause milliseconds="@RING_MS@"/>
  <send><![CDATA[
CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 CANCEL
Max-Forwards: 70
Content-Length: 0

  ]]></send>
  <recv response="200"/>
  <recv response="487"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

  ]]></send>
  <timewait milliseconds="300"/>
</scenario>
"""
