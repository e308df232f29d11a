"""Bearer JWT verification, roles and member scoping.

The algorithm is pinned by configuration: a token whose header names another one
(`none`, or `HS256` signed with the public key as a secret) is refused before its
signature is even looked at. Keys come from the identity provider's JWKS in production
and from a key pair the local stack generates for itself otherwise.
"""

import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import httpx
import jwt
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pmm_kit.errors import ForbiddenError, ProblemError, UnauthorizedError
from pmm_kit.settings import ServiceSettings

MEMBER_CODE = re.compile(r"^[A-Z]{3}$")
JWKS_CACHE_SECONDS = 300.0
JWKS_RETRY_SECONDS = 10.0

log = structlog.get_logger(__name__)


class Role(StrEnum):
    SECRETARIAT = "secretariat"
    NCP = "ncp"
    PREPARER = "preparer"
    REVIEWER = "reviewer"


MEMBER_SCOPED_ROLES = frozenset({Role.NCP, Role.PREPARER})


@dataclass(frozen=True)
class Principal:
    """Who is calling: a subject with one role, and the member it acts for."""

    subject: str
    role: Role
    member: str | None

    def can_act_for(self, member: str) -> bool:
        if self.role is Role.SECRETARIAT:
            return True
        return self.role in MEMBER_SCOPED_ROLES and self.member == member


class TokenError(ValueError):
    """The token is not one this service accepts; the message says why."""


class IdentityProviderUnavailableError(ProblemError):
    status = 503
    slug = "identity-provider-unavailable"
    title = "Tokens cannot be checked right now"


class TokenVerifier:
    def __init__(
        self,
        *,
        algorithm: str,
        issuer: str,
        audience: str,
        public_key: str | None = None,
        jwks_url: str | None = None,
    ) -> None:
        if (public_key is None) == (jwks_url is None):
            raise ValueError("configure exactly one of a public key and a JWKS URL")
        self._algorithm = algorithm
        self._issuer = issuer
        self._audience = audience
        self._public_key = public_key
        self._jwks_url = jwks_url
        self._jwks: jwt.PyJWKSet | None = None
        self._jwks_fetched_at = 0.0
        self._jwks_retry_at = 0.0

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> "TokenVerifier | None":
        key_file = settings.jwt_public_key_file
        if key_file is None and settings.jwt_jwks_url is None:
            return None
        return cls(
            algorithm=settings.jwt_algorithm,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            public_key=key_file.read_text() if key_file else None,
            jwks_url=settings.jwt_jwks_url,
        )

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise TokenError("the token is malformed") from error
        if header.get("alg") != self._algorithm:
            raise TokenError(f"the token must be signed with {self._algorithm}")

        key = await self._key_for(header.get("kid"))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[self._algorithm],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise TokenError(f"the token is not valid: {error}") from error
        return principal_from_claims(claims)

    async def _key_for(self, kid: str | None) -> Any:
        if self._public_key is not None:
            return self._public_key
        jwks = await self._fetch_jwks()
        for jwk in jwks.keys:
            if kid is None or jwk.key_id == kid:
                return jwk.key
        raise TokenError("the token's key is not among the identity provider's keys")

    async def _fetch_jwks(self) -> jwt.PyJWKSet:
        now = time.monotonic()
        if self._jwks is not None and now - self._jwks_fetched_at < JWKS_CACHE_SECONDS:
            return self._jwks
        if now < self._jwks_retry_at:
            return self._stale_or_unavailable()
        assert self._jwks_url is not None
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(self._jwks_url)
            response.raise_for_status()
            keys = jwt.PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as error:
            # Callers must not all wait on a provider that is down: retry later.
            self._jwks_retry_at = now + JWKS_RETRY_SECONDS
            log.warning("auth.jwks.unavailable", error=type(error).__name__)
            return self._stale_or_unavailable()
        self._jwks, self._jwks_fetched_at = keys, now
        return keys

    def _stale_or_unavailable(self) -> jwt.PyJWKSet:
        if self._jwks is not None:
            return self._jwks
        raise IdentityProviderUnavailableError(
            "the identity provider's keys cannot be fetched; try again shortly"
        )


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    try:
        role = Role(str(claims.get("role")))
    except ValueError:
        raise TokenError("the token names no known role") from None
    member = claims.get("member")
    if member is not None and (
        not isinstance(member, str) or not MEMBER_CODE.match(member)
    ):
        raise TokenError("the member claim must be an ISO 3166 alpha-3 code")
    if role in MEMBER_SCOPED_ROLES and member is None:
        raise TokenError(f"a {role} token must name its member")
    if not str(claims["sub"]).strip():
        raise TokenError("the token's subject is empty")
    return Principal(subject=str(claims["sub"]), role=role, member=member)


_bearer = HTTPBearer(auto_error=False)


async def optional_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """The caller, or `None` for an anonymous (public) one."""
    if credentials is None:
        return None
    verifier: TokenVerifier | None = request.app.state.token_verifier
    if verifier is None:
        raise UnauthorizedError("this service has no token verification configured")
    try:
        return await verifier.verify(credentials.credentials)
    except TokenError as error:
        raise UnauthorizedError(str(error)) from None


async def require_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise UnauthorizedError("a bearer token is required")
    return principal


def require_role(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits only callers holding one of `roles`."""

    async def dependency(
        principal: Annotated[Principal, Depends(require_principal)],
    ) -> Principal:
        if principal.role not in roles:
            raise ForbiddenError(f"this needs the role {' or '.join(roles)}")
        return principal

    return dependency


# The local stack's own keys: what a developer's machine uses instead of an identity
# provider. Never used when a JWKS URL is configured.


def generate_key_pair(directory: Path) -> tuple[Path, Path]:
    """Write a new RSA key pair (private readable by the owner only) unless present."""
    private_path = directory / "jwt-private.pem"
    public_path = directory / "jwt-public.pem"
    if private_path.exists() and public_path.exists():
        return private_path, public_path
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_path.touch(mode=0o600)
    private_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_path, public_path


def mint_token(
    private_key_pem: str,
    *,
    role: Role,
    member: str | None = None,
    subject: str | None = None,
    issuer: str = "pmm-local",
    audience: str = "pmm",
    lifetime_seconds: int = 12 * 3600,
    algorithm: str = "RS256",
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject or f"{role}-{member or 'wco'}-{uuid.uuid4().hex[:8]}",
        "role": str(role),
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + lifetime_seconds,
    }
    if member is not None:
        claims["member"] = member
    principal_from_claims(claims)
    return jwt.encode(claims, private_key_pem, algorithm=algorithm)
