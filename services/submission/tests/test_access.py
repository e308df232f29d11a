"""A member-scoped caller gets 404 or 403, never data, for another member, on every
route of the service (the routes are read from the application itself)."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from pmm_kit.auth import Role, mint_token
from pmm_local.stack import Infrastructure
from pmm_submission.main import create_app
from pmm_submission.settings import SubmissionSettings

from .helpers import T, complete_answers, reset_schema

pytestmark = pytest.mark.asyncio(loop_scope="session")

OWN = "BRA"
OTHER = "KEN"
# Public by design: the WCO registry itself (no member's data in it).
PUBLIC = {
    ("GET", "/members"),
    ("GET", "/members/{code}"),
    ("GET", "/cycles"),
    ("GET", "/cycles/{cycle_id}"),
    ("GET", "/cycles/{cycle_id}/transitions"),
}
# Not about a member: the Secretariat's own commands.
SECRETARIAT_ONLY = {
    ("POST", "/cycles"),
    ("POST", "/cycles/{cycle_id}/open"),
    ("POST", "/cycles/{cycle_id}/close"),
    ("POST", "/cycles/{cycle_id}/extensions"),
}
PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance"}
OPERATIONS = {"/healthz", "/readyz", "/metrics"}

BODIES: dict[str, Any] = {
    "/members/{code}": {"geography": "x"},
    "/members/{code}/mappings/{name}": {"data_element": "DECL_TOTAL"},
    "/members/{code}/api-keys": {"label": "mine now"},
    "/cycles": {
        "code": "C",
        "reporting_year": T,
        "framework_code": "PMM",
        "framework_version": "1.0.0",
        "window_opens": "2025-01-01",
        "window_closes": "2025-02-01",
    },
    "/cycles/{cycle_id}/extensions": {
        "member": OTHER,
        "until": "2099-01-01",
        "reason": "r",
    },
    "extension": {
        "member": OTHER,
        "until": "2099-01-01",
        "reason": "customs system migration",
    },
    "/cycles/{cycle_id}/submissions/{member}/values/{data_element}/{year}": {
        "value": "1"
    },
    "/cycles/{cycle_id}/submissions/{member}/values": {
        "values": [{"data_element": "DECL_TOTAL", "year": T, "value": "1"}]
    },
    "/cycles/{cycle_id}/submissions/{member}/opt-outs/{kpi}": {"reason": "r"},
    "/cycles/{cycle_id}/submissions/{member}/disclosure": {
        "levels": {"TF.1.1": "public"}
    },
    "/cycles/{cycle_id}/submissions/{member}/return": {
        "kpis": ["TF.1.1"],
        "reason": "r",
    },
}


def _routes() -> list[tuple[str, str]]:
    """Every documented operation of the application."""
    schema = create_app(SubmissionSettings()).openapi()
    return [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        if path not in OPERATIONS
        for method in operations
    ]


ROUTES = _routes()


class World:
    """The other member's data, and a client bound to the service."""

    def __init__(self, client: httpx.AsyncClient, private_key: str) -> None:
        self.client = client
        self.private_key = private_key
        self.ids: dict[str, str] = {}

    def token(self, role: Role, member: str | None = None) -> dict[str, str]:
        bearer = mint_token(self.private_key, role=role, member=member)
        return {"Authorization": f"Bearer {bearer}"}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(
    infrastructure: Infrastructure,
    service_databases: dict[str, str],
    isolated_nats: str,
) -> AsyncIterator[World]:
    url = service_databases["submission"]
    await reset_schema(url)
    settings = SubmissionSettings(
        database_url=SecretStr(url),
        nats_url=isolated_nats,
        jwt_public_key_file=infrastructure.public_key,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t"
        ) as client:
            world = World(client, infrastructure.private_key.read_text())
            await _seed(world)
            yield world


