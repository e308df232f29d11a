"""The running services as the job calls them: one base URL each, tokens minted with
the local stack's key, and failures that name the service and what to look at."""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from pmm_kit.auth import Role, mint_token
from pmm_local.services import SERVICES
from pmm_local.stack import STACK_FILE

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
    """Where the services listen, where their logs are and how to sign as anyone."""

    home: Path
    urls: dict[str, str]
    private_key: str
    logs: Path
    _tokens: dict[tuple[str, str | None, str | None], str] = field(default_factory=dict)

    @classmethod
    def local(cls, home: Path) -> "Stack":
        """The stack `pmm up` runs on `home`, as its stack file says: the ports it
        was started with, not those of the caller's environment."""
        described = _stack_file(home)
        key = home / "keys" / "jwt-private.pem"
        if not key.exists():
            raise StepError(
                "stack",
                f"no signing key in {key.parent}",
                hint="start the stack first: make run (or pmm up)",
            )
        urls = described.get("service_urls")
        if not isinstance(urls, dict) or set(urls) != {s.name for s in SERVICES}:
            raise StepError(
                "stack",
                f"{home / STACK_FILE} names no URL for each service",
                hint="the stack was started by an older pmm: stop it and start it "
                "again (make run)",
            )
        logs = Path(described.get("logs") or home / "logs")
        return cls(home, {**urls}, key.read_text(), logs)

    def log_of(self, service: str) -> Path:
        label = "scoring-worker-1" if service == "scoring-worker" else service
        return self.logs / f"{label}.log"

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
    last_request: tuple[str, str] | None = None
    """The service and the request the job sent last: what an unexpected error
    is most likely about."""

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
        self.last_request = (service, f"{method} {path}")
        try:
            response = self.http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise StepError(
                service,
                f"{method} {path} did not reach the {service} service at "
                f"{self.stack.urls[service]}: {error or type(error).__name__}",
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
        response = self.call(service, method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise StepError(
                service,
                f"{method} {path} answered {response.status_code} with a body that "
                f"is not JSON: {response.text[:200]!r}",
                hint=f"see {self.stack.log_of(service)}",
            ) from None

    def if_match(self, response: httpx.Response) -> dict[str, str]:
        """The version a change must name: the ETag of what the job read last."""
        etag = response.headers.get("ETag")
        if etag is None:
            request = response.request
            service = next(
                (
                    name
                    for name, base in self.stack.urls.items()
                    if str(request.url).startswith(base)
                ),
                "stack",
            )
            raise StepError(
                service,
                f"{request.method} {request.url.path} answered without an ETag: the "
                "job cannot name the version it changes",
                hint=f"see {self.stack.log_of(service)}",
            )
        return {"If-Match": etag}

    def unexpected(self, error: Exception, *, trace: Path) -> StepError:
        """An error the job has no name for, as a failure of the service it was
        talking to (a reply without a field the job reads, say)."""
        service, request = self.last_request or ("job", "")
        after = f" after {request}" if request else ""
        what = f"{type(error).__name__}: {error}" if str(error) else repr(error)
        if isinstance(error, json.JSONDecodeError):
            what = f"answer, a body that is not JSON: {error.doc[:200]!r}"
        log = f"see {self.stack.log_of(service)}; " if service != "job" else ""
        return StepError(
            service,
            f"unexpected {what}{after}",
            hint=f"{log}the job's traceback is in {trace}",
        )

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


def _stack_file(home: Path) -> dict[str, Any]:
    path = home / STACK_FILE
    try:
        described = json.loads(path.read_text())
    except FileNotFoundError:
        raise StepError(
            "stack",
            f"no running stack in {home} (no {STACK_FILE})",
            hint="start it first: make run (or pmm up); PMM_HOME names another "
            "data folder",
        ) from None
    except ValueError:
        raise StepError(
            "stack", f"{path} is not JSON", hint="stop the stack and start it again"
        ) from None
    if not isinstance(described, dict):
        raise StepError("stack", f"{path} is not an object")
    return described


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
