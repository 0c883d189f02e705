"""``callsys crm sync|discover|flush`` against the Dataverse fake on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from callsys.activity import ActivityLogger
    from callsys.callmanager import CallManager
    from callsys.numbers import NumberPlan
    from callsys.store import Database

from tests.cli_runner import run, run_json
from tests.crm.conftest import CUSTOM
from tests.dataverse_fake import DataverseFake, FakeServer


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[DataverseFake, FakeServer]]:
    fake = DataverseFake(custom_tables=[CUSTOM])
    monkeypatch.setenv("CALLSYS_TEST_CRM_TOKEN", fake.issue_token())
    with fake.serve() as server:
        yield fake, server


def _config(tmp_path: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(
        f'[storage]\ndatabase = "{tmp_path / "cs.sqlite3"}"\n\n[numbers]\nregion = "DE"\n\n'
        f'[crm]\nbackend = "dynamics"\nurl = "{url}"\nauth = "env"\ntoken_env = "CALLSYS_TEST_CRM_TOKEN"\n{extra}',
        encoding="utf-8",
    )
    return path


def test_crm_sync_fills_the_index_then_applies_deltas(
    tmp_path: Path, served: tuple[DataverseFake, FakeServer], capsys: pytest.CaptureFixture[str]
) -> None:
    fake, server = served
    for n in range(30):
        fake.add("contact", {"firstname": f"C{n}", "lastname": "X", "mobilephone": f"+49301000{n:03d}"})
    config = _config(tmp_path, server.url)
    first = run_json(config, "crm", "sync")
    assert first["tables"]["contact"] == "full"
    assert first["indexed_records"] == 30 + 1  # 30 contacts + the fake's agent (systemuser)
    fake.add("contact", {"firstname": "New", "lastname": "Person", "mobilephone": "+4930999999"})
    code, text = run(config, "crm", "sync")
    assert code == 0
    assert "contact: delta" in text
    assert "1 records written" in text
    assert "contact: 1 changes — done" in capsys.readouterr().err
    found = run_json(config, "lookup", "030 999999")
    assert [m["party"]["name"] for m in found["matches"]] == ["New Person"]


def test_crm_discover_proposes_custom_columns_tables_and_status(
    tmp_path: Path, served: tuple[DataverseFake, FakeServer]
) -> None:
    fake, server = served
    fake.tables["contact"].phones.append("new_otherphone")
    fake.add_status_reason("phonecall", 1, 100000000, "Unanswered")
    config = _config(tmp_path, server.url)
    data = run_json(config, "crm", "discover")
    assert data["extra_phone_columns"] == ["contact.new_otherphone"]
    assert data["custom_tables"] == [
        {
            "logical": "new_patient",
            "entity_set": "new_patients",
            "id": "new_patientid",
            "name": "new_name",
            "phones": ["new_emergencyphone"],
        }
    ]
    assert data["unanswered_status"] == {"statuscode": 100000000, "label": "Unanswered"}
    code, text = run(config, "crm", "discover")
    assert code == 0
    assert 'extra_phone_columns = ["contact.new_otherphone"]' in text
    assert "unanswered_statuscode = 100000000" in text


def test_crm_commands_need_the_dynamics_backend(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(f'[storage]\ndatabase = "{tmp_path / "cs.sqlite3"}"\n', encoding="utf-8")
    code, _ = run(path, "crm", "sync")
    assert code == 2
    assert "crm.backend" in capsys.readouterr().err


def test_crm_refuses_plain_http_to_a_remote_host(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, "http://contoso.crm.dynamics.com")
    code, _ = run(config, "crm", "sync")
    assert code == 2
    assert "https://" in capsys.readouterr().err


def _call_logger(tmp_path: Path) -> tuple[Database, ActivityLogger, CallManager, NumberPlan]:
    """The local database with the CRM activity logger listening to a CallManager (region DE),
    for playing calls the CLI then works on."""
    from callsys.activity import ActivityLogger
    from callsys.callmanager import CallManager
    from callsys.numbers import NumberPlan
    from callsys.outbox import Outbox
    from callsys.store import open_database

    plan = NumberPlan(region="DE")
    db = open_database(tmp_path / "cs.sqlite3")
    logger = ActivityLogger(Outbox(db))
    manager = CallManager(is_loggable=plan.is_loggable)
    manager.subscribe(logger)
    return db, logger, manager, plan


def test_crm_convert_case_from_a_logged_call_links_its_activity(
    tmp_path: Path, served: tuple[DataverseFake, FakeServer]
) -> None:
    from tests.crm.helpers import play_call

    fake, server = served
    config = _config(tmp_path, server.url)
    db, logger, manager, plan = _call_logger(tmp_path)
    play_call(manager, plan, "pbx-42", "+4930123456")  # logged while the CRM was unreachable
    activity = logger.activity_id("pbx-42")
    db.conn.close()
    contact = fake.add("contact", {"firstname": "Ana", "lastname": "Ruiz", "mobilephone": "+4930123456"})

    made = run_json(
        config,
        "crm",
        "convert",
        "case",
        "030 123456",
        "--subject",
        "Broken printer",
        "--customer",
        f"contact:{contact}",
        "--call",
        "pbx-42",
    )
    assert made["linked_activity"] == activity
    case = fake.find("incident", made["id"]) or {}
    assert case["title"] == "Broken printer" and case["_customerid_value"] == contact
    call = fake.find("phonecall", activity or "") or {}
    assert call["_regardingobjectid_value"] == made["id"] and call["statecode"] == 1

    code, text = run(config, "crm", "convert", "lead", "+49 30 555 000", "--name", "Lea Lang")
    assert code == 0 and text.startswith("Created lead ")
    code, text = run(
        config, "crm", "convert", "add-number", "+49 30 777 000", "--record", f"contact:{contact}"
    )
    assert code == 0 and "contact.telephone1" in text
    assert (fake.find("contact", contact) or {})["telephone1"] == "+4930777000"

    url = run_json(config, "crm", "url", "contact", contact)["url"]
    assert url == f"{server.url}/main.aspx?pagetype=entityrecord&etn=contact&id=%7B{contact}%7D"


def test_settings_compose_tables_and_logger_options(tmp_path: Path) -> None:
    from callsys.crm.dynamics.setup import activity_logger_options, tables_from_settings
    from callsys.settings import load_settings

    path = tmp_path / "settings.toml"
    path.write_text(
        '[ui]\nlanguage = "fa"\n[crm]\nbackend = "dynamics"\nurl = "https://contoso.crm4.dynamics.com"\n'
        'unanswered_statuscode = 100000000\nextra_phone_columns = ["contact.new_otherphone"]\n'
        '[[crm.custom_tables]]\nlogical = "new_patient"\nentity_set = "new_patients"\nid = "new_patientid"\n'
        'name = "new_name"\nphones = ["new_emergencyphone"]\n',
        encoding="utf-8",
    )
    settings = load_settings(path, must_exist=True)
    tables = {t.logical: t for t in tables_from_settings(settings)}
    assert "new_otherphone" in tables["contact"].phones and "mobilephone" in tables["contact"].phones
    assert tables["new_patient"].phones == ("new_emergencyphone",)
    options = activity_logger_options(settings)
    assert options["unanswered_status"] == (1, 100000000)
    assert options["unanswered_title"] == "بی پاسخ"


def test_record_url_needs_no_sign_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import msal_extensions

    def no_secret_store(location: str) -> object:
        raise RuntimeError("Secret Service is not available")

    monkeypatch.setattr(msal_extensions, "build_encrypted_persistence", no_secret_store)
    path = tmp_path / "settings.toml"
    path.write_text(
        f'[storage]\ndatabase = "{tmp_path / "cs.sqlite3"}"\n[crm]\nbackend = "dynamics"\n'
        'url = "https://contoso.crm4.dynamics.com"\nauth = "interactive"\nclient_id = "app"\napp_id = "a1"\n',
        encoding="utf-8",
    )
    record = "8c1e0000-0000-4000-8000-000000000001"
    data = run_json(path, "crm", "url", "contact", record)
    assert (
        data["url"]
        == f"https://contoso.crm4.dynamics.com/main.aspx?appid=a1&pagetype=entityrecord&etn=contact&id=%7B{record}%7D"
    )
    code, _ = run(path, "crm", "sync")  # the sign-in is needed now, and refused clearly
    assert code == 1


def test_crm_convert_again_after_the_link_failed_makes_no_second_record(
    tmp_path: Path, served: tuple[DataverseFake, FakeServer]
) -> None:
    from tests.crm.helpers import play_call

    fake, server = served
    config = _config(tmp_path, server.url)
    db, logger, manager, plan = _call_logger(tmp_path)
    play_call(manager, plan, "pbx-7", "+4930123457")
    activity = logger.activity_id("pbx-7") or ""
    db.conn.close()
    assert run(config, "crm", "flush")[0] == 0  # the activity is in Dynamics, closed

    # the lead is made, then relinking the closed activity meets one 503
    fake.inject(503, method="PATCH", path="/phonecalls(", inner=True)
    code, _ = run(config, "crm", "convert", "lead", "030 123457", "--name", "Lea Lang", "--call", "pbx-7")
    assert code != 0 and fake.faults == []
    assert fake.count("lead") == 1
    assert (fake.find("phonecall", activity) or {}).get("_regardingobjectid_value") is None

    made = run_json(config, "crm", "convert", "lead", "030 123457", "--name", "Lea Lang", "--call", "pbx-7")
    assert fake.count("lead") == 1  # the retry found the first lead
    assert made["linked_activity"] == activity and fake.find("lead", made["id"]) is not None
    call = fake.find("phonecall", activity) or {}
    assert call["_regardingobjectid_value"] == made["id"] and call["statecode"] == 1


def test_refused_writes_are_listed_retried_dropped_and_make_flush_fail(
    tmp_path: Path, served: tuple[DataverseFake, FakeServer]
) -> None:
    from callsys.model import EndReason
    from tests.crm.helpers import play_call

    fake, server = served
    config = _config(tmp_path, server.url)
    db, logger, manager, plan = _call_logger(tmp_path)
    for n in (1, 2):
        play_call(manager, plan, f"missed-{n}", f"+4930777000{n}", answer_after=None, reason=EndReason.MISSED)
    missed = logger.activity_id("missed-1")
    db.conn.close()
    fake.tables["phonecall"].states[2] = {5}  # this organisation has no Canceled/Canceled

    code, text = run(config, "crm", "flush")
    assert code == 1 and "2 refused by the CRM" in text  # not "all is well"
    dead = run_json(config, "crm", "outbox", "list")
    assert [d["state"] for d in dead] == ["dead", "dead"] and missed in {d["activityid"] for d in dead}
    assert all("is not a valid status code" in d["error"] for d in dead)
    code, text = run(config, "crm", "outbox", "list")
    assert code == 0 and dead[0]["id"] in text and "is not a valid status code" in text

    assert run(config, "crm", "outbox", "retry")[0] != 0  # neither ids nor --all: nothing is done
    fake.tables["phonecall"].states[2] = {3, 5}  # the administrator fixed the organisation
    first = next(d for d in dead if d["activityid"] == missed)
    assert run_json(config, "crm", "outbox", "retry", first["id"][:8]) == {"retried": 1}
    code, text = run(config, "crm", "flush")
    assert code == 1 and "1 delivered" in text  # the other one is still refused
    assert (fake.find("phonecall", missed or "") or {}).get("statecode") == 2

    assert run_json(config, "crm", "outbox", "drop", "--all") == {"dropped": 1}
    assert run(config, "crm", "flush")[0] == 0
    assert run_json(config, "crm", "outbox", "list") == []
