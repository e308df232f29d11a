"""Token verification: only tokens signed with the pinned algorithm and key pass."""

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pmm_kit.auth import (
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
