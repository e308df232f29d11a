"""The framework versions this service can compute with, loaded once per process."""

from functools import cache

from pmm_methodology import Framework, reference_framework
from pmm_scoring.errors import UnknownFrameworkError


@cache
def known_frameworks() -> dict[tuple[str, str], Framework]:
    # TODO(#5): load further versions from framework files the Secretariat provides;
    # when a framework registry (upload, storage, approval) exists.
    reference = reference_framework()
    return {(reference.code, reference.version): reference}


def framework_for(code: str, version: str) -> Framework:
    framework = known_frameworks().get((code, version))
    if framework is None:
        raise UnknownFrameworkError(
            f"framework {code} {version} is not known to this service",
            framework_code=code,
            framework_version=version,
        )
    return framework
