"""Which CRM to talk to: ``create_crm`` reads ``crm.backend`` and builds it.

``local`` is the embedded directory (``LocalCrm``). ``dynamics`` is the Dynamics 365 connector
(``callsys.crm.dynamics``), imported only when it is chosen (start-up time).
"""

from __future__ import annotations

from callsys.crm import Crm
from callsys.errors import ConfigError
from callsys.numbers import NumberPlan
from callsys.settings import CRM_BACKEND, Settings
from callsys.store import Database

__all__ = ["create_crm"]


def create_crm(settings: Settings, db: Database, plan: NumberPlan) -> Crm:
    """The configured ``Crm``. The caller owns *db* and closes the CRM (``await crm.close()``)."""
    backend = settings[CRM_BACKEND]
    if backend == "local":
        from callsys.crm.local import LocalCrm

        return LocalCrm(db, plan)
    if backend == "dynamics":
        from callsys.crm.dynamics.setup import create

        return create(settings, db, plan)  # tables, sign-in, secrets, token cache, phone index
    raise ConfigError(  # pragma: no cover - the setting's parser allows only the two above
        f"Setting 'crm.backend' has the value {backend!r}, but it should be 'local' or 'dynamics'.",
        key=CRM_BACKEND.key,
    )
