"""Token verification: only tokens signed with the pinned algorithm and key pass."""

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from pmm_kit.auth import (
    IdentityProviderUnavailableError,
    Principal,
    Role,
    TokenError,
    TokenVerifier,
    generate_key_pair,
    mint_token,
)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    private, public = generate_key_pair(Path(tmp_path_factory.mktemp("keys")))
    return private.read_text(), public.read_text()


@pytest.fixture(scope="module")
def verifier(keys: tuple[str, str]) -> TokenVerifier:
    return TokenVerifier(
        algorithm="RS256", issuer="pmm-local", audience="pmm", public_key=keys[1]
    )


def claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {
        "sub": "ncp-1",
        "role": "ncp",
        "member": "BRA",
        "iss": "pmm-local",
        "aud": "pmm",
        "iat": now,
        "exp": now + 600,
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_a_token_minted_by_the_local_stack_is_accepted(
    keys: tuple[str, str], verifier: TokenVerifier
) -> None:
    token = mint_token(keys[0], role=Role.NCP, member="BRA", subject="ana")

    assert await verifier.verify(token) == Principal("ana", Role.NCP, "BRA")


async def test_a_token_signed_with_another_key_is_refused(
    verifier: TokenVerifier, tmp_path: Path
) -> None:
    other_private, _ = generate_key_pair(tmp_path)
    token = jwt.encode(claims(), other_private.read_text(), algorithm="RS256")

    with pytest.raises(TokenError, match="not valid: Signature verification failed"):
        await verifier.verify(token)


async def test_an_unsigned_token_is_refused(verifier: TokenVerifier) -> None:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    token = f"{header}.{b64(json.dumps(claims()).encode())}."

    with pytest.raises(TokenError, match="must be signed with RS256"):
        await verifier.verify(token)


async def test_a_token_signed_with_the_public_key_as_hmac_secret_is_refused(
    keys: tuple[str, str], verifier: TokenVerifier
) -> None:
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims()).encode())
    signature = hmac.new(keys[1].encode(), f"{header}.{body}".encode(), hashlib.sha256)
    token = f"{header}.{body}.{b64(signature.digest())}"

    with pytest.raises(TokenError, match="must be signed with RS256"):
        await verifier.verify(token)


async def test_a_token_of_another_asymmetric_algorithm_is_refused(
    verifier: TokenVerifier,
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    token = jwt.encode(claims(), pem, algorithm="ES256")

    with pytest.raises(TokenError, match="must be signed with RS256"):
        await verifier.verify(token)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": int(time.time()) - 60}, "expired"),
        ({"aud": "another-system"}, "Audience doesn't match"),
        ({"iss": "someone-else"}, "Invalid issuer"),
        ({"role": "admin"}, "no known role"),
        ({"member": None}, "must name its member"),
        ({"member": "bra"}, "alpha-3"),
        ({"sub": None}, 'Token is missing the "sub" claim'),
        ({"sub": " "}, "subject is empty"),
    ],
)
async def test_a_token_with_wrong_claims_is_refused(
    keys: tuple[str, str],
    verifier: TokenVerifier,
    overrides: dict[str, object],
    reason: str,
) -> None:
    token = jwt.encode(claims(**overrides), keys[0], algorithm="RS256")

    with pytest.raises(TokenError, match=reason):
        await verifier.verify(token)


def test_member_scoped_principals_act_only_for_their_member() -> None:
    ncp = Principal("ana", Role.NCP, "BRA")
    secretariat = Principal("wco", Role.SECRETARIAT, None)
    reviewer = Principal("rev", Role.REVIEWER, "FIN")

    assert ncp.can_act_for("BRA")
    assert not ncp.can_act_for("KEN")
    assert secretariat.can_act_for("KEN")
    assert not reviewer.can_act_for("FIN")


def test_settings_refuse_to_pin_an_unsigned_or_symmetric_algorithm() -> None:
    from pydantic import ValidationError

    from pmm_kit.settings import ServiceSettings

    for algorithm in ("none", "HS256"):
        with pytest.raises(ValidationError, match="asymmetric"):
            ServiceSettings(jwt_algorithm=algorithm)


class _JwksHandler(BaseHTTPRequestHandler):
    document: ClassVar[bytes] = b"{}"
    requests: ClassVar[int] = 0

    def do_GET(self) -> None:
        type(self).requests += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.document)

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def identity_provider(keys: tuple[str, str]) -> Iterator[str]:
    """A real HTTP server publishing the public key as a JWKS, as a provider does."""
    public = serialization.load_pem_public_key(keys[1].encode())
    assert isinstance(public, rsa.RSAPublicKey)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
    _JwksHandler.document = json.dumps({"keys": [{**jwk, "kid": "k1"}]}).encode()
    _JwksHandler.requests = 0
    server = HTTPServer(("127.0.0.1", 0), _JwksHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/jwks.json"
    server.shutdown()
    server.server_close()


async def test_a_token_is_verified_against_the_providers_jwks(
    keys: tuple[str, str], identity_provider: str
) -> None:
    verifier = TokenVerifier(
        algorithm="RS256",
        issuer="pmm-local",
        audience="pmm",
        jwks_url=identity_provider,
    )
    token = jwt.encode(claims(), keys[0], algorithm="RS256", headers={"kid": "k1"})

    first = await verifier.verify(token)
    second = await verifier.verify(token)

    assert first == second == Principal("ncp-1", Role.NCP, "BRA")
    assert _JwksHandler.requests == 1


async def test_an_unreachable_provider_is_a_503_not_a_crash(
    keys: tuple[str, str],
) -> None:
    verifier = TokenVerifier(
        algorithm="RS256",
        issuer="pmm-local",
        audience="pmm",
        jwks_url="http://127.0.0.1:9/jwks.json",
    )
    token = jwt.encode(claims(), keys[0], algorithm="RS256", headers={"kid": "k1"})

    with pytest.raises(IdentityProviderUnavailableError) as refused:
        await verifier.verify(token)

    assert refused.value.status == 503


def test_empty_key_settings_count_as_unset() -> None:
    from pmm_kit.settings import ServiceSettings

    settings = ServiceSettings.model_validate(
        {"PMM_JWT_PUBLIC_KEY_FILE": "", "PMM_JWT_JWKS_URL": "https://idp/jwks"}
    )

    assert settings.jwt_public_key_file is None
