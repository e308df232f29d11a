"""What an operator does to a running stack: find it, list and replay dead letters."""

import json
import os
import uuid

from pmm_kit.consumers import DeadLetter, list_dead_letters, replay_dead_letter
from pmm_kit.db import create_engine, create_session_factory
from pmm_local.services import SERVICES, service_named
from pmm_local.stack import STACK_FILE, Infrastructure, default_home


def write_stack_file(infrastructure: Infrastructure, urls: dict[str, str]) -> None:
    """Where the running stack is, for `pmm` commands run beside it (owner-only):
    its servers, each service's base URL (the ports this stack was started with,
    whatever the reader's environment says) and its logs."""
    path = infrastructure.home / STACK_FILE
    path.touch(mode=0o600)
    services = {s.name: f"http://127.0.0.1:{s.port}" for s in SERVICES}
    path.write_text(
        json.dumps(
            {
                "nats_url": infrastructure.nats_url,
                "database_urls": urls,
                "service_urls": services,
                "logs": str(infrastructure.home / "logs"),
            },
            indent=2,
        )
    )


def import_contracts() -> None:
    import pmm_kit.contracts  # noqa: F401  registering is the import's effect


def service_database_url(name: str) -> str:
    try:
        service = service_named(name)
    except KeyError:
        known = ", ".join(service.name for service in SERVICES)
        raise LookupError(f"no service {name!r}; the services are {known}") from None
    preset = os.environ.get(service.database_url_variable)
    if preset:
        return preset
    path = default_home() / STACK_FILE
    if not path.exists():
        raise LookupError(
            f"no running stack in {path.parent}: start `pmm up`, or set "
            f"{service.database_url_variable}"
        )
    urls: dict[str, str] = json.loads(path.read_text())["database_urls"]
    return urls[name]


async def dead_letters(name: str, *, include_replayed: bool) -> list[DeadLetter]:
    engine = create_engine(service_database_url(name), schema=name, pool_size=1)
    try:
        async with create_session_factory(engine)() as session:
            return await list_dead_letters(session, include_replayed=include_replayed)
    finally:
        await engine.dispose()


async def replay(name: str, dead_letter_id: int) -> uuid.UUID:
    engine = create_engine(service_database_url(name), schema=name, pool_size=1)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            envelope = await replay_dead_letter(session, dead_letter_id)
        return envelope.id
    finally:
        await engine.dispose()
