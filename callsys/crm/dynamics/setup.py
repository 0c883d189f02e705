"""Composition of the Dynamics 365 connector from the settings: tables, sign-in, the client.

``callsys.crm.factory`` calls ``create`` here; the CLI commands (``callsys crm …``, ``callsys
report``) use the same functions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from callsys.auth import (
    CommandTokens,
    EnvTokens,
    LazyTokens,
    MsalConfidentialTokens,
    MsalPublicTokens,
    TokenProvider,
    check_org_url,
    token_cache,
)
from callsys.crm.dynamics.client import DEFAULT_TABLES, DynamicsCrm, TableSpec
from callsys.errors import ConfigError
from callsys.numbers import NumberPlan
from callsys.secretnames import DYNAMICS_SECRET
from callsys.settings import (
    CRM_APP_ID,
    CRM_AUTH,
    CRM_AUTHORITY,
    CRM_CERTIFICATE,
    CRM_CERTIFICATE_THUMBPRINT,
    CRM_CLIENT_ID,
    CRM_CUSTOM_TABLES,
    CRM_EXTRA_PHONES,
    CRM_PLAINTEXT_CACHE,
    CRM_TENANT,
    CRM_TOKEN_COMMAND,
    CRM_TOKEN_ENV,
    CRM_UNANSWERED_STATUS,
    CRM_URL,
    CRM_USE_INDEX,
    Settings,
    data_dir,
)
from callsys.store import Database

__all__ = [
    "activity_logger_options",
    "authority",
    "create",
    "org_url",
    "tables_from_settings",
    "tokens_from_settings",
    "unanswered_status",
]

#: Sign-in hosts of Microsoft's clouds (public, US Government, China, Germany), which MSAL knows;
#: any other ``crm.authority`` (an OpenID Connect endpoint of one's own, for tests) is used as it
#: is, without asking login.microsoftonline.com to validate it (instance discovery).
MICROSOFT_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.windows.net",
        "login.microsoft.com",
        "sts.windows.net",
        "login.microsoftonline.us",
        "login.usgovcloudapi.net",
        "login-us.microsoftonline.com",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
        "login.microsoftonline.de",
    }
)


def authority(settings: Settings) -> tuple[str, bool | None]:
    """(MSAL authority, instance discovery) from ``crm.authority`` and ``crm.tenant``."""
    host = settings[CRM_AUTHORITY]
    known = urlsplit(host).hostname in MICROSOFT_HOSTS
    return f"{host}/{settings[CRM_TENANT] or 'organizations'}", None if known else False


def org_url(settings: Settings) -> str:
    url = settings[CRM_URL]
    if not url:
        raise ConfigError(
            "Setting 'crm.url' is empty: enter your Dynamics 365 address, e.g. "
            "https://contoso.crm4.dynamics.com",
            key=CRM_URL.key,
        )
    return check_org_url(url)


def tables_from_settings(settings: Settings) -> tuple[TableSpec, ...]:
    """The four standard tables with any extra phone columns, plus the custom tables (IN2)."""
    extra: dict[str, list[str]] = {}
    for item in settings[CRM_EXTRA_PHONES]:
        table, _, column = item.partition(".")
        if not column:
            raise ConfigError(
                f"Setting 'crm.extra_phone_columns' has {item!r}; expected table.column, "
                "e.g. contact.new_otherphone",
                key=CRM_EXTRA_PHONES.key,
            )
        extra.setdefault(table, []).append(column)
    tables = [t.with_phones(extra.get(t.logical, [])) for t in DEFAULT_TABLES]
    custom: tuple[dict[str, Any], ...] = settings[CRM_CUSTOM_TABLES]
    for n, spec in enumerate(custom, 1):
        try:
            logical = str(spec["logical"])
            phones = spec["phones"]
            if not isinstance(phones, list) or not all(isinstance(p, str) for p in phones):
                raise TypeError
            tables.append(
                TableSpec(
                    logical=logical,
                    entity_set=str(spec.get("entity_set") or logical + "s"),
                    id_col=str(spec.get("id") or logical + "id"),
                    name_col=str(spec.get("name") or "new_name"),
                    phones=tuple(phones),
                    company_col=str(spec.get("company") or ""),
                )
            )
        except (KeyError, TypeError):
            raise ConfigError(
                f'Custom table #{n} in \'crm.custom_tables\' needs logical = "…" and phones = ["…"] '
                "(and usually entity_set, id and name).",
                key=CRM_CUSTOM_TABLES.key,
            ) from None
    return tuple(tables)


def unanswered_status(settings: Settings) -> tuple[int, int]:
    """(statecode, statuscode) of an unanswered call: Canceled, or the configured custom reason."""
    code = settings[CRM_UNANSWERED_STATUS]
    return (1, code) if code else (2, 3)


def activity_logger_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``ActivityLogger`` from the settings: the unanswered status
    (``crm.unanswered_statuscode``) and the titles in the UI language (IN8: "Unanswered" /
    "بی پاسخ")."""
    from callsys.settings import LANGUAGE

    options: dict[str, Any] = {"unanswered_status": unanswered_status(settings)}
    if settings[LANGUAGE] == "fa":
        options.update(unanswered_title="بی پاسخ", incoming_label="تماس ورودی", outgoing_label="تماس خروجی")
    return options


