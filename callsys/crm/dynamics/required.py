"""The columns a Dynamics 365 table requires on create (IN11, OUT7: "with the fields the CRM requires").

An organisation may make any column of a lead, contact, account, case or phone call required (a
custom "Region" choice on every lead, say). The Convert dialog asks here which required columns
callsys does not fill itself, and shows a field for each.

Read from the table's attribute metadata (Web API metadata, contract §1.1)::

    GET $API/EntityDefinitions(LogicalName='lead')/Attributes
        ?$select=LogicalName,RequiredLevel,AttributeType,DisplayName,IsValidForCreate,AttributeOf
    GET $API/EntityDefinitions(LogicalName='lead')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata
        ?$select=LogicalName&$expand=OptionSet($select=Options),GlobalOptionSet($select=Options)

``RequiredLevel`` is a managed property (``{"Value": "ApplicationRequired", "CanBeChanged": …}``);
filtering on it server-side is not something the contract confirms, so every attribute is read
and the required ones are picked here. ``DisplayName`` is a Label: its ``UserLocalizedLabel`` is
in the signed-in user's language. Both answers are kept for the session (per connector): metadata
changes when someone customises the organisation, not between two calls.

Note: the Web API itself enforces only ``SystemRequired`` (system columns that the platform or
callsys fills); ``ApplicationRequired`` ("business required") is enforced by forms — and by the
plug-ins or business rules organisations add, whose refusal the dialog then shows.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from callsys.crm.dynamics.odata import column

__all__ = ["COVERED", "FILLED", "RequiredColumn", "RequiredColumns", "required_columns"]

REQUIRED_LEVELS = ("ApplicationRequired", "SystemRequired")

#: What callsys puts into each table on every create.
FILLED: Mapping[str, frozenset[str]] = {
    "lead": frozenset({"subject", "lastname", "fullname", "telephone1", "mobilephone"}),
    "contact": frozenset({"lastname", "fullname", "telephone1", "mobilephone"}),
    "account": frozenset({"name", "telephone1"}),
    "incident": frozenset({"title", "caseorigincode", "customerid"}),
    "phonecall": frozenset({"subject", "phonenumber", "directioncode", "scheduledend"}),
}
#: Required columns the dialog's own fields fill when typed (column → the dialog's field): the
#: dialog marks that field required instead of adding one.
COVERED: Mapping[str, Mapping[str, str]] = {
    "lead": {
        "firstname": "name",
        "companyname": "company",
        "emailaddress1": "email",
        "description": "description",
    },
    "contact": {"firstname": "name", "emailaddress1": "email"},
    "account": {"emailaddress1": "email"},
    "incident": {"description": "description"},
    "phonecall": {"description": "description"},
}
#: Filled by the platform or by callsys on every table: ids, owner, state, audit columns.
_ALWAYS = frozenset(
    {"ownerid", "statecode", "statuscode", "createdon", "modifiedon", "createdby", "modifiedby"}
)
#: Types nobody types in: the platform fills them, or they are parts of another column.
_SKIPPED_TYPES = frozenset(
    {
        "Uniqueidentifier",
        "Owner",
        "State",
        "Status",
        "EntityName",
        "Virtual",
        "ManagedProperty",
        "CalendarRules",
    }
)

KINDS = {
    "String": "text",
    "Memo": "memo",
    "Integer": "integer",
    "BigInt": "integer",
    "Decimal": "decimal",
    "Double": "decimal",
    "Money": "money",
    "Boolean": "boolean",
    "Picklist": "choice",
    "Lookup": "lookup",
    "Customer": "lookup",
    "DateTime": "datetime",
}


@dataclass(frozen=True, slots=True)
class RequiredColumn:
    """One column the organisation requires that callsys does not fill."""

    logical: str
    label: str  # the display name in the user's language ("" when the organisation gave none)
    kind: str  # text | memo | integer | decimal | money | boolean | choice | lookup | datetime | other
    attribute_type: str = ""
    options: tuple[tuple[int, str], ...] = ()  # a choice's (value, label) pairs

    @property
    def title(self) -> str:
        return self.label or self.logical

    @property
    def typed_here(self) -> bool:
        """Can the dialog take its value (a lookup or a date must be filled in Dynamics 365)?"""
        return self.kind in ("text", "memo", "integer", "decimal", "money", "boolean", "choice")


def _label(value: Any) -> str:
    if not isinstance(value, Mapping):
        return ""
    user = value.get("UserLocalizedLabel")
    if isinstance(user, Mapping) and user.get("Label"):
        return str(user["Label"])
    for item in value.get("LocalizedLabels") or ():
        if isinstance(item, Mapping) and item.get("Label"):
            return str(item["Label"])
    return ""


def _level(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("Value") or "")
    return str(value or "")


def parse_attributes(rows: Sequence[Mapping[str, Any]], table: str) -> list[RequiredColumn]:
    """The required, creatable columns of *rows* (an ``Attributes`` answer) that callsys does not
    fill, in the order the service listed them."""
    filled = FILLED.get(table, frozenset()) | _ALWAYS
    out: list[RequiredColumn] = []
    for row in rows:
        name = str(row.get("LogicalName") or "")
        kind_name = str(row.get("AttributeType") or "")
        if not name or _level(row.get("RequiredLevel")) not in REQUIRED_LEVELS:
            continue
        if row.get("IsValidForCreate") is False or row.get("AttributeOf"):
            continue  # computed, or a part of another column (owneridtype, …)
        if kind_name in _SKIPPED_TYPES or name in filled or name == f"{table}id":
            continue
        out.append(
            RequiredColumn(name, _label(row.get("DisplayName")), KINDS.get(kind_name, "other"), kind_name)
        )
    return out


def parse_options(row: Mapping[str, Any]) -> tuple[tuple[int, str], ...]:
    """(value, label) of a picklist's own or global option set."""
    for key in ("OptionSet", "GlobalOptionSet"):
        options = row.get(key)
        if isinstance(options, Mapping) and options.get("Options"):
            return tuple(
                (int(o["Value"]), _label(o.get("Label")) or str(o["Value"]))
                for o in options["Options"]
                if isinstance(o, Mapping) and isinstance(o.get("Value"), int)
            )
    return ()


