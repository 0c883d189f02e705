"""The server's settings block: a bad file names the key; secrets stay out of it; JSON logs."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from callsys.errors import ConfigError
from callsys.server.config import ServerConfig
from callsys.server.logs import JsonFormatter
from callsys.settings import load_settings

GOOD = """
[numbers]
region = "IR"

[phone]
dial_prefix = "9"

[server]
listen_port = 0
seats = 3
users = { "1001" = "AAAAAAAA-0000-0000-0000-000000000001", "tabriz/1001" = "bbbbbbbb-0000-0000-0000-000000000002" }

[[server.branches]]
name = "tehran"
provider = "ami"
options = { host = "10.0.0.5", username = "callsys" }

[[server.branches]]
name = "tabriz"
region = "IR"
area_code = "41"
dial_prefix = "0"
dnis_lines = { "7000" = "Tabriz sales" }
options = { host = "10.1.0.5", username = "callsys", secret_name = "ami/tabriz-pbx" }

[[server.agents]]
name = "sara"
extensions = ["1001"]
branch = "tabriz"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_branches_agents_and_users_are_read(tmp_path: Path) -> None:
    config = ServerConfig.from_settings(load_settings(write(tmp_path, GOOD)))
    assert [b.name for b in config.branches] == ["tehran", "tabriz"]
    tehran, tabriz = config.branches
    assert tehran.plan.dial_prefix == "9" and tabriz.plan.dial_prefix == "0"  # per-branch habits (SET6)
    assert tabriz.plan.area_code == "41"
    assert tabriz.shared_settings()["lines"] == ["Tabriz sales"]
    assert tehran.options["secret_name"] == "ami/tehran" and tabriz.options["secret_name"] == "ami/tabriz-pbx"
    assert config.agents["sara"].branch == "tabriz"
    assert config.users["1001"] == "aaaaaaaa-0000-0000-0000-000000000001"
    assert config.seats == 3


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        ('name = "tehran"', "server.branches[0].name", "short name"),
        ('extensions = ["1001"]', "server.agents[0]", "list of extensions"),
        ('branch = "tabriz"', "server.agents[0]", "not one of the branches"),
    ],
)
def test_a_bad_table_names_the_key(tmp_path: Path, change: str, key: str, words: str) -> None:
    broken = {
        'name = "tehran"': 'name = "teh ran!"',
        'extensions = ["1001"]': 'extensions = ["10x1"]',
        'branch = "tabriz"': 'branch = "shiraz"',
    }[change]
    with pytest.raises(ConfigError) as caught:
        ServerConfig.from_settings(load_settings(write(tmp_path, GOOD.replace(change, broken))))
    assert caught.value.key is not None and caught.value.key.startswith(key)
    assert words in str(caught.value)


def test_a_user_map_that_is_not_a_guid_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace('"AAAAAAAA-0000-0000-0000-000000000001"', '"sara@contoso.com"')
    with pytest.raises(ConfigError, match="Dynamics user id"):
        ServerConfig.from_settings(load_settings(write(tmp_path, text)))


def test_a_pbx_secret_in_the_file_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace('username = "callsys" }', 'username = "callsys", secret = "hunter2" }', 1)
    with pytest.raises(ConfigError, match="keyring"):
        load_settings(write(tmp_path, text))


def test_server_command_without_branches_says_what_to_add(tmp_path: Path) -> None:
    from callsys.cli import main
    from providers import REGISTRY

    out = io.StringIO()
    code = main(
        ["server", "--check", "--json", "--config", str(write(tmp_path, "[server]\nseats = 2\n"))],
        registry=REGISTRY,
        out=out,
    )
    assert code == 2
    assert "[[server.branches]]" in json.loads(out.getvalue())["error"]
    logging.getLogger().handlers.clear()  # the command installed its JSON handler on stderr


def test_log_lines_are_json_with_the_extra_fields() -> None:
    record = logging.LogRecord(
        "callsys.server.hub", logging.INFO, __file__, 1, "desktop %s connected", ("s1",), None
    )
    record.agent = "sara"
    record.seats_used = 3
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "desktop s1 connected"
    assert line["level"] == "info" and line["logger"] == "callsys.server.hub"
    assert line["agent"] == "sara" and line["seats_used"] == 3
    assert line["ts"].endswith("+00:00")
