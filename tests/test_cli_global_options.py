"""``callsys``'s own options (``--config PATH``, ``--json``) work before and after the
sub-command, for every sub-command (issue 11 item 7, issue 14 item 8) — run as a user runs it, in
a subprocess through ``python -m callsys`` (the ``callsys`` entry point, ``callsys/__main__.py``)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from callsys.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "elsewhere.toml"  # never the default settings file
    path.write_text(f'[storage]\ndatabase = "{tmp_path / "cs.sqlite3"}"\n', encoding="utf-8")
    return path


def callsys(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(ROOT),
    }
    try:
        return subprocess.run(
            [sys.executable, "-m", "callsys", *argv],
            check=False,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired as exc:  # the desktop started instead of the command
        raise AssertionError(f"callsys {' '.join(argv)} did not finish: {exc.stderr!r}") from None


def _log_with_one_call(tmp_path: Path, config: Path) -> None:
    done = callsys(tmp_path, "--config", str(config), "simulate", "missed", "--speed", "0", "--log-to-real")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["--json", "log", "--config", "{config}"],
        ["log", "--json", "--config", "{config}"],
        ["--config", "{config}", "--json", "log", "--limit", "1"],
        ["--json", "--config", "{config}", "log", "--limit", "1"],
        ["log", "--limit", "1", "--config", "{config}", "--json"],
    ],
)
def test_log_takes_the_global_options_before_or_after_it(
    tmp_path: Path, config: Path, argv: list[str]
) -> None:
    _log_with_one_call(tmp_path, config)
    done = callsys(tmp_path, *(a.replace("{config}", str(config)) for a in argv))
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert isinstance(rows, list) and len(rows) == 1


def test_config_before_the_command_is_read_not_the_default_file(tmp_path: Path, config: Path) -> None:
    _log_with_one_call(tmp_path, config)
    done = callsys(tmp_path, "--config", str(config), "log", "--limit", "1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() and not done.stdout.lstrip().startswith("[")  # text, one call
    missing = callsys(tmp_path, "--config", str(tmp_path / "nope.toml"), "log")
    assert missing.returncode == 2 and "nope.toml" in missing.stderr


@pytest.mark.parametrize("before", [True, False])
def test_crm_sync_with_config_first_syncs_instead_of_starting_the_desktop(
    tmp_path: Path, config: Path, before: bool
) -> None:
    options = ["--config", str(config), "--json"]
    done = callsys(tmp_path, *([*options, "crm", "sync"] if before else ["crm", "sync", *options]))
    # The file says crm.backend = local: the sync command itself answers, in JSON.
    assert done.returncode == 2
    assert "talks to Dynamics 365" in json.loads(done.stdout)["error"]


def _leaf_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path
        return
    for name, child in subs[0].choices.items():
        yield from _leaf_parsers(child, (*path, name))


def _parser_of(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> argparse.ArgumentParser:
    for name in path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


def test_every_sub_command_keeps_the_global_options_given_before_it() -> None:
    """No sub-command (at any depth) has a default of its own for a global option: otherwise it
    overwrites ``--json``/``--config`` given before the command with False/None."""
    from callsys.__main__ import _extra_commands

    parser = build_parser(_extra_commands())
    leaves = list(_leaf_parsers(parser))
    assert ("log",) in leaves and ("crm", "sync") in leaves and len(leaves) > 15
    for path in leaves:
        for at in range(1, len(path) + 1):
            sub = _parser_of(parser, path[:at])
            for action in sub._actions:
                if {"--json", "--config", "--verbose"} & set(action.option_strings):
                    assert action.default is argparse.SUPPRESS, (path[:at], action.option_strings)


@pytest.mark.parametrize(
    ("argv", "first"),
    [
        (["--config", "x.toml", "crm", "sync"], "crm"),
        (["--json", "log"], "log"),
        (["--config=x.toml", "log"], "log"),
        (["--config", "x.toml"], None),
        (["--config", "x.toml", "tel:+982188776655"], "tel:+982188776655"),
        (["-v", "--", "log"], "log"),
    ],
)
def test_the_command_is_found_after_the_global_options(argv: list[str], first: str | None) -> None:
    from callsys.cli import first_positional

    assert first_positional(argv) == first