async def _seed(world: World) -> None:
    client = world.client
    secretariat = world.token(Role.SECRETARIAT)
    ncp = world.token(Role.NCP, OTHER)
    cycle = await client.post("/cycles", json=BODIES["/cycles"], headers=secretariat)
    cycle_id = cycle.json()["id"]
    await client.post(f"/cycles/{cycle_id}/open", headers=secretariat)
    extension = await client.post(
        f"/cycles/{cycle_id}/extensions", json=BODIES["extension"], headers=secretariat
    )
    assert extension.status_code == 201, extension.text
    await client.post(
        f"/cycles/{cycle_id}/submissions/{OTHER}/values",
        json={"values": complete_answers()},
        headers=ncp,
    )
    await client.put(
        f"/members/{OTHER}/mappings/own-name",
        json=BODIES["/members/{code}/mappings/{name}"],
        headers=ncp,
    )
    key = await client.post(
        f"/members/{OTHER}/api-keys", json={"label": "k"}, headers=ncp
    )
    feed = await client.post(
        "/feeds",
        content=f"cycle,data_element,year,value\nC,DECL_TOTAL,{T},100\n".encode(),
        headers={**ncp, "content-type": "text/csv"},
    )
    submitted = await client.post(
        f"/cycles/{cycle_id}/submissions/{OTHER}/submit", headers=ncp
    )
    assert submitted.status_code == 200, submitted.text
    world.ids = {
        "cycle_id": cycle_id,
        "key_id": key.json()["id"],
        "feed_id": feed.json()["feed_id"],
    }


def _path(template: str, ids: dict[str, str]) -> str:
    return template.format(
        code=OTHER,
        member=OTHER,
        name="own-name",
        data_element="DECL_TOTAL",
        year=T,
        kpi="TF.1.1",
        number=1,
        **ids,
    )


async def test_every_route_of_the_service_is_covered() -> None:
    members_routes = [p for _, p in ROUTES if "{member}" in p or "{code}" in p]

    assert len(ROUTES) >= 25
    assert len(members_routes) >= 18


@pytest.mark.parametrize("role", [Role.NCP, Role.PREPARER])
@pytest.mark.parametrize(("method", "template"), ROUTES)
async def test_a_member_scoped_caller_never_gets_another_members_data(
    world: World, role: Role, method: str, template: str
) -> None:
    path = _path(template, world.ids)
    headers = world.token(role, OWN)
    body = BODIES.get(template)

    if template == "/feeds" and method == "POST":
        content = f"member,cycle,data_element,year,value\n{OTHER},C,DECL_TOTAL,{T},7\n"
        response = await world.client.post(
            path,
            content=content.encode(),
            headers={**headers, "content-type": "text/csv"},
        )
    else:
        response = await world.client.request(method, path, json=body, headers=headers)

    text = response.text
    if (method, template) in PUBLIC:
        assert response.status_code == 200
        assert "DECL_TOTAL" not in text
        assert BODIES["extension"]["reason"] not in text
        assert "granted_by" not in text
    elif template == "/cycles/{cycle_id}/submissions":
        assert response.json() == []
    elif template == "/feeds" and method == "POST":
        assert response.status_code == 422
        assert response.json()["rejected"][0]["rule"] == "member.forbidden"
    else:
        assert response.status_code in (403, 404), (method, template, text)
        assert response.headers["content-type"] == "application/problem+json"
        assert set(response.json()) <= PROBLEM_FIELDS
    if (method, template) in SECRETARIAT_ONLY:
        assert response.status_code == 403


@pytest.mark.parametrize(
    ("role", "member", "sees"),
    [
        (None, None, False),
        (Role.REVIEWER, None, False),
        (Role.NCP, OWN, False),
        (Role.PREPARER, OTHER, True),
        (Role.NCP, OTHER, True),
        (Role.SECRETARIAT, None, True),
    ],
)
async def test_an_extension_is_shown_only_to_its_member_and_the_secretariat(
    world: World, role: Role | None, member: str | None, sees: bool
) -> None:
    headers = world.token(role, member) if role is not None else {}
    cycle_id = world.ids["cycle_id"]

    listed = await world.client.get("/cycles", headers=headers)
    one = await world.client.get(f"/cycles/{cycle_id}", headers=headers)

    expected = [(OTHER, BODIES["extension"]["reason"])] if sees else []
    assert [(e["member"], e["reason"]) for e in listed.json()[0]["extensions"]] == (
        expected
    )
    assert [(e["member"], e["reason"]) for e in one.json()["extensions"]] == expected
