"""The local phone index and its delta sync (B3, IN1): new, changed and deleted records,
expired change tokens, paging, and keys that agree with the ring side."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from callsys.crm.dynamics.client import DEFAULT_TABLES, DynamicsCrm
from callsys.crm.dynamics.phoneindex import IndexKeys, IndexSync, PhoneIndex, SyncProgress
from callsys.model import PartyKind, PhoneNumber
from callsys.numbers import NumberPlan
from callsys.store import Database, open_database
from tests.crm.conftest import CUSTOM_SPEC
from tests.dataverse_fake import DataverseFake


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(tmp_path / "callsys.sqlite3")
    yield database
    database.conn.close()


def _index(db: Database, plan: NumberPlan, crm: DynamicsCrm) -> PhoneIndex:
    return PhoneIndex(db, plan, tables=(*DEFAULT_TABLES, CUSTOM_SPEC), url_for=crm.entity_url)


@pytest.mark.asyncio
async def test_full_sync_then_ring_finds_caller_without_network(
    db: Database, crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    acc = fake.add("account", {"name": "Contoso", "telephone1": "030 123456"})
    cid = fake.add("contact", {"firstname": "Ana", "lastname": "Ruiz", "mobilephone": "+49 (30) 123-456"})
    fake.update("contact", cid, {"_parentcustomerid_value": acc, "_parentcustomerid_value@table": "account"})
    fake.add("lead", {"firstname": "Lea", "lastname": "Lead", "telephone2": "0049 30 555 777"})
    fake.add("new_patient", {"new_name": "Pat", "new_emergencyphone": "۰۳۰۸۸۸۹۹۹"})
    index = _index(db, plan, crm)
    seen: list[SyncProgress] = []
    report = await IndexSync(index, crm, seen.append, page_size=2).sync()
    assert set(report.mode.values()) == {"full"}
    assert report.upserted == fake.count("contact") + fake.count("account") + fake.count("lead") + fake.count(
        "systemuser"
    ) + fake.count("new_patient")
    assert any(p.finished and p.table == "contact" for p in seen)

    fake.log.clear()
    matches = index.lookup(plan.parse("+4930123456"))
    assert fake.log == []  # no network on the ring path
    assert [m.party.kind for m in matches] == [PartyKind.CONTACT, PartyKind.ACCOUNT]
    assert matches[0].party.company == "Contoso"  # the parent account, resolved locally
    assert matches[0].party.url.endswith(f"etn=contact&id=%7B{cid}%7D")
    assert [m.party.name for m in index.lookup(plan.parse("030 555777"))] == ["Lea Lead"]
    assert [m.party.table for m in index.lookup(plan.parse("+49 30 888999"))] == ["new_patient"]


@pytest.mark.asyncio
async def test_delta_sync_applies_new_changed_and_deleted_records(
    db: Database, crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    keep = fake.add("contact", {"firstname": "Keep", "lastname": "Me", "telephone1": "+4930100100"})
    change = fake.add("contact", {"firstname": "Change", "lastname": "Me", "telephone1": "+4930200200"})
    gone = fake.add("contact", {"firstname": "Delete", "lastname": "Me", "telephone1": "+4930300300"})
    index = _index(db, plan, crm)
    sync = IndexSync(index, crm, page_size=2)
    await sync.sync()
    assert index.count("contact") == 3

    fake.update("contact", change, {"telephone1": "+4930222222", "firstname": "Changed"})
    fake.delete("contact", gone)
    fake.add("contact", {"firstname": "New", "lastname": "One", "mobilephone": "+4930400400"})
    fake.log.clear()
    report = await sync.sync()

    assert report.mode["contact"] == "delta"
    assert (report.upserted, report.deleted) == (2, 1)
    assert index.lookup(plan.parse("+4930200200")) == []  # the old number is gone
    assert [m.party.name for m in index.lookup(plan.parse("+4930222222"))] == ["Changed Me"]
    assert index.lookup(plan.parse("+4930300300")) == []
    assert [m.party.name for m in index.lookup(plan.parse("+4930400400"))] == ["New One"]
    assert [m.party.id for m in index.lookup(plan.parse("+4930100100"))] == [keep]
    assert index.count("contact") == 3

    again = await sync.sync()  # nothing changed: an empty delta
    assert (again.upserted, again.deleted) == (0, 0)


@pytest.mark.asyncio
async def test_expired_change_token_means_full_resync(
    db: Database, crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    old = fake.add("contact", {"firstname": "Old", "lastname": "One", "telephone1": "+4930100100"})
    index = _index(db, plan, crm)
    sync = IndexSync(index, crm)
    await sync.sync()
    fake.delete("contact", old)
    fake.add("contact", {"firstname": "Fresh", "lastname": "One", "telephone1": "+4930500500"})
    fake.expire_change_tokens()
    report = await sync.sync()
    assert report.mode["contact"] == "full (token expired)"
    assert index.lookup(plan.parse("+4930100100")) == []
    assert [m.party.name for m in index.lookup(plan.parse("+4930500500"))] == ["Fresh One"]
    assert (await sync.sync()).mode["contact"] == "delta"  # and deltas again after that


@pytest.mark.parametrize("region", ["DE", "IR", "US", "GB"])
def test_fast_index_keys_agree_with_the_ring_side(region: str) -> None:
    plan = NumberPlan(region=region)
    keys = IndexKeys(plan)
    rng = random.Random(7)
    samples = {
        "DE": ["+49 30 {a}", "030 {a}", "0049 30 {a}", "(030) {a}", "+49-30-{a}", "+49 (0)30 {a}"],
        "IR": ["+98 21 {a}", "021 {a}", "0098 21 {a}", "۰۲۱ {a}", "+98 912 {a}", "0912 {a}"],
        "US": ["+1 212 {b}", "1 212 {b}", "011 49 30 {a}", "(212) {b}", "212-{b}"],
        "GB": ["+44 20 {a}", "020 {a}", "00 44 20 {a}"],
    }[region]
    for pattern in samples:
        for _ in range(20):
            written = pattern.format(
                a=f"{rng.randint(0, 99_999_999):08d}", b=f"555-{rng.randint(0, 9999):04d}"
            )
            parsed = plan.parse(written)
            # the PBX delivers the same number in its own form (E.164), not as the CRM wrote it
            ring = PhoneNumber(raw=parsed.e164 or parsed.digits, e164=parsed.e164, digits=parsed.digits)
            key = keys.key(written)
            assert key is not None
            assert key in keys.ring_keys(ring), (written, key, keys.ring_keys(ring))


def test_fake_drops_the_delta_link_when_annotations_are_requested(fake: DataverseFake) -> None:
    # the known service bug the sync avoids (contract §2)
    token = fake.issue_token()
    resp = fake.handle(
        "GET",
        f"{fake.api}/contacts?$select=contactid",
        {"Authorization": f"Bearer {token}", "Prefer": 'odata.track-changes,odata.include-annotations="*"'},
        b"",
    )
    assert b"deltaLink" not in resp.body
    resp = fake.handle(
        "GET",
        f"{fake.api}/contacts?$select=contactid&$filter=fullname eq 'x'",
        {"Authorization": f"Bearer {token}", "Prefer": "odata.track-changes"},
        b"",
    )
    assert resp.status == 400


@pytest.mark.asyncio
async def test_ring_answers_from_index_then_confirms_online(
    db: Database, crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    import asyncio

    from callsys.crm import Match

    cid = fake.add("contact", {"firstname": "Ana", "lastname": "Ruiz", "mobilephone": "+4930123456"})
    index = _index(db, plan, crm)
    await IndexSync(index, crm).sync()
    crm.index = index
    confirmed: list[list[Match]] = []
    crm.on_confirmed = lambda number, matches: confirmed.append(matches)
    fake.update("contact", cid, {"mobilephone": "+4930000000"})  # changed after the sync
    fake.add("lead", {"firstname": "Lea", "lastname": "New", "telephone1": "+4930123456"})
    fake.latency = 0.05
    fake.log.clear()
    matches = await crm.lookup(plan.parse("+4930123456"))
    assert [m.party.name for m in matches] == ["Ana Ruiz"]  # from the index, before any answer
    assert fake.log == []
    for _ in range(1000):
        if confirmed:
            break
        await asyncio.sleep(0.01)
    assert [[m.party.name for m in c] for c in confirmed] == [["Lea New"]]


@pytest.mark.asyncio
async def test_table_without_change_tracking_reads_changed_rows_and_is_synced_in_full_hourly(
    db: Database, crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    fake.tables["new_patient"].change_tracking = False
    gone = fake.add("new_patient", {"new_name": "Pat", "new_emergencyphone": "+4930888999"})
    for n in range(5):
        fake.add("new_patient", {"new_name": f"Other {n}", "new_emergencyphone": f"+49308880{n}"})
    for row in fake.rows["new_patient"].values():
        row["modifiedon"] = "2025-01-01T00:00:00Z"  # written long before
    index = _index(db, plan, crm)
    now = [time.time()]
    sync = IndexSync(index, crm, untracked_every=3600, clock=lambda: now[0])
    report = await sync.sync()
    assert report.mode["new_patient"] == "full (no change tracking)"
    assert report.mode["contact"] == "full"
    assert [m.party.name for m in index.lookup(plan.parse("+4930888999"))] == ["Pat"]

    # the next cycle (a new process: what the table lacks is remembered) reads only what changed
    fake.add("new_patient", {"new_name": "Second", "new_emergencyphone": "+4930888000"})
    fake.delete("new_patient", gone)
    now[0] += 300
    sync = IndexSync(index, crm, untracked_every=3600, clock=lambda: now[0])
    fake.log.clear()
    again = await sync.sync(tables=["new_patient"])
    assert again.mode["new_patient"] == "changed (no change tracking)"
    assert again.upserted == 1  # the new row, not all seven
    assert len(fake.log) == 1  # not a refused change-tracking request first
    assert [m.party.name for m in index.lookup(plan.parse("+4930888000"))] == ["Second"]
    assert index.count("new_patient") == 7  # a deletion waits for the next full sync …

    now[0] += 3600
    hourly = await sync.sync(tables=["new_patient"])
    assert hourly.mode["new_patient"] == "full (no change tracking)"
    assert index.count("new_patient") == 6  # … which drops it
    assert index.lookup(plan.parse("+4930888999")) == []


@pytest.mark.asyncio
async def test_created_records_are_indexed_at_once_and_deleted_ones_dropped(
    db: Database, crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    from callsys.crm.dynamics.convert import CallerDetails, Converter

    index = _index(db, plan, crm)
    await IndexSync(index, crm).sync()
    crm.index = index
    made = await Converter(crm).contact(CallerDetails(plan.parse("030 4455667"), name="Neu Kunde"))
    [match] = index.lookup(plan.parse("+49304455667"))  # no sync in between
    assert (match.party.id, match.party.name) == (made.id, "Neu Kunde")
    fake.delete("contact", made.id)
    assert await crm.get("contact", made.id) is None  # 404 0x80040217 …
    assert index.lookup(plan.parse("+49304455667")) == []  # … drops it from the index


@pytest.mark.asyncio
async def test_lookup_url_stays_within_the_batch_get_limit(fake: DataverseFake, plan: NumberPlan) -> None:
    from callsys.auth import StaticTokens
    from callsys.crm.dynamics.client import CONTACT
    from tests.dataverse_fake import ORG

    many = [f"new_phone{n:03d}" for n in range(300)]
    fake.tables["contact"].phones.extend(many)
    wide = CONTACT.with_phones(many)
    client = DynamicsCrm(
        ORG, StaticTokens(fake.issue_token()), plan=plan, tables=(wide,), transport=fake.transport()
    )
    try:
        fake.add("contact", {"lastname": "Wide", "new_phone299": "+4930123456"})
        [match] = await client.lookup(plan.parse("+4930123456"))
        assert match.field == "new_phone299"
        assert all(len(url) <= 60_000 for _, url in fake.batch_parts)
    finally:
        await client.close()


@pytest.mark.asyncio
async def test_background_sync_survives_an_outage_and_stops_on_request(
    db: Database, crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    import asyncio

    fake.add("contact", {"firstname": "Ana", "lastname": "Ruiz", "mobilephone": "+4930123456"})
    index = _index(db, plan, crm)
    sync = IndexSync(index, crm)
    fake.inject(503)  # the first attempt meets an outage
    stop = asyncio.Event()
    runner = asyncio.create_task(sync.run(stop, interval=0.05, retry=0.01))
    for _ in range(1000):
        if index.lookup(plan.parse("+4930123456")):
            break
        await asyncio.sleep(0.01)
    assert [m.party.name for m in index.lookup(plan.parse("+4930123456"))] == ["Ana Ruiz"]
    stop.set()
    await asyncio.wait_for(runner, 2)


@pytest.mark.asyncio
async def test_in_memory_database_syncs_without_a_writer_thread(
    crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    memory = open_database(":memory:")
    try:
        fake.add("contact", {"firstname": "Ana", "lastname": "Ruiz", "mobilephone": "+4930123456"})
        index = PhoneIndex(memory, plan)
        assert index.writer_connection() is None
        await IndexSync(index, crm, page_size=1).sync()
        assert [m.party.name for m in index.lookup(plan.parse("+4930123456"))] == ["Ana Ruiz"]
    finally:
        memory.conn.close()


def test_company_name_is_read_by_the_key_not_by_a_scan(db: Database, plan: NumberPlan) -> None:
    index = PhoneIndex(db, plan)
    acc = "0a000000-0000-4000-8000-000000000001"
    index.remember("account", {"accountid": acc, "name": "Contoso", "telephone1": "+4930999000"})
    for n, parent in enumerate((acc, "0a000000-0000-4000-8000-00000000dead")):  # the second: not indexed
        index.remember(
            "contact",
            {
                "contactid": f"0c000000-0000-4000-8000-00000000000{n}",
                "fullname": f"Ana {n}",
                "mobilephone": f"+4915100000{n}",
                "_parentcustomerid_value": parent,
            },
        )
    statements: list[str] = []
    index.db.conn.set_trace_callback(statements.append)
    try:
        assert index.lookup(plan.parse("+49151000000"))[0].party.company == "Contoso"
        assert index.lookup(plan.parse("+49151000001"))[0].party.company == ""
    finally:
        index.db.conn.set_trace_callback(None)
    company = [s for s in statements if s.lstrip().upper().startswith("SELECT NAME FROM PHONE_RECORDS")]
    assert len(company) == 2
    for sql in company:
        plan_rows = index.db.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
        detail = " ".join(str(r[-1]) for r in plan_rows)
        assert "USING PRIMARY KEY" in detail and "SCAN" not in detail, detail


def test_numbers_written_the_iranian_way_are_found_by_the_ring(db: Database) -> None:
    plan = NumberPlan(region="IR", area_code="21")
    index = PhoneIndex(db, plan)
    written = ["88776655-021", "۰۲۱۸۸۷۷۶۶۵۶ داخلی ۱۲", "88776657 (ext 3)"]
    for n, text in enumerate(written):
        index.remember(
            "contact",
            {
                "contactid": f"0c000000-0000-4000-8000-00000000010{n}",
                "fullname": f"C {n}",
                "telephone1": text,
            },
        )
    for n, ring in enumerate(["+982188776655", "021 8877 6656", "02188776657"]):
        assert [m.party.name for m in index.lookup(plan.parse(ring))] == [f"C {n}"], written[n]


@pytest.mark.asyncio
async def test_rings_during_a_full_resync_answer_from_the_old_index_and_the_loop_writes_nothing(
    db: Database, crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    """A full resync of many pages: between pages every ring finds its caller (the deleted one
    too, until the resync is complete), and the index's heavy writes all run on the sync's own
    connection in its worker thread — none on the loop's connection, where they would freeze
    the window (the sorted swap did, 10 s at a million records)."""
    import threading

    ids = [fake.add("contact", {"lastname": f"C{n}", "telephone1": f"+493055500{n:02d}"}) for n in range(40)]
    index = _index(db, plan, crm)
    await IndexSync(index, crm, page_size=5).sync()
    fake.delete("contact", ids[0])
    fake.update("contact", ids[1], {"telephone1": "+4930555999"})

    loop_thread = threading.get_ident()
    on_loop: list[str] = []

    def trace(sql: str) -> None:
        words = sql.lstrip().upper()
        writes = words.startswith(("INSERT", "DELETE", "UPDATE"))
        if (
            writes
            and threading.get_ident() == loop_thread
            and ("PHONE_INDEX" in words or "PHONE_RECORDS" in words)
        ):
            on_loop.append(sql)

    answers: list[tuple[bool, bool, bool]] = []

    def ring(step: SyncProgress) -> None:
        if step.table == "contact" and step.mode == "full" and not step.finished:
            answers.append(
                (
                    bool(index.lookup(plan.parse("+49305550000"))),  # deleted in the CRM meanwhile
                    bool(index.lookup(plan.parse("+49305550001")) or index.lookup(plan.parse("+4930555999"))),
                    bool(index.lookup(plan.parse("+49305550039"))),
                )
            )

    index.db.conn.set_trace_callback(trace)
    try:
        report = await IndexSync(index, crm, ring, page_size=5).sync(full=True)
    finally:
        index.db.conn.set_trace_callback(None)
    assert report.mode["contact"] == "full"
    assert len(answers) >= 8 and all(all(a) for a in answers), str(answers)
    assert on_loop == []
    assert index.lookup(plan.parse("+49305550000")) == []  # the resync is complete: gone now
    assert [m.party.id for m in index.lookup(plan.parse("+4930555999"))] == [ids[1]]
    assert index.lookup(plan.parse("+49305550001")) == []
    assert index.db.execute("SELECT count(*) FROM phone_index WHERE tbl = 'contact'").fetchone()[0] == 39


def test_a_page_decoded_in_slices_is_the_page() -> None:
    """Long pages are decoded in slices cut where a row begins; text that looks like a cut
    inside a value, or rows that do not begin with their etag, must not change the result."""
    import json

    from callsys.crm.dynamics.client import CONTACT
    from callsys.crm.dynamics.phoneindex import SLICE_BYTES, PageDecoder

    tricky = ',{"@odata.etag":"W/\\"1\\""}'  # in a value, JSON-escaped
    rows = [
        {
            "@odata.etag": f'W/"{n}"',
            "contactid": f"00000000-0000-4000-8000-{n:012d}",
            "fullname": f"Name {n} {tricky if n % 97 == 0 else ''}",
            "telephone1": f"+49 30 {n:07d}",
            "mobilephone": None,
        }
        for n in range(3 * SLICE_BYTES // 100)
    ]
    decoder = PageDecoder(CONTACT)
    columns = CONTACT.select()
    expected = [tuple(r.get(c) for c in columns) for r in rows]
    for page in (
        {"@odata.context": "x", "value": rows, "@odata.nextLink": "https://next"},
        {"@odata.nextLink": "https://first", "value": rows},  # the link before the rows
        {"@odata.context": "x", "value": [{k: v for k, v in reversed(r.items())} for r in rows]},
    ):
        body = json.dumps(page, separators=(",", ":")).encode()
        assert len(body) > 2 * SLICE_BYTES
        decoded = decoder.decode(body)
        assert [t[: len(columns)] for t in decoded.rows] == expected
        assert decoded.next_link == page.get("@odata.nextLink", "")


@pytest.mark.parametrize("region", ["DE", "IR", "US", "RU", "GB", "JP"])
def test_a_page_of_numbers_keyed_at_once_gets_the_keys_of_one_at_a_time(region: str) -> None:
    """A full sync keys a page's numbers together (folded and classified over all of them at
    once); every messy form must come out as ``IndexKeys.key`` gives it for that number alone."""
    keys = IndexKeys(NumberPlan(region=region))
    rng = random.Random(11)
    heads = ["+", "00", "0", "", "011", "8", "810", "+49 (0)", "0049 ", "۰", "+98 "]
    alphabet = "0123456789+ -.()/\t۰۱۲۳۴۵۶۷۸۹x#*\u200e\u00a0"
    values = []
    for n in range(3000):
        if n % 2:
            tail = "".join(rng.choice("0123456789 -") for _ in range(rng.randint(0, 16)))
            values.append(rng.choice(heads) + tail)
        else:
            values.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 18))))
    values = [v for v in values if v]
    expected = [keys.key(v) or "" for v in values]
    assert keys.keys(values) == expected
    assert sum(map(bool, expected)) > len(values) // 4  # the sample has numbers that key, too
    ascii_only = [v for v in values if v.isascii()]
    assert keys.keys(ascii_only) == [keys.key(v) or "" for v in ascii_only]
    assert keys.keys(["+4930123456\n0301234567"]) == [keys.key("+4930123456\n0301234567") or ""]


@pytest.mark.asyncio
async def test_a_full_sync_decodes_and_writes_in_a_process_of_its_own(
    db: Database,
    crm: DynamicsCrm,
    fake: DataverseFake,
    plan: NumberPlan,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pages of a full sync are decoded, keyed and written by the writer process: in the
    window's process, which shares one interpreter lock with its event loop, none of that runs
    (a thread doing it made the loop wait for the lock, and for collections of the whole heap).
    Deltas are small and stay in a thread."""
    from callsys.crm.dynamics.phoneindex import PageDecoder

    for n in range(30):
        fake.add("contact", {"lastname": f"C{n}", "telephone1": f"030 5550{n:03d}"})
    here: list[str] = []
    decode, write = PageDecoder.decode, PhoneIndex.write_full_page
    monkeypatch.setattr(
        PageDecoder, "decode", lambda self, *a, **k: here.append("decode") or decode(self, *a, **k)
    )
    monkeypatch.setattr(
        PhoneIndex, "write_full_page", lambda self, *a, **k: here.append("write") or write(self, *a, **k)
    )
    index = _index(db, plan, crm)
    report = await IndexSync(index, crm, page_size=4).sync()

    assert report.mode["contact"] == "full" and index.count("contact") == 30
    assert here == []
    assert report.writer_cpu > 0  # the writer process's CPU time, for the benchmark's count
    assert [m.party.name for m in index.lookup(plan.parse("+49305550017"))] == ["C17"]

    fake.add("contact", {"lastname": "New", "telephone1": "030 5551000"})
    delta = await IndexSync(index, crm, page_size=4).sync()
    assert delta.mode["contact"] == "delta" and delta.upserted == 1
    assert "decode" in here  # a delta: in a thread of this process
    assert [m.party.name for m in index.lookup(plan.parse("+49305551000"))] == ["New"]


