"""``callsys simulate`` keeps its fake calls out of the real call log and reports (issue 11 item
7): they go to a simulation log of their own unless ``--log-to-real`` is given. With
``--log-to-crm`` they become Dynamics 365 activities through the desktop's outbox (issue 14)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_runner import run, run_json
from tests.dataverse_fake import DataverseFake, FakeServer, Fault


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(f'[storage]\ndatabase = "{tmp_path / "cs.sqlite3"}"\n', encoding="utf-8")
    return path


def test_simulated_calls_stay_out_of_the_real_log_and_reports(config: Path, tmp_path: Path) -> None:
    code, text = run(config, "simulate", "missed", "--speed", "0")
    assert code == 0
    assert "simulation log ('callsys log --simulated'), not the real call log" in text

    assert run_json(config, "log") == []
    assert run_json(config, "report", "--source", "local")["total"]["calls"] == 0

    simulated = run_json(config, "log", "--simulated")
    assert [(r["direction"], r["result"]) for r in simulated] == [("incoming", "missed")]
    report = run_json(config, "report", "--simulated")
    assert report["total"]["calls"] == 1
    assert "Simulated calls" in report["notes"][0]
    assert (tmp_path / "cs.simulated.sqlite3").is_file()


def test_log_to_real_writes_into_the_real_log(config: Path) -> None:
    code, _text = run(config, "simulate", "outgoing", "--speed", "0", "--log-to-real", "--json")
    assert code == 0
    assert [r["direction"] for r in run_json(config, "log")] == ["outgoing"]
    assert run_json(config, "log", "--simulated") == []


def test_the_help_says_where_the_calls_go(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run(config, "simulate", "--help")
    help_text = " ".join(capsys.readouterr().out.split())
    assert "kept apart from the real call log" in help_text and "--log-to-real" in help_text


def test_simulated_report_is_never_from_dynamics(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _text = run(config, "report", "--simulated", "--source", "dynamics")
    assert code == 2
    assert "never in Dynamics 365" in json.dumps(capsys.readouterr().err)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[DataverseFake, FakeServer]]:
    fake = DataverseFake()
    monkeypatch.setenv("CALLSYS_TEST_CRM_TOKEN", fake.issue_token())
    with fake.serve() as server:
        yield fake, server


def _dynamics(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(
        f'[storage]\ndatabase = "{tmp_path / "cs.sqlite3"}"\n\n'
        f'[crm]\nbackend = "dynamics"\nurl = "{url}"\nauth = "env"\ntoken_env = "CALLSYS_TEST_CRM_TOKEN"\n',
        encoding="utf-8",
    )
    return path


def test_log_to_crm_makes_each_simulated_call_an_activity_as_the_desktop_does(
    tmp_path: Path, served: tuple[DataverseFake, FakeServer]
) -> None:
    fake, server = served
    sara = fake.add("contact", {"firstname": "Sara", "lastname": "Ahmadi", "telephone1": "+98 21 8877 6655"})
    config = _dynamics(tmp_path, server.url)

    code, text = run(config, "simulate", "incoming", "--speed", "0", "--log-to-crm")
    assert code == 0, text
    assert "Dynamics 365: 2 activity write(s) delivered, 0 pending, 0 refused" in text
    [answered] = fake.rows["phonecall"].values()
    assert (answered["statecode"], answered["statuscode"]) == (1, 4)  # Completed / Received
    assert answered["_regardingobjectid_value"] == sara  # the caller the lookup found
    assert "Sara Ahmadi" in answered["subject"]

    # a second simulation numbers its calls from sim-1 again: the activity map tells calls apart
    # by id and start second (a restarted provider's call is not logged twice), so the next one
    # starts in the next second
    second = int(time.time()) + 1
    while time.time() < second:
        time.sleep(0.05)
    code, _ = run(config, "simulate", "missed", "--speed", "0", "--log-to-crm", "--json")
    assert code == 0
    assert fake.count("phonecall") == 2
    assert fake.count("phonecall", statecode=2) == 1  # the missed one: Unanswered, Canceled
    # the calls are still kept out of the real call log
    assert run_json(config, "log") == []


def test_without_log_to_crm_simulated_calls_never_reach_the_crm(
    tmp_path: Path, served: tuple[DataverseFake, FakeServer]
) -> None:
    fake, server = served
    code, _ = run(_dynamics(tmp_path, server.url), "simulate", "incoming", "--speed", "0")
    assert code == 0
    assert fake.count("phonecall") == 0


def test_log_to_crm_keeps_what_the_crm_did_not_take_for_crm_flush(
    tmp_path: Path, served: tuple[DataverseFake, FakeServer], capsys: pytest.CaptureFixture[str]
) -> None:
    fake, server = served
    config = _dynamics(tmp_path, server.url)
    fake.faults.append(Fault(status=503, times=1000, path="$batch"))  # the CRM is down
    code, text = run(config, "simulate", "missed", "--speed", "0", "--log-to-crm", "--crm-wait", "0")
    assert code == 1
    assert "1 pending" in text and "callsys crm flush" in text
    assert fake.count("phonecall") == 0

    fake.faults.clear()  # back: the desktop's outbox command delivers what the simulation queued
    code, text = run(config, "crm", "flush")
    assert code == 0, text
    assert fake.count("phonecall", statecode=2) == 1


def test_log_to_crm_needs_dynamics(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(config, "simulate", "missed", "--speed", "0", "--log-to-crm")
    assert code == 2
    assert 'crm.backend = "dynamics"' in capsys.readouterr().err
