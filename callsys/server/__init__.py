"""The callsys server (``callsys server``): the same core, headless — PBX connections per branch
(SET6) → CallManager → CRM logger with its durable outbox (IN14) → an authenticated WebSocket hub
for desktops with a concurrent-seat limit (ARCH3), shared settings and an update manifest (SET5).

- ``config``   — the ``server.*`` settings as validated values
- ``protocol`` — the JSON wire protocol both the server and the ``server`` provider speak
- ``hub``      — WebSocket sessions, authentication, seats, push, HTTP endpoints
- ``daemon``   — ``CallServer``: composes the parts, graceful shutdown
- ``logs``     — structured (JSON lines) logging
"""

from callsys.server.config import ServerConfig
from callsys.server.daemon import ActivityWriter, CallServer

__all__ = ["ActivityWriter", "CallServer", "ServerConfig"]
