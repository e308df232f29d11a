"""The four services as the local stack runs them."""

import os
from dataclasses import dataclass
from pathlib import Path

import pmm_reporting
import pmm_review
import pmm_scoring
import pmm_submission


@dataclass(frozen=True)
class Service:
    name: str
    default_port: int
    service_dir: Path

    @property
    def schema(self) -> str:
        return self.name

    @property
    def env_prefix(self) -> str:
        return f"PMM_{self.name.upper()}"

    @property
    def port(self) -> int:
        return int(os.environ.get(f"{self.env_prefix}_PORT", self.default_port))

    @property
    def command(self) -> str:
        return f"pmm-{self.name}"

    @property
    def database_url_variable(self) -> str:
        """Names a ready database URL for this service, skipping provisioning."""
        return f"{self.env_prefix}_DATABASE_URL"


def _dir_of(package_file: str | None) -> Path:
    assert package_file is not None
    return Path(package_file).resolve().parents[2]


SERVICES = (
    Service("submission", 8001, _dir_of(pmm_submission.__file__)),
    Service("scoring", 8002, _dir_of(pmm_scoring.__file__)),
    Service("review", 8003, _dir_of(pmm_review.__file__)),
    Service("reporting", 8004, _dir_of(pmm_reporting.__file__)),
)


def service_named(name: str) -> Service:
    for service in SERVICES:
        if service.name == name:
            return service
    raise KeyError(name)