class RequiredColumns:
    """Required columns per table, read once per session from *crm* (a ``DynamicsCrm``)."""

    def __init__(self, crm: Any) -> None:
        self.crm = crm
        self._cache: dict[str, tuple[RequiredColumn, ...]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def cached(self, table: str) -> tuple[RequiredColumn, ...] | None:
        return self._cache.get(table)

    async def required(self, table: str) -> tuple[RequiredColumn, ...]:
        if table in self._cache:
            return self._cache[table]
        lock = self._locks.setdefault(table, asyncio.Lock())
        async with lock:  # the dialog and a Create click may ask at once: one request
            if table not in self._cache:
                self._cache[table] = await self._read(table)
        return self._cache[table]

    async def _read(self, table: str) -> tuple[RequiredColumn, ...]:
        base = f"EntityDefinitions(LogicalName='{column(table)}')/Attributes"
        data = await self.crm.get_json(
            base,
            {"$select": "LogicalName,RequiredLevel,AttributeType,DisplayName,IsValidForCreate,AttributeOf"},
            what=f"read what a {table} requires",
        )
        found = parse_attributes(list(data.get("value") or []), table)
        if any(c.kind == "choice" for c in found):
            choices = await self.crm.get_json(
                f"{base}/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
                {
                    "$select": "LogicalName",
                    "$expand": "OptionSet($select=Options),GlobalOptionSet($select=Options)",
                },
                what=f"read the choices of a {table}",
            )
            by_name = {str(r.get("LogicalName")): parse_options(r) for r in choices.get("value") or []}
            found = [
                RequiredColumn(c.logical, c.label, c.kind, c.attribute_type, by_name.get(c.logical, ()))
                if c.kind == "choice"
                else c
                for c in found
            ]
        return tuple(found)


_BY_CRM: weakref.WeakKeyDictionary[Any, RequiredColumns] = weakref.WeakKeyDictionary()


def required_columns(crm: Any) -> RequiredColumns:
    """The session's ``RequiredColumns`` of *crm* (one per connector, so one metadata read)."""
    found = _BY_CRM.get(crm)
    if found is None:
        found = _BY_CRM[crm] = RequiredColumns(crm)
    return found
