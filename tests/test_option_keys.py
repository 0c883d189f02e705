"""Keys of ``phone.options`` (and of each line / nested table) that the chosen provider does not know
are reported with their full path and the nearest known key — as warnings: the provider still
starts. The command line prints them on stderr (``callsys phone``, ``callsys server --check``)."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from callsys.cli import main
from callsys.provider import ProviderRegistry
from providers import REGISTRY
from providers.sim import SimulatedProvider


def test_softphone_names_a_typo_with_its_path_and_the_key_meant() -> None:
    warnings = REGISTRY.option_warnings(
        "sip",
        {
            "auto_answr": True,
            "listen_port": 0,
            "lines": [
                {"id": "office", "user": "1001", "registrar": "sip:pbx.example.com"},
                {"user": "1002", "voicemail_url": "*97"},
            ],
            "audio": {"mode": "none", "ring_devise": 2},
        },
    )
    assert warnings == [
        "phone.options.auto_answr is not an option of the embedded softphone — did you mean auto_answer?",
        "phone.options.lines[1].voicemail_url is not an option of the embedded softphone — "
        "did you mean voicemail_uri?",
        "phone.options.audio.ring_devise is not an option of the embedded softphone — "
        "did you mean ring_device?",
    ]


def test_softphone_flags_what_the_simulator_left_behind() -> None:
    warnings = REGISTRY.option_warnings(
        "sip", {"speed": 0, "agent_script": False, "dnd": True, "host": "pbx", "colour": "red"}
    )
    assert warnings == [
        "phone.options.speed is not an option of the embedded softphone but of the simulator; it is ignored.",
        "phone.options.agent_script is not an option of the embedded softphone but of the simulator; "
        "it is ignored.",
        "phone.options.host is not an option of the embedded softphone but of the Asterisk (AMI) "
        "connection; it is ignored.",
        "phone.options.colour is not an option of the embedded softphone; it is ignored.",
    ]


def test_the_softphone_documented_example_has_no_warning() -> None:
    """Every key the SIP options document (providers.sip.options) is known: no false alarm."""
    example = {
        "lines": [
            {
                "id": "office", "label": "Office", "registrar": "sip:pbx.example.com", "user": "1001",
                "auth_user": "1001", "password": "x", "domain": "pbx.example.com", "proxy": "",
                "transport": "udp", "display_name": "Reception", "reg_timeout": 300, "tls_verify": True,
                "tls_ca_file": "", "tls_cert_file": "", "tls_key_file": "", "voicemail_uri": "*97",
                "secret_name": "sip/office",
            }
        ],
        "default_line": "office", "listen_host": "0.0.0.0", "listen_port": 5060, "user": "callsys",
        "rtp_port": 4000, "rtp_port_range": 1000, "dnd": False, "auto_answer": False,
        "auto_answer_delay": 0.0, "reject_code": 486, "ring_timeout": 120, "poll_interval_ms": 20,
        "reg_retry": 30, "log_file": "", "log_level": 3, "user_agent": "callsys",
        "audio": {"mode": "device", "input_device": None, "output_device": None, "ring_device": None,
                  "play_file": "tone.wav", "record_dir": "/tmp/rec"},
    }  # fmt: skip
    assert REGISTRY.option_warnings("sip", example) == []


def test_asterisk_names_a_misspelt_voicemail_exten_and_a_stray_line_key() -> None:
    warnings = REGISTRY.option_warnings(
        "ami",
        {
            "username": "callsys",
            "voicemail_extn": "vm${EXTEN}",
            "lines": ["7000", {"id": "7001", "did": "02188776655", "lable": "Sales"}],
        },
    )
    assert warnings == [
        "phone.options.voicemail_extn is not an option of the Asterisk (AMI) connection — "
        "did you mean voicemail_exten?",
        "phone.options.lines[1].lable is not an option of the Asterisk (AMI) connection — "
        "did you mean label?",
    ]
    every = {
        "name": "ami", "host": "h", "port": 5038, "username": "u", "secret": "s", "extensions": ["1"],
        "context": "c", "technology": "PJSIP", "prefix": "9", "caller_id_name": "x",
        "originate_timeout": 30, "variables": [], "did_variable": "D", "line_variable": "L",
        "voicemail_exten": "*97", "voicemail_context": "c", "voicemail_priority": 1, "region": "IR",
        "area_code": "21", "pbx_clock": True, "ping_interval": 20, "ping_timeout": 10,
        "connect_timeout": 5, "action_timeout": 10, "backoff_initial": 0.5, "backoff_max": 30,
        "secret_name": "ami/x",
        "lines": [{"id": "a", "label": "A", "did": "1", "prefix": "9", "context": "c"}],
    }  # fmt: skip
    assert REGISTRY.option_warnings("ami", every) == []


def test_simulator_and_server_report_theirs_too() -> None:
    assert REGISTRY.option_warnings("sim", {"speed": 0, "extensions": ["1001"]}) == [
        "phone.options.extensions is not an option of the simulator — did you mean extension?"
    ]
    assert REGISTRY.option_warnings(
        "server", {"url": "ws://h/ws", "Agent": "sara"}, "server.branches[0].options"
    ) == [
        "server.branches[0].options.Agent is not an option of the callsys server connection — "
        "did you mean agent?"
    ]
    every = {"speed": 0, "agent_script": 1, "extension": "1", "capabilities": None, "lines": ["a"],
             "dial_answer_after": 1}  # fmt: skip
    assert REGISTRY.option_warnings("sim", every) == []


def test_unknown_keys_do_not_stop_the_provider() -> None:
    provider = REGISTRY.create("sim", {"speed": 0, "auto_answr": True})
    assert isinstance(provider, SimulatedProvider)


def test_a_provider_that_declares_no_keys_gets_no_warning() -> None:
    registry = ProviderRegistry()
    registry.register("x", SimulatedProvider)
    assert registry.option_keys("x") is None
    assert registry.option_warnings("x", {"anything": 1}) == []
    assert REGISTRY.option_warnings("no-such-phone", {"anything": 1}) == []


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_callsys_phone_prints_the_warnings_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from providers.sip import phone_cli

    # reject_code 404 is refused right away, so the phone stops before it needs a network
    config = _write(
        tmp_path, '[phone]\nprovider = "sip"\noptions = { auto_answr = true, reject_code = 404 }\n'
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("quit\n"))
    out = io.StringIO()
    code = main(["phone", "--config", str(config)], registry=REGISTRY, extra=[phone_cli.register], out=out)
    assert code == 2
    err = capsys.readouterr().err
    assert (
        "callsys: warning: phone.options.auto_answr is not an option of the embedded softphone — "
        "did you mean auto_answer?" in err
    )
    assert "auto_answr" not in out.getvalue()  # stdout stays JSON lines


def test_server_check_prints_a_branch_warning_on_stderr_and_still_checks_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write(
        tmp_path,
        '[[server.branches]]\nname = "lab"\nprovider = "sim"\noptions = { speed = 0, agent_scrpt = false }\n'
        '[[server.agents]]\nname = "sara"\nextensions = ["1001"]\nbranch = "lab"\n',
    )
    out = io.StringIO()
    try:
        main(["server", "--check", "--json", "--check-timeout", "2", "--config", str(config)],
             registry=REGISTRY, out=out)  # fmt: skip
    finally:
        logging.getLogger().handlers.clear()  # the command installed its JSON handler on stderr
    err = capsys.readouterr().err
    assert (
        "callsys: warning: server.branches[0].options.agent_scrpt is not an option of the simulator — "
        "did you mean agent_script?" in err
    )
    checks: dict[str, Any] = {c["check"]: c for c in json.loads(out.getvalue())["checks"]}
    assert checks["pbx:lab"]["ok"] is True  # the branch started regardless
    assert "secret_name" not in err  # the server's own key, not the provider's


def test_the_running_server_logs_a_branch_warning_as_a_json_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import callsys.cli.server as server_cli

    async def serve(config: Any, ctx: Any) -> int:  # the warning comes before the server starts
        return 0

    monkeypatch.setattr(server_cli, "_serve", serve)
    config = _write(
        tmp_path,
        '[[server.branches]]\nname = "tehran"\nprovider = "ami"\n'
        'options = { host = "10.0.0.5", username = "callsys", voicemail_extn = "*97" }\n',
    )
    try:
        assert main(["server", "--config", str(config)], registry=REGISTRY, out=io.StringIO()) == 0
    finally:
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert {
        "level": "warning",
        "event": "unknown_option",
        "msg": "server.branches[0].options.voicemail_extn is not an option of the Asterisk (AMI) "
        "connection — did you mean voicemail_exten?",
    }.items() <= next(line for line in lines if line.get("event") == "unknown_option").items()
