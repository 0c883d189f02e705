"""The desktop composed with phone.provider = "server": it talks to the address on the Server
tab and never writes an activity of its own (the server does — never two for one call)."""

from __future__ import annotations

from pathlib import Path

from callsys.settings import Settings
from providers import REGISTRY
from providers.server import ServerProvider


def test_desktop_uses_the_server_address_and_leaves_the_activity_to_the_server(tmp_path: Path) -> None:
    from ui.desktop import compose

    settings = Settings(
        {
            "phone.provider": "server",
            "server.url": "ws://127.0.0.1:8765",
            "crm.backend": "local",
            "storage.database": str(tmp_path / "desk.sqlite3"),
        }
    )
    desktop = compose(settings, REGISTRY)
    try:
        assert isinstance(desktop.provider, ServerProvider)
        assert desktop.provider.url == "ws://127.0.0.1:8765/ws"
        assert not desktop.provider.owns_activity
        assert desktop.activity is None
    finally:
        if desktop.db is not None:
            desktop.db.conn.close()
