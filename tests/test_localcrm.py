"""LocalCrm — the embedded directory: imports (CSV, vCard), lookup by any number in any
written form (IN4), several records for one number (B2), search, edits."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from callsys.crm import Crm
from callsys.crm.local import LocalCrm, fold
from callsys.crm.local_import import import_csv, import_file, import_vcard
from callsys.errors import CrmNotFound, ImportFailed
from callsys.model import PartyKind
from callsys.numbers import NumberPlan
from callsys.store import open_database

DATA = Path(__file__).parent / "data"
PLAN = NumberPlan("IR", "21")


@pytest.fixture
def crm(tmp_path: Path) -> Iterator[LocalCrm]:
    db = open_database(tmp_path / "cs.sqlite3")
    yield LocalCrm(db, PLAN)
    db.close()


def names(crm: LocalCrm, number: str) -> list[str]:
    return [m.party.name for m in crm.lookup_now(PLAN.parse(number))]


def test_is_a_crm() -> None:
    db = open_database(":memory:")
    try:
        assert isinstance(LocalCrm(db, PLAN), Crm)
    finally:
        db.close()


def test_csv_import_reports_imported_updated_and_skipped_rows(crm: LocalCrm) -> None:
    report = import_csv(crm, DATA / "contacts.csv")
    assert (report.format, report.imported, report.updated) == ("csv", 4, 1)
    assert [(s.line, s.reason) for s in report.skipped] == [
        (5, "Nobody Without Number: no phone number"),
        (6, "Bad Number: 'not a number' is not a phone number"),
    ]
    assert crm.count() == 4
    sara = crm.search_now("Sara Ahmadi")[0]
    assert sara.company == "Ahmadi & Co"
    # the duplicate row's number was merged, not stored twice
    assert [n.e164 for n in sara.numbers] == ["+982188776655", "+989123456789"]
    acme = crm.search_now("ACME")[0]
    assert acme.kind is PartyKind.ACCOUNT  # a company-only row is an account
    assert crm.details(sara.id)["email"] == "sara@example.com"


def test_importing_the_same_file_twice_updates_instead_of_duplicating(crm: LocalCrm) -> None:
    import_csv(crm, DATA / "contacts.csv")
    again = import_csv(crm, DATA / "contacts.csv")
    assert again.imported == 0
    assert again.updated == 5
    assert again.numbers == 0
    assert crm.count() == 4


@pytest.mark.parametrize(
    "written",
    ["+98 21 8877 6655", "021-88776655", "00982188776655", "02188776655", "88776655", "tel:+98-21-8877-6655"],
)
def test_lookup_by_a_number_in_any_written_form(crm: LocalCrm, written: str) -> None:
    import_csv(crm, DATA / "contacts.csv")
    assert names(crm, written) == ["Sara Ahmadi", "Shared Line One"]


@pytest.mark.parametrize(
    "written", ["09123456789", "+989123456789", "۰۹۱۲۳۴۵۶۷۸۹", "٠٩١٢٣٤٥٦٧٨٩", "9123456789"]
)
def test_lookup_by_the_second_number_of_a_record(crm: LocalCrm, written: str) -> None:
    import_csv(crm, DATA / "contacts.csv")
    assert names(crm, written) == ["Sara Ahmadi"]


def test_every_number_of_a_record_finds_it(crm: LocalCrm) -> None:
    import_csv(crm, DATA / "contacts.csv")
    for written in ("0935 111 2233", "+98 912 111 2233", "021 4455 6677", "44556677"):
        assert names(crm, written) == ["Reza Karimi"], written


def test_two_records_sharing_a_number_are_two_ranked_matches(crm: LocalCrm) -> None:
    person = crm.add("Front Desk", ["021 8877 6655"], company="Ahmadi & Co")
    company = crm.add("", [("telephone", "+982188776655")], kind=PartyKind.ACCOUNT, company="Ahmadi & Co")
    matches = crm.lookup_now(PLAN.parse("021 88776655"))
    assert [m.party.id for m in matches] == [person.id, company.id]  # a person beats a company (B2)
    assert matches[0].score > matches[1].score
    assert company.name == "Ahmadi & Co"


def test_unknown_and_anonymous_numbers_match_nothing(crm: LocalCrm) -> None:
    import_csv(crm, DATA / "contacts.csv")
    assert names(crm, "+49 30 1234567") == []
    assert names(crm, "anonymous") == []
    assert names(crm, "") == []


def test_persian_csv_with_bom_semicolons_and_persian_digits(crm: LocalCrm) -> None:
    report = import_file(crm, DATA / "contacts_fa.csv")
    assert (report.imported, report.updated) == (2, 0)
    assert [(s.line, s.reason) for s in report.skipped] == [(4, "no name or company for the number(s)")]
    assert names(crm, "09124445566") == ["علی رضایی"]
    assert names(crm, "+98 21 6677 8899") == ["علی رضایی"]
    assert names(crm, "0936-123-4567") == ["مریم حسینی"]
    ali = crm.search_now("رضایی")[0]
    assert ali.company == "شرکت نمونه"
    # Arabic-keyboard spellings find Persian names
    assert [p.name for p in crm.search_now("علي")] == ["علی رضایی"]


def test_vcard_versions_folding_quoted_printable_and_tel_uris(crm: LocalCrm) -> None:
    report = import_vcard(crm, DATA / "contacts.vcf")
    assert (report.format, report.imported) == ("vcard", 3)
    assert [(s.line, s.reason) for s in report.skipped] == [
        (32, "No Phone Person: no phone number"),
        (37, "vCard without END:VCARD"),
    ]
    zahra = crm.lookup_now(PLAN.parse("0912 777 8899"))[0]
    assert zahra.party.name == "زهرا نجفی"  # vCard 2.1 quoted-printable UTF-8 with a soft break
    assert zahra.party.company == "Najafi Trading"
    assert zahra.field == "mobilephone"
    john = crm.lookup_now(PLAN.parse("+1 415 555 0177"))[0].party
    assert john.name == "John Smith"  # folded FN line
    assert john.company == "Globex, Inc."  # escaped comma, first ORG component
    assert [n.e164 for n in john.numbers] == ["+14155550199", "+14155550142", "+14155550177"]
    assert crm.details(john.id)["email"] == "john@globex.example"
    initech = crm.lookup_now(PLAN.parse("tel:+1-415-555-0123"))[0].party
    assert initech.kind is PartyKind.ACCOUNT  # KIND:org
    assert initech.numbers[0].extension == "45"


def test_import_file_tells_vcard_from_csv_by_content(crm: LocalCrm, tmp_path: Path) -> None:
    disguised = tmp_path / "export.txt"
    shutil.copy(DATA / "contacts.vcf", disguised)
    assert import_file(crm, disguised).format == "vcard"


def test_utf16_tab_separated_and_windows_1256_files(crm: LocalCrm, tmp_path: Path) -> None:
    utf16 = tmp_path / "excel.csv"
    utf16.write_text("Name\tMobile\r\nKamran Bahrami\t0912 555 1234\r\n", encoding="utf-16")
    cp1256 = tmp_path / "old.csv"
    # Arabic yeh: Windows-1256 has no Persian one
    cp1256.write_bytes("نام,تلفن\r\nپرويز پرستويي,02155554444\r\n".encode("cp1256"))
    assert import_file(crm, utf16).imported == 1
    assert import_file(crm, cp1256).imported == 1
    assert names(crm, "+989125551234") == ["Kamran Bahrami"]
    assert names(crm, "021 5555 4444") == ["پرويز پرستويي"]


def test_headerless_csv_guesses_the_columns(crm: LocalCrm, tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("Dariush Mehr,Mehr Ltd,021 2222 3333\nNasrin Pak,,0912 000 1111\n", encoding="utf-8")
    report = import_csv(crm, path)
    assert report.imported == 2
    assert crm.lookup_now(PLAN.parse("02122223333"))[0].party.company == "Mehr Ltd"


def test_unreadable_files_raise_import_failed(crm: LocalCrm, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="There is no file"):
        import_file(crm, tmp_path / "missing.csv")
    no_numbers = tmp_path / "words.csv"
    no_numbers.write_text("alpha,beta\ngamma,delta\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="which column holds the phone numbers"):
        import_csv(crm, no_numbers)
    assert crm.count() == 0
    with pytest.raises(ImportFailed, match="not a vCard"):
        import_vcard(crm, DATA / "contacts.csv")


def test_progress_is_reported(crm: LocalCrm, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    rows = "\n".join(f"Person {i},0912{i:07d}" for i in range(350))
    path.write_text("name,mobile\n" + rows + "\n", encoding="utf-8")
    seen: list[tuple[int, int]] = []
    report = import_csv(crm, path, progress=lambda done, total: seen.append((done, total)), every=100)
    assert report.imported == 350
    assert [done for done, _ in seen] == [100, 200, 300, 350]
    assert seen[0][1] >= 350  # the total is known up front (lines in the file)
    assert seen[-1] == (350, 350)
    assert names(crm, "09120000349") == ["Person 349"]


def test_an_import_stopped_half_way_leaves_nothing_of_the_file(crm: LocalCrm, tmp_path: Path) -> None:
    """Cancel in the import dialog raises from the progress callback: the import is one
    transaction, so the directory is as it was before the file."""
    import_csv(crm, DATA / "contacts.csv")
    before = crm.count()
    path = tmp_path / "big.csv"
    rows = "\n".join(f"Person {i},0912{i:07d}" for i in range(350))
    path.write_text("name,mobile\n" + rows + "\n", encoding="utf-8")

    class Cancelled(Exception):
        pass

    def cancel_at_200(done: int, _total: int) -> None:
        if done == 200:
            raise Cancelled

    with pytest.raises(Cancelled):
        import_csv(crm, path, progress=cancel_at_200, every=100)
    assert crm.count() == before
    assert names(crm, "09120000001") == []
    assert not crm._conn.in_transaction  # the next write is not caught in a left-over transaction


def test_search_by_name_company_and_number_prefix(crm: LocalCrm) -> None:
    import_csv(crm, DATA / "contacts.csv")
    assert [p.name for p in crm.search_now("ahmadi")] == ["Sara Ahmadi", "Shared Line One"]
    assert [p.name for p in crm.search_now("acme")] == ["ACME Corp"]
    assert {p.name for p in crm.search_now("0935")} == {"Reza Karimi"}
    assert {p.name for p in crm.search_now("+98 912 345")} == {"Sara Ahmadi"}
    assert {p.name for p in crm.search_now("۰۹۱۲۳۴")} == {"Sara Ahmadi"}
    assert crm.search_now("%") == []
    assert len(crm.search_now("a", limit=2)) == 2


@pytest.mark.asyncio
async def test_async_protocol_methods(crm: LocalCrm) -> None:
    party = crm.add("Sara Ahmadi", ["0912 345 6789"])
    matches = await crm.lookup(PLAN.parse("+989123456789"))
    assert [m.party.id for m in matches] == [party.id]
    assert [p.id for p in await crm.search("sara")] == [party.id]
    assert await crm.get("contact", party.id) == party
    assert await crm.get("account", party.id) is None
    assert await crm.get("contact", "nope") is None
    assert crm.record_url(party) == ""
    await crm.close()


def test_add_update_delete(crm: LocalCrm) -> None:
    party = crm.add("Old Name", ["021 8877 6655"], company="X")
    assert party.source == "local"
    updated = crm.update(party.id, name="New Name", numbers=[("mobilephone", "0912 345 6789")])
    assert updated.name == "New Name"
    assert names(crm, "02188776655") == []
    assert names(crm, "09123456789") == ["New Name"]
    assert crm.delete(party.id) is True
    assert crm.delete(party.id) is False
    assert names(crm, "09123456789") == []
    with pytest.raises(CrmNotFound):
        crm.update(party.id, name="gone")
    with pytest.raises(ValueError, match="not a phone number"):
        crm.add("Someone", ["hello"])


def test_reindex_after_the_area_code_changes(tmp_path: Path) -> None:
    db = open_database(tmp_path / "cs.sqlite3")
    try:
        no_area = LocalCrm(db, NumberPlan("IR", ""))
        no_area.add("Local Shop", ["88776655"])  # no area code known: stored as digits
        with_area = LocalCrm(db, PLAN)
        assert names(with_area, "021 8877 6655") == []
        assert with_area.reindex() == 1
        assert names(with_area, "021 8877 6655") == ["Local Shop"]
    finally:
        db.close()


def test_fold() -> None:
    assert fold("  ALI   Kaf ك Yeh ي ") == "ali kaf ک yeh ی"


def test_factory_builds_the_configured_crm(tmp_path: Path) -> None:
    import asyncio

    from callsys.crm.dynamics.client import DynamicsCrm
    from callsys.crm.factory import create_crm
    from callsys.settings import Settings

    db = open_database(":memory:")
    try:
        assert isinstance(create_crm(Settings(), db, PLAN), LocalCrm)
        dynamics = create_crm(
            Settings(
                {
                    "crm.backend": "dynamics",
                    "crm.url": "https://contoso.crm4.dynamics.com",
                    "crm.auth": "env",
                    "storage.database": str(tmp_path / "callsys.sqlite3"),
                }
            ),
            db,
            PLAN,
        )
        assert isinstance(dynamics, DynamicsCrm)  # composed from the settings: sign-in, tables, index
        assert dynamics.plan is PLAN
        asyncio.run(dynamics.close())
    finally:
        db.close()


def test_vcard_line_breaks_are_only_cr_and_lf(crm: LocalCrm, tmp_path: Path) -> None:
    path = tmp_path / "odd.vcf"
    path.write_text(
        "BEGIN:VCARD\nVERSION:3.0\nFN:Odd\u2028Name\x1cHere\nTEL:0912 111 2222\nEND:VCARD",  # no final newline
        encoding="utf-8",
    )
    assert import_vcard(crm, path).imported == 1
    assert [m.party.name for m in crm.lookup_now(PLAN.parse("09121112222"))] == ["Odd NameHere"]


def test_google_and_outlook_exports(crm: LocalCrm, tmp_path: Path) -> None:
    google = tmp_path / "google.csv"
    google.write_text(
        "Name,Given Name,Additional Name,Family Name,Nickname,Notes,E-mail 1 - Type,E-mail 1 - Value,"
        "Phone 1 - Type,Phone 1 - Value,Phone 2 - Type,Phone 2 - Value,Organization 1 - Type,"
        "Organization 1 - Name,Organization 1 - Title\n"
        "Leila Moradi,Leila,,Moradi,Lili,,* Work,leila@example.com,Mobile,+98 912 765 4321 ::: 0935 765 4321,"
        "Work,021 8800 1122,,Moradi Group,CEO\n",
        encoding="utf-8",
    )
    outlook = tmp_path / "outlook.csv"
    outlook.write_text(
        '"First Name","Middle Name","Last Name","Title","Company","Business Phone","Business Fax",'
        '"Home Phone","Mobile Phone","E-mail Address"\n'
        '"Nima","","Sadeghi","","Sadeghi Ltd","021 8800 3344","021 8800 3345","","0912 333 4444","n@example.com"\n',
        encoding="utf-8",
    )
    assert import_file(crm, google).imported == 1
    assert import_file(crm, outlook).imported == 1
    leila = crm.lookup_now(PLAN.parse("09357654321"))[0]
    assert (leila.party.name, leila.party.company, leila.field) == (
        "Leila Moradi",
        "Moradi Group",
        "mobilephone",
    )
    assert len(leila.party.numbers) == 3
    nima = crm.lookup_now(PLAN.parse("02188003345"))[0]
    assert (nima.party.name, nima.party.company, nima.field) == ("Nima Sadeghi", "Sadeghi Ltd", "fax")
    assert crm.details(nima.party.id)["email"] == "n@example.com"


def test_a_record_with_an_id_is_updated_in_place(crm: LocalCrm, tmp_path: Path) -> None:
    card = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:abc-123\r\nFN:{name}\r\nTEL;TYPE=CELL:{tel}\r\nEND:VCARD\r\n"
    path = tmp_path / "one.vcf"
    path.write_text(card.format(name="Old Name", tel="0912 000 1111"), encoding="utf-8")
    assert import_vcard(crm, path).imported == 1
    path.write_text(card.format(name="New Name", tel="0912 000 2222"), encoding="utf-8")
    report = import_vcard(crm, path)
    assert (report.imported, report.updated, report.numbers) == (0, 1, 1)
    party = crm.get_now("abc-123")
    assert party is not None
    assert party.name == "New Name"
    assert [n.e164 for n in party.numbers] == ["+989120001111", "+989120002222"]


@pytest.mark.parametrize("seed", range(3))
def test_mangled_files_import_or_fail_cleanly(crm: LocalCrm, tmp_path: Path, seed: int) -> None:
    """Cut, spliced and bit-flipped copies of the fixtures: an import either works (with skipped
    rows) or raises ImportFailed — never another exception, never a half-written directory."""
    import random

    rng = random.Random(seed)
    sources = [(DATA / name).read_bytes() for name in ("contacts.csv", "contacts_fa.csv", "contacts.vcf")]
    for attempt in range(40):
        data = bytearray(rng.choice(sources))
        for _ in range(rng.randrange(1, 12)):
            action = rng.randrange(4)
            at = rng.randrange(len(data)) if data else 0
            if action == 0:
                data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8)))
            elif action == 1:
                del data[at : at + rng.randrange(1, 40)]
            elif action == 2 and data:
                data[at] = rng.choice(b'";,:=\r\n\x00\\ ')
            else:
                data = data[: rng.randrange(len(data) + 1)]
        path = tmp_path / f"mangled{attempt}{rng.choice(['.csv', '.vcf', '.txt'])}"
        path.write_bytes(bytes(data))
        before = crm.count()
        try:
            report = import_file(crm, path)
        except ImportFailed:
            assert crm.count() == before
        else:
            assert crm.count() == before + report.imported


def test_a_skipped_row_quotes_a_page_long_number_cut_short(crm: LocalCrm, tmp_path: Path) -> None:
    """A cell of 10,000 digits is reported as the start of it, not as a 10,000-character line."""
    source = tmp_path / "long.csv"
    source.write_text(
        "First Name,Last Name,Mobile Phone\nLong,Number," + "9" * 10_000 + "\n", encoding="utf-8"
    )
    report = import_csv(crm, source)
    assert report.imported == 0
    [skipped] = report.skipped
    assert skipped.reason.startswith("Long Number: '9999") and skipped.reason.endswith(
        "is not a phone number"
    )
    assert "…" in skipped.reason and len(skipped.reason) < 100
