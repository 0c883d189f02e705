"""The server reads numbers with the configured number plan — the PBX's caller IDs and the CRM's
phone columns — and keeps its phone index current, so a number moved to another contact is
logged against the new one.

In process, with the product's own parts: ``CallServer`` composed from settings, the AMI provider
against the replayed trunk capture (``06_trunk_did_7000``, its caller ID rewritten), and the
CRM logger (``activity_factory``: ActivityLogger, Outbox, DynamicsCrm and its phone index) over
HTTP against the contract-strict Dataverse fake."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from callsys.numbers import NumberPlan
from callsys.server.config import ServerConfig
from callsys.server.crm import OutboxActivities, activity_factory
from callsys.server.daemon import CallServer
from callsys.settings import Settings
from callsys.store import open_database
from providers import REGISTRY
from tests.ami.fakeami import FakeAmi, Session, Transcript
from tests.dataverse_fake import DataverseFake, FakeServer

# (numbers.region, the caller ID the trunk sends, as E.164, as the CRM user wrote it)
CALLERS = [
    ("DE", "01712345678", "+491712345678", "0171 2345678"),
    ("US", "(212) 555-0142", "+12125550142", "(212) 555-0142"),
    ("IR", "09123456789", "+989123456789", "0912 345 6789"),
]


def trunk_call(caller: str, n: int = 0) -> Session:
    """One AMI connection's life: the login, then the trunk call to DID 7000 from *caller*
    (answered by 1001), then a quiet PBX. *n* gives the call its own channel ids, so that the same
    capture can make a second, different call."""
    t = Transcript.load("06_trunk_did_7000")
    frames = [t.frames[0]]  # the login's answer; the capturing client's own Logoff answer is left out
    for captured in t.frames[1:]:
        if captured.startswith(b"Response:"):
            continue
        raw = captured.replace(b"0301234567", caller.encode())
        frames.append(
            raw.replace(b"1795627150.", f"17956272{n:02d}.".encode()).replace(b"-0000000", b"-000%03d" % n)
        )
    return Session(frames=frames, banner=t.banner, sent=t.sent, login_response=False, keep_open=True)


@dataclass
class Rig:
    tmp: Path
    fake: DataverseFake
    crm: FakeServer
    ami: FakeAmi
    servers: list[CallServer]

    async def start(self, region: str, **settings: Any) -> CallServer:
        values = {
            "numbers.region": region,
            "crm.backend": "dynamics",
            "crm.url": self.crm.url,
            "crm.auth": "env",
            "storage.database": str(self.tmp / "server.sqlite3"),
            "server.crm_retry_max_seconds": 1,
            "server.drain_seconds": 1,
            "server.branches": [
                {
                    "name": "hq",
                    "provider": "ami",
                    "options": {
                        "host": "127.0.0.1",
                        "port": self.ami.port,
                        "username": "callsys",
                        "technology": "SIP",
                        "context": "internal",
                        "backoff_initial": 0.05,
                        "backoff_max": 0.2,
                    },
                }
            ],
            **settings,
        }
        s = Settings(values)
        config = replace(ServerConfig.from_settings(s), port=0)
        server = CallServer(
            config,
            registry=REGISTRY,
            activity=activity_factory(s, open_database(s)),
            secret={"ami/hq": "callsys"}.get,
        )
        await server.start()
        self.servers.append(server)
        return server

    def phonecalls(self) -> list[dict[str, Any]]:
        """The activities that are closed and regard a record (the record may be set after the
        call ended, when the caller was found after the call was answered)."""
        with self.fake.lock:
            rows = self.fake.rows["phonecall"].values()
            return [dict(r) for r in rows if r.get("statecode") != 0 and r.get("_regardingobjectid_value")]


@pytest_asyncio.fixture
async def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Rig]:
    fake = DataverseFake()
    monkeypatch.setenv("CALLSYS_CRM_TOKEN", fake.issue_token())
    with fake.serve() as crm:
        async with FakeAmi() as ami:
            rig = Rig(tmp_path, fake, crm, ami, [])
            try:
                yield rig
            finally:
                for server in rig.servers:
                    await server.stop()


async def until(predicate: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError(f"{what} did not happen")
        await asyncio.sleep(0.05)


def writer(server: CallServer) -> OutboxActivities:
    assert isinstance(server.activity, OutboxActivities)
    return server.activity


async def next_call(rig: Rig, caller: str, n: int) -> dict[str, Any]:
    """Play one more trunk call (a new AMI connection: the current one is cut, the server comes
    back at once) and return its activity once it is closed in the CRM."""
    before = {r["activityid"] for r in rig.phonecalls()}
    rig.ami.add(trunk_call(caller, n))
    if rig.ami.conns:
        rig.ami.conns[-1].writer.close()
    await until(lambda: len(rig.phonecalls()) > len(before), f"call {n} logged")
    [logged] = [r for r in rig.phonecalls() if r["activityid"] not in before]
    return logged


@pytest.mark.asyncio
@pytest.mark.parametrize(("region", "caller", "e164", "written"), CALLERS)
async def test_a_national_caller_id_is_logged_in_e164_against_its_contact(
    rig: Rig, region: str, caller: str, e164: str, written: str
) -> None:
    erika = rig.fake.add("contact", {"firstname": "Erika", "lastname": "Mustermann", "telephone1": written})
    rig.ami.add(trunk_call(caller))
    server = await rig.start(region)
    await until(lambda: bool(rig.phonecalls()), "the call logged")
    [logged] = rig.phonecalls()
    assert logged["phonenumber"] == e164
    assert logged["_regardingobjectid_value"] == erika
    sync = writer(server).index_sync
    assert sync is not None and sync.index.plan.region == region  # the connector reads with the plan


@pytest.mark.asyncio
async def test_the_crm_connector_reads_the_crm_numbers_with_the_configured_plan(rig: Rig) -> None:
    """The phone index is filled with the configured plan: a contact whose number is written the
    American way, without a country code, is found for an American caller from the index alone
    (Dynamics unreachable). Read as Iranian, "212-555-0142" was no number anyone calls from."""
    ann = rig.fake.add("contact", {"firstname": "Ann", "lastname": "Lee", "mobilephone": "212-555-0142"})
    server = await rig.start("US")
    await until(lambda: writer(server).index_syncs >= 1, "the first index sync")
    rig.fake.inject(503, times=10_000)  # Dynamics is down from now on
    rig.ami.add(trunk_call("(212) 555-0142"))
    lookup = writer(server).lookup
    assert lookup is not None
    number = NumberPlan(region="US").parse("+12125550142")
    await until(lambda: lookup.cached(number) is not None, "the caller found")
    assert [m.party.id for m in lookup.cached(number) or []] == [ann]
    rig.fake.faults.clear()


@pytest.mark.asyncio
async def test_a_number_moved_to_another_contact_is_logged_against_the_new_one(rig: Rig) -> None:
    """The server's phone index follows the CRM (delta sync every crm.phone_index_sync_seconds)
    and forgets its cached answers after each sync: the next call from a number that moved to
    another contact is logged against that contact, not the old one forever."""
    old = rig.fake.add("contact", {"firstname": "Olaf", "lastname": "Alt", "telephone1": "0171 2345678"})
    new = rig.fake.add("contact", {"firstname": "Nina", "lastname": "Neu"})
    rig.ami.add(trunk_call("01712345678", 1))
    server = await rig.start("DE", **{"crm.phone_index_sync_seconds": 1})
    await until(lambda: bool(rig.phonecalls()), "the first call logged")
    assert rig.phonecalls()[0]["_regardingobjectid_value"] == old

    rig.fake.update("contact", old, {"telephone1": None})
    rig.fake.update("contact", new, {"mobilephone": "+49 171 2345678"})
    syncs = writer(server).index_syncs
    await until(
        lambda: writer(server).index_syncs >= syncs + 2, "a sync after the move"
    )  # not one begun before
    logged = await next_call(rig, "01712345678", 2)
    assert logged["_regardingobjectid_value"] == new


@pytest.mark.asyncio
async def test_an_online_answer_that_differs_from_the_index_replaces_it(rig: Rig) -> None:
    """Between two syncs the online confirmation of a ring corrects the index's answer: the next
    call from the moved number is logged against the new contact without waiting for the sync."""
    old = rig.fake.add("contact", {"firstname": "Olaf", "lastname": "Alt", "telephone1": "0171 2345678"})
    new = rig.fake.add("contact", {"firstname": "Nina", "lastname": "Neu"})
    server = await rig.start("DE", **{"crm.phone_index_sync_seconds": 3600})
    await until(lambda: writer(server).index_syncs >= 1, "the first index sync")
    rig.fake.update("contact", old, {"telephone1": None})
    rig.fake.update("contact", new, {"mobilephone": "+49 171 2345678"})

    await next_call(rig, "01712345678", 1)  # answered from the index at once; confirmed online
    lookup = writer(server).lookup
    assert lookup is not None
    number = NumberPlan(region="DE").parse("+491712345678")
    await until(lambda: [m.party.id for m in lookup.cached(number) or []] == [new], "the online confirmation")
    logged = await next_call(rig, "01712345678", 2)
    assert logged["_regardingobjectid_value"] == new
