"""Which CRM to talk to: ``create_crm`` reads ``crm.backend`` and builds it.

``local`` is the embedded directory (``LocalCrm``), always available. ``dynamics`` is imported
lazily, so the app starts (and the local CRM works) even where the Dynamics connector or its
dependencies are missing — choosing it then gives a ``ConfigError`` that says so.
"""

from __future__ import annotations

import importlib
from typing import Any, cast

import sqlite_utils

from callsys.crm import Crm
from callsys.errors import ConfigError
from callsys.numbers import NumberPlan
from callsys.settings import CRM_BACKEND, Settings

__all__ = ["create_crm"]


def create_crm(settings: Settings, db: sqlite_utils.Database, plan: NumberPlan) -> Crm:
    """The configured ``Crm``. The caller owns *db* and closes the CRM (``await crm.close()``)."""
    backend = settings[CRM_BACKEND]
    if backend == "local":
        from callsys.crm.local import LocalCrm

        return LocalCrm(db, plan)
    if backend == "dynamics":
        try:
            module: Any = importlib.import_module("callsys.crm.dynamics")
            factory = module.DynamicsCrm
        except (ImportError, AttributeError) as exc:
            raise ConfigError(
                "Setting 'crm.backend' is 'dynamics', but the Dynamics 365 connector cannot be loaded "
                f"({exc}). Use 'local', or install callsys with its Dynamics dependencies.",
                key=CRM_BACKEND.key,
            ) from None
        create = getattr(module, "create", None)
        if callable(create):  # the connector's own composition (settings, secrets, token cache)
            return cast(Crm, create(settings, db, plan))
        return cast(Crm, factory(settings=settings, db=db, plan=plan))
    raise ConfigError(  # pragma: no cover - the setting's parser allows only the two above
        f"Setting 'crm.backend' has the value {backend!r}, but it should be 'local' or 'dynamics'.",
        key=CRM_BACKEND.key,
    )