def tokens_from_settings(
    settings: Settings,
    *,
    http_client: Any = None,
    show_device_code: Callable[[str], None] | None = None,
    cache_path: Path | None = None,
) -> TokenProvider:
    method = settings[CRM_AUTH]
    url = org_url(settings)
    if method == "env":
        return EnvTokens(settings[CRM_TOKEN_ENV])
    if method == "command":
        command = settings[CRM_TOKEN_COMMAND]
        if not command:
            raise ConfigError(
                "Setting 'crm.auth' is 'command' but 'crm.token_command' is empty.", key=CRM_TOKEN_COMMAND.key
            )
        return CommandTokens(command)
    client_id = settings[CRM_CLIENT_ID]
    if not client_id:
        raise ConfigError(
            "Setting 'crm.client_id' is empty: enter the application (client) ID of the app registration.",
            key=CRM_CLIENT_ID.key,
        )
    where, discovery = authority(settings)
    if method == "client_secret":
        from callsys.secrets import get_secret

        secret = get_secret(DYNAMICS_SECRET)
        if not secret:
            raise ConfigError(
                "No client secret is stored: run `callsys secret set dynamics/client-secret`.",
                key=CRM_AUTH.key,
            )
        return MsalConfidentialTokens(
            url, client_id, where, secret, http_client=http_client, instance_discovery=discovery
        )
    if method == "certificate":
        path = Path(settings[CRM_CERTIFICATE]).expanduser()
        try:
            key = path.read_text()
        except OSError as exc:
            raise ConfigError(
                f"Cannot read the certificate {path}: {exc.strerror}.", key=CRM_CERTIFICATE.key
            ) from None
        credential = {"private_key": key, "thumbprint": settings[CRM_CERTIFICATE_THUMBPRINT]}
        return MsalConfidentialTokens(
            url, client_id, where, credential, http_client=http_client, instance_discovery=discovery
        )
    cache = token_cache(
        cache_path or data_dir() / "msal_token_cache.bin", allow_plaintext=settings[CRM_PLAINTEXT_CACHE]
    )
    return MsalPublicTokens(
        url,
        client_id,
        where,
        cache=cache,
        http_client=http_client,
        show_device_code=show_device_code,
        interactive=method == "interactive",
        instance_discovery=discovery,
    )


def create(
    settings: Settings,
    db: Database,
    plan: NumberPlan,
    *,
    transport: Any = None,
    tokens: TokenProvider | None = None,
) -> DynamicsCrm:
    """The configured ``DynamicsCrm``; with the phone index on, rings are answered from it first."""
    tables = tables_from_settings(settings)
    crm = DynamicsCrm(
        org_url(settings),
        tokens or LazyTokens(lambda: tokens_from_settings(settings)),
        plan=plan,
        tables=tables,
        app_id=settings[CRM_APP_ID],
        transport=transport,
    )
    if settings[CRM_USE_INDEX]:
        from callsys.crm.dynamics.phoneindex import PhoneIndex

        crm.index = PhoneIndex(db, plan, tables=tables, url_for=crm.entity_url)
    return crm
