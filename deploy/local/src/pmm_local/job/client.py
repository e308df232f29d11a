"""The running services as the job calls them: one base URL each, tokens minted with
the local stack's key, and failures that name the service and what to look at."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from pmm_kit.auth import Role, mint_token
from pmm_local.services import SERVICES

T = TypeVar("T")

EVENT_TIMEOUT_SECONDS = 60.0


class StepError(Exception):
    """A step of the job failed; `service` is the one to look at."""

    def __init__(self, service: str, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.service = service
        self.message = message
        self.hint = hint


@dataclass
class Stack:
    """Where the services listen and how to sign as anyone."""

    home: Path
    urls: dict[str, str]
    private_key: str
    _tokens: dict[tuple[str, str | None, str | None], str] = field(default_factory=dict)

    @classmethod
    def local(cls, home: Path) -> "Stack":
        key = home / "keys" / "jwt-private.pem"
        if not key.exists():
            raise StepError(
                "stack",
                f"no signing key in {key.parent}",
                hint="start the stack first: make run (or pmm up)",
            )
        urls = {s.name: f"http://127.0.0.1:{s.port}" for s in SERVICES}
        return cls(home, urls, key.read_text())

    def log_of(self, service: str) -> Path:
        label = "scoring-worker-1" if service == "scoring-worker" else service
        return self.home / "logs" / f"{label}.log"

    def token(
        self, role: Role, member: str | None = None, subject: str | None = None
    ) -> dict[str, str]:
        key = (str(role), member, subject)
        if key not in self._tokens:
            self._tokens[key] = mint_token(
                self.private_key,
                role=role,
                member=member,
                subject=subject or f"pmm-job-{role}-{(member or 'wco').lower()}",
            )
        return {"Authorization": f"Bearer {self._tokens[key]}"}


@dataclass
class Client:
    stack: Stack
    http: httpx.Client

    @classmethod
    def open(cls, stack: Stack) -> "Client":
        return cls(stack, httpx.Client(timeout=30.0))

    def close(self) -> None:
        self.http.close()

    def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200, 201),
        **kwargs: Any,
    ) -> httpx.Response:
        url = self.stack.urls[service] + path
        try:
            response = self.http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise StepError(
                service,
                f"{method} {path} did not reach the {service} service: {error}",
                hint=f"is the stack running? see {self.stack.log_of(service)}",
            ) from None
        if response.status_code not in expect:
            raise StepError(
                service,
                f"{method} {path} answered {response.status_code}: "
                f"{_problem_text(response)}",
                hint=f"see {self.stack.log_of(service)}",
            )
        return response

    def json(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        return self.call(service, method, path, **kwargs).json()

    def eventually(
        self,
        probe: Callable[[], T | None],
        *,
        service: str,
        waiting_for: str,
        timeout: float = EVENT_TIMEOUT_SECONDS,
    ) -> T:
        """Poll until an event has been carried through; a service that never gets
        there is named, with its log."""
        deadline = time.monotonic() + timeout
        while True:
            found = probe()
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise StepError(
                    service,
                    f"waited {timeout:.0f} s for {waiting_for}",
                    hint=f"see {self.stack.log_of(service)} and "
                    f"`pmm dead-letters list {service.split('-')[0]}`",
                )
            time.sleep(0.1)


def if_match(response: httpx.Response) -> dict[str, str]:
    return {"If-Match": response.headers["ETag"]}


def _problem_text(response: httpx.Response) -> str:
    try:
        problem = response.json()
    except ValueError:
        return response.text[:300]
    if not isinstance(problem, dict):
        return response.text[:300]
    detail = problem.get("detail") or problem.get("title") or ""
    errors = problem.get("errors") or []
    named = "; ".join(
        f"{e.get('field') or e.get('column') or ''} {e.get('rule', '')}: "
        f"{e.get('message', '')}".strip()
        for e in errors[:5]
        if isinstance(e, dict)
    )
    return f"{detail} ({named})" if named else str(detail)
