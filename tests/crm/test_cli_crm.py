"""``callsys crm sync|discover|flush`` against the Dataverse fake on a loopback port."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callsys.cli import main
from providers import REGISTRY
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


def run(config: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main([*argv, "--config", str(config)], registry=REGISTRY, out=out)
    return code, out.getvalue()


def run_json(config: Path, *argv: str) -> Any:
    code, text = run(config, *argv, "--json")
    assert code == 0, text
    return json.loads(text)


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
