"""`pmm token` and `pmm asyncapi` as a user types them."""

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pmm_kit.auth import Role, TokenVerifier, generate_key_pair
from pmm_local.cli import app


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PMM_HOME", str(tmp_path))
    return tmp_path


async def test_a_minted_token_is_accepted_by_a_service_with_the_stack_key(
    home: Path,
) -> None:
    _, public_key = generate_key_pair(home / "keys")
    verifier = TokenVerifier(
        algorithm="RS256",
        issuer="pmm-local",
        audience="pmm",
        public_key=public_key.read_text(),
    )

    result = CliRunner().invoke(app, ["token", "--role", "ncp", "--member", "BRA"])
    principal = await verifier.verify(result.stdout.strip())

    assert result.exit_code == 0
    assert principal.role is Role.NCP
    assert principal.member == "BRA"


def test_a_member_scoped_role_without_its_member_is_refused(home: Path) -> None:
    generate_key_pair(home / "keys")

    result = CliRunner().invoke(app, ["token", "--role", "preparer"])

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "member" in result.stderr


def test_a_token_needs_the_stack_key(home: Path) -> None:
    result = CliRunner().invoke(app, ["token", "--role", "secretariat"])

    assert result.exit_code == 1
    # rich wraps the message at the terminal's width.
    assert "run `pmm up` first" in " ".join(result.stderr.split())


def test_the_asyncapi_document_names_every_channel_of_the_stream(
    tmp_path: Path,
) -> None:
    output = tmp_path / "asyncapi.json"

    as_json = CliRunner().invoke(app, ["asyncapi", "--json", "--output", str(output)])
    as_yaml = CliRunner().invoke(app, ["asyncapi"])
    document = json.loads(output.read_text())

    assert as_json.exit_code == 0
    assert as_yaml.exit_code == 0
    assert yaml.safe_load(as_yaml.stdout) == document
    assert document["asyncapi"].startswith("3.")
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert "pmm.submission.submission.submitted.v1" in addresses
    assert "pmm.scoring.scores.computed.v1" in addresses
    assert all(address.startswith("pmm.") for address in addresses)


def test_asyncapi_to_a_path_it_cannot_write_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["asyncapi", "--output", str(tmp_path / "absent" / "asyncapi.yaml")]
    )

    assert result.exit_code == 1
    assert result.output == (
        f"Cannot write {tmp_path / 'absent' / 'asyncapi.yaml'}: "
        "No such file or directory\n"
    )


def test_a_dead_letter_id_past_the_table_is_refused_before_any_database(
    home: Path,
) -> None:
    result = CliRunner().invoke(
        app, ["dead-letters", "replay", "submission", str(2**63)]
    )

    assert result.exit_code == 2
    assert "9223372036854775807" in result.output


@pytest.mark.parametrize("role", ["secretariat", "reviewer"])
def test_a_member_on_a_role_that_has_none_is_refused(home: Path, role: str) -> None:
    generate_key_pair(home / "keys")

    result = CliRunner().invoke(app, ["token", "--role", role, "--member", "BRA"])

    assert result.exit_code == 2
    assert f"a {role} token names no member" in result.output
