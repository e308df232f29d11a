"""One database role and one schema per service; each role can use only its own schema.

Run with an administrator's connection. Idempotent: running it again changes nothing
but the roles' passwords, which are kept in the stack's secrets file.
"""

import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class ServiceDatabase:
    role: str
    schema: str
    password: str


def role_for(schema: str) -> str:
    return f"pmm_{schema}"


def load_or_create_passwords(path: Path, schemas: list[str]) -> dict[str, str]:
    """The services' role passwords, generated once and kept owner-readable only."""
    known: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [schema for schema in schemas if schema not in known]
    if missing or not path.exists():
        known.update({schema: secrets.token_urlsafe(24) for schema in missing})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps(known, indent=2))
    return known


async def provision(admin_url: str, databases: list[ServiceDatabase]) -> None:
    connection = await asyncpg.connect(_plain_url(admin_url))
    try:
        database = await connection.fetchval("SELECT current_database()")
        await connection.execute(f'REVOKE ALL ON DATABASE "{database}" FROM PUBLIC')
        await connection.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        for service in databases:
            await _provision_one(connection, service, database)
    finally:
        await connection.close()


async def _provision_one(
    connection: asyncpg.Connection, service: ServiceDatabase, database: str
) -> None:
    for name in (service.role, service.schema):
        if not _IDENTIFIER.match(name):
            raise ValueError(f"not a plain identifier: {name!r}")
    password = service.password.replace("'", "''")
    exists = await connection.fetchval(
        "SELECT 1 FROM pg_roles WHERE rolname = $1", service.role
    )
    verb = "ALTER" if exists else "CREATE"
    await connection.execute(
        f"{verb} ROLE {service.role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
        f"NOINHERIT NOBYPASSRLS PASSWORD '{password}'"
    )
    await connection.execute(
        f'GRANT CONNECT ON DATABASE "{database}" TO {service.role}'
    )
    await connection.execute(
        f"CREATE SCHEMA IF NOT EXISTS {service.schema} AUTHORIZATION {service.role}"
    )
    await connection.execute(f"ALTER SCHEMA {service.schema} OWNER TO {service.role}")
    await connection.execute(f"REVOKE ALL ON SCHEMA {service.schema} FROM PUBLIC")
    # So that an operator's psql as the role sees the service's tables unqualified.
    await connection.execute(
        f"ALTER ROLE {service.role} SET search_path = {service.schema}"
    )


def service_url(admin_url: str, service: ServiceDatabase) -> str:
    """The admin URL's server and database, with the service role's credentials."""
    url = make_url(admin_url).set(username=service.role, password=service.password)
    return url.render_as_string(hide_password=False)


def _plain_url(url: str) -> str:
    return (
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