@pytest.mark.asyncio
async def test_a_full_sync_writes_in_a_thread_when_no_writer_process_can_start(
    db: Database,
    crm: DynamicsCrm,
    fake: DataverseFake,
    plan: NumberPlan,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import callsys.crm.dynamics.phoneindex as phoneindex_module

    def refuse(code: str) -> None:
        raise OSError("no Python to start")

    monkeypatch.setattr(phoneindex_module, "_spawn", refuse)
    fake.add("contact", {"lastname": "Ruiz", "telephone1": "030 5550001"})
    index = _index(db, plan, crm)
    sync = IndexSync(index, crm, page_size=4)
    report = await sync.sync()
    assert report.mode["contact"] == "full" and report.writer_cpu == 0
    assert sync.writer_process is False  # not tried again by this sync loop
    assert [m.party.name for m in index.lookup(plan.parse("+4930 5550001"))] == ["Ruiz"]


@pytest.mark.asyncio
async def test_a_writer_process_that_dies_mid_sync_leaves_the_old_index_and_the_next_sync_works(
    db: Database, crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    ids = [fake.add("contact", {"lastname": f"C{n}", "telephone1": f"030 5550{n:03d}"}) for n in range(20)]
    index = _index(db, plan, crm)
    await IndexSync(index, crm, page_size=4).sync()
    fake.update("contact", ids[3], {"telephone1": "030 5559999"})
    fake.expire_change_tokens()  # the next sync is a full one

    killed: list[int] = []

    def kill_the_writer(step: SyncProgress) -> None:
        writer = sync._writer
        if step.table == "contact" and step.pages == 2 and writer is not None and writer.proc is not None:
            writer.proc.kill()
            killed.append(step.pages)

    sync = IndexSync(index, crm, kill_the_writer, page_size=4)
    with pytest.raises(RuntimeError, match="writer process"):
        await sync.sync()
    assert killed == [2]
    # the old index still answers, the half-written resync did not take anything away
    assert [m.party.id for m in index.lookup(plan.parse("+49305550003"))] == [ids[3]]
    assert [m.party.id for m in index.lookup(plan.parse("+49305550019"))] == [ids[19]]

    report = await IndexSync(index, crm, page_size=4).sync()
    assert report.mode["contact"] == "full (token expired)"
    assert index.lookup(plan.parse("+49305550003")) == []
    assert [m.party.id for m in index.lookup(plan.parse("+49305559999"))] == [ids[3]]
    assert index.count("contact") == 20


def test_the_next_link_is_read_ahead_only_where_it_is_a_key() -> None:
    """The next page is asked for before this one is decoded: its link is read from the page's
    end. Text that looks like the key inside a value is not a link, and a link that is not at the
    end is left to the decoder (the sync then waits for it)."""
    import json

    from callsys.crm.dynamics.phoneindex import _next_link_ahead

    link = "https://contoso.crm4.dynamics.com/api/data/v9.2/contacts?$skiptoken=%3Ccookie%20page=%222%22/%3E"
    sneaky = {"fullname": '"@odata.nextLink":"https://elsewhere.example/"', "telephone1": None}
    rows = [sneaky] * 3
    assert _next_link_ahead(json.dumps({"value": rows, "@odata.nextLink": link}).encode()) == link
    assert _next_link_ahead(json.dumps({"value": rows}).encode()) is None
    assert (
        _next_link_ahead(b'{"value":[],"@odata.nextLink" : "https:\\/\\/x.example\\/a\\u0027"}')
        == "https://x.example/a'"
    )
    big = [{"fullname": "x" * 100, "telephone1": None}] * 1000  # the link first, far from the end
    assert _next_link_ahead(json.dumps({"@odata.nextLink": link, "value": big}).encode()) is None


def _messy_page(rng: random.Random, count: int) -> list[dict[str, object]]:
    """Rows of a contact page the way a real tenant has them: most phone columns null, some
    empty or blank, numbers in many written forms (Persian digits, extensions, stray text), a
    few columns used by few rows, a row without its id, parents and none."""
    from callsys.crm.dynamics.client import CONTACT

    forms = ["+49 30 {s}", "030 {s}", "030-{s}", "(030) {s}", "0049 30 {s}", "+49 (0)30 {s}", "{s}",
             "0151 {s}", "+98 21 {s}", "۰۳۰ {p}", "030 {s} ext 12", "tel: 030 {s}", "+", "   ", "",
             "0", "+0 30 {s}", "00 30 {s}", "+49 30 {s}\n+49 30 1", "030/{s}-9"]  # fmt: skip
    persian = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
    rows: list[dict[str, object]] = []
    for n in range(count):
        row: dict[str, object] = {"@odata.etag": f'W/"{n}"', "contactid": f"0c000000-0000-4000-8000-{n:012d}"}
        if n % 211 == 5:
            row["contactid"] = None  # not a record
        row["fullname"] = f"Name {n}" if n % 13 else ""
        for col in CONTACT.phones:
            use = 0.9 if col in ("telephone1", "mobilephone") else 0.1 if col == "telephone2" else 0.003
            if rng.random() < use:
                s = str(rng.randint(1_000_000, 99_999_999))
                row[col] = rng.choice(forms).format(s=s, p=s.translate(persian))
            else:
                row[col] = None
        row["_parentcustomerid_value"] = f"0a000000-0000-4000-8000-{n % 7:012d}" if n % 3 else None
        rows.append(row)
    return rows


def test_a_page_keyed_a_column_at_a_time_indexes_what_one_row_at_a_time_does(plan: NumberPlan) -> None:
    """The writer process builds a page's records and entries a column at a time from the
    decoder's structs; on messy rows that must give exactly what the row-by-row path gives."""
    import json

    from callsys.crm.dynamics.client import CONTACT
    from callsys.crm.dynamics.phoneindex import PageDecoder, _Columns

    index = PhoneIndex.__new__(PhoneIndex)
    index.keys = IndexKeys(plan)
    decoder = PageDecoder(CONTACT)
    columns = CONTACT.select()
    for seed in range(4):
        rows = _messy_page(random.Random(seed), 1500)
        body = json.dumps({"value": rows, "@odata.nextLink": "https://next"}).encode()
        structs = decoder.decode(body, sliced=False, structs=True)
        tuples = decoder.decode(body, sliced=False)
        assert structs.structs and structs.next_link == "https://next"
        fast = index._tuple_rows(CONTACT, _Columns(CONTACT, columns, structs=True), structs.rows, 7)
        slow = index._tuple_rows_one_by_one(CONTACT, _Columns(CONTACT, columns), tuples.rows, 7)
        assert fast[0] == slow[0]  # records: (id, name, parent, keys) in page order
        assert sorted(fast[1]) == sorted(slow[1])  # entries: (key, record id, column)
        assert len(fast[0]) == 1500 - 8 and len(fast[1]) > 2000


def test_a_full_page_written_in_chunks_is_in_the_index_whole(db: Database, plan: NumberPlan) -> None:
    """A page is inserted a few hundred rows a statement: every record and number of a page
    longer than that, and only those, is found afterwards."""
    from callsys.crm.dynamics.client import CONTACT

    index = PhoneIndex(db, plan)
    gen = index.start_full(CONTACT)
    rows = [{"contactid": f"0c000000-0000-4000-8000-{n:012d}", "fullname": f"N{n}",
             "telephone1": f"+4930{5_000_000 + n}", "mobilephone": f"0151 {9_000_000 + n}"}
            for n in range(1234)]  # fmt: skip
    index.write_full_page(CONTACT, rows, gen)
    index.finish_full(CONTACT, gen, "")
    assert index.count("contact") == 1234
    assert index.db.execute("SELECT count(*), min(gen), max(gen) FROM phone_index").fetchone() == (
        2468,
        gen,
        gen,
    )
    for n in (0, 199, 200, 1233):
        assert [m.party.name for m in index.lookup(plan.parse(f"030 {5_000_000 + n}"))] == [f"N{n}"]
        assert [m.party.name for m in index.lookup(plan.parse(f"+49151{9_000_000 + n}"))] == [f"N{n}"]


def test_a_delta_removes_the_numbers_an_earlier_version_listed(db: Database, plan: NumberPlan) -> None:
    """Earlier versions listed a record's entries as "key<TAB>column" lines; a delta that
    changes such a record must still remove its old numbers."""
    index = PhoneIndex(db, plan)
    cid = "0c000000-0000-4000-8000-000000000001"
    index.remember("contact", {"contactid": cid, "fullname": "Ana", "telephone1": "030 1111111",
                               "mobilephone": "0151 2222222"})  # fmt: skip
    with index.db.conn:
        index.db.execute(
            "UPDATE phone_records SET keys = ? WHERE record_id = ?",
            ["+49301111111\ttelephone1\n+491512222222\tmobilephone", cid],
        )
    index.remember("contact", {"contactid": cid, "fullname": "Ana", "telephone1": "030 3333333"})
    assert index.lookup(plan.parse("030 1111111")) == []
    assert index.lookup(plan.parse("0151 2222222")) == []
    assert [m.party.name for m in index.lookup(plan.parse("030 3333333"))] == ["Ana"]
    assert index.db.execute("SELECT count(*) FROM phone_index").fetchone() == (1,)


@pytest.mark.asyncio
async def test_a_full_sync_writes_its_pages_in_sorted_batches_and_rings_answer_throughout(
    db: Database, crm: DynamicsCrm, fake: DataverseFake, plan: NumberPlan
) -> None:
    """The writer process gathers ``BUFFER_PAGES`` pages, then writes them at once sorted by key
    (numbers in no order land several to a b-tree leaf): until a batch is written the old index
    is untouched and answers; the batches are written as the sync goes (memory stays bounded),
    not all at its end; and the result is the same as page by page."""
    from callsys.crm.dynamics.phoneindex import BUFFER_PAGES

    pages = BUFFER_PAGES + 6
    numbers = random.Random(7).sample(range(1000, 9999), pages * 4)
    ids = [
        fake.add("contact", {"lastname": f"C{n}", "telephone1": f"030 555{x}"}) for n, x in enumerate(numbers)
    ]
    index = _index(db, plan, crm)
    await IndexSync(index, crm, page_size=4).sync()
    fake.update("contact", ids[0], {"telephone1": "030 5550000"})
    fake.delete("contact", ids[-1])
    fake.expire_change_tokens()

    seen: list[tuple[int, int, bool, bool]] = []

    def ring(step: SyncProgress) -> None:
        if step.table != "contact" or step.finished:
            return
        gen = int(index.sync_state("contact")["writing"])
        new = index.db.execute("SELECT count(*) FROM phone_records WHERE tbl = 'contact' AND gen = ?", [gen])
        old_number = bool(index.lookup(plan.parse(f"+4930555{numbers[0]}")))
        either = old_number or bool(index.lookup(plan.parse("+49305550000")))
        seen.append(
            (
                step.pages,
                int(new.fetchone()[0]),
                either,
                bool(index.lookup(plan.parse(f"+4930555{numbers[-1]}"))),
            )
        )

    report = await IndexSync(index, crm, ring, page_size=4).sync()
    assert report.mode["contact"] == "full (token expired)"
    written = {p: n for p, n, _, _ in seen}
    assert written[BUFFER_PAGES - 1] == 0  # gathered, nothing written yet: the old index as it was
    assert written[BUFFER_PAGES + 1] == BUFFER_PAGES * 4  # the first batch is in, before the end
    assert all(a and b for _, _, a, b in seen), seen  # every ring answered during the sync
    assert index.count("contact") == pages * 4 - 1
    assert index.lookup(plan.parse(f"+4930555{numbers[-1]}")) == []
    assert [m.party.id for m in index.lookup(plan.parse("+49305550000"))] == [ids[0]]
    assert [m.party.id for m in index.lookup(plan.parse(f"+4930555{numbers[5]}"))] == [ids[5]]
