"""``callsys simulate`` keeps its fake calls out of the real call log and reports (issue 11 item
7): they go to a simulation log of their own unless ``--log-to-real`` is given."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_runner import run, run_json


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
