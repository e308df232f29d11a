"""Settings every service shares, read from the environment (and a `.env` file)."""

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class LogFormat(StrEnum):
    CONSOLE = "console"
    JSON = "json"


class ServiceSettings(BaseSettings):
    """What a service process needs to run; each service subclasses it.

    `DATABASE_URL` names the service's own role (it can use only its own schema) and
    `NATS_URL` the JetStream server. Everything else is prefixed `PMM_`.
    """

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    service: str = Field(
        default="pmm",
        validation_alias="PMM_SERVICE_NAME",
        description="Service name, used in logs and metrics.",
    )
    schema_name: str = Field(
        default="public", description="Postgres schema the service owns."
    )
    database_url: SecretStr = Field(
        default=SecretStr("postgresql://localhost/pmm"),
        validation_alias="DATABASE_URL",
    )
    nats_url: str = Field(default="nats://127.0.0.1:4222", validation_alias="NATS_URL")
    environment: Environment = Field(
        default=Environment.DEVELOPMENT, validation_alias="PMM_ENVIRONMENT"
    )
    log_format: LogFormat | None = Field(
        default=None, validation_alias="PMM_LOG_FORMAT"
    )
    log_level: str = Field(default="info", validation_alias="PMM_LOG_LEVEL")

    jwt_algorithm: str = Field(default="RS256", validation_alias="PMM_JWT_ALGORITHM")
    jwt_public_key_file: Path | None = Field(
        default=None, validation_alias="PMM_JWT_PUBLIC_KEY_FILE"
    )
    jwt_jwks_url: str | None = Field(default=None, validation_alias="PMM_JWT_JWKS_URL")
    jwt_issuer: str = Field(default="pmm-local", validation_alias="PMM_JWT_ISSUER")
    jwt_audience: str = Field(default="pmm", validation_alias="PMM_JWT_AUDIENCE")

    max_request_bytes: int = Field(
        default=10 * 1024 * 1024, gt=0, validation_alias="PMM_MAX_REQUEST_BYTES"
    )
    run_relay: bool = Field(default=True, validation_alias="PMM_RUN_RELAY")
    run_consumers: bool = Field(default=True, validation_alias="PMM_RUN_CONSUMERS")
    db_pool_size: int = Field(default=10, gt=0, validation_alias="PMM_DB_POOL_SIZE")
    parent_pid: int | None = Field(
        default=None,
        validation_alias="PMM_PARENT_PID",
        description="Stop when this process (the local stack) is gone.",
    )

    @field_validator("jwt_public_key_file", "jwt_jwks_url", "log_format", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # A deployment passes variables through even when they are empty.
        return None if value == "" else value

    @field_validator("jwt_algorithm")
    @classmethod
    def _refuse_unsigned_tokens(cls, algorithm: str) -> str:
        if algorithm.lower() == "none" or algorithm.upper().startswith("HS"):
            raise ValueError("only asymmetric signature algorithms may be pinned")
        return algorithm

    @property
    def resolved_log_format(self) -> LogFormat:
        if self.log_format is not None:
            return self.log_format
        if self.environment is Environment.PRODUCTION:
            return LogFormat.JSON
        return LogFormat.CONSOLE
