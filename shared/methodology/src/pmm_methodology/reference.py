"""The shipped frameworks: PMM v1, with our choices where WCO is silent.

Each is a YAML file in `pmm_methodology/frameworks/`, named by its file name without
`.yaml` (`pmm-v1`); each is loaded once, on first use.
"""

from functools import cache
from importlib import resources

from pmm_methodology.framework import Framework
from pmm_methodology.loader import load_framework

FRAMEWORKS_FOLDER = "frameworks"
REFERENCE_FRAMEWORK_NAME = "pmm-v1"
_SUFFIX = ".yaml"


def reference_framework() -> Framework:
    """PMM 1.0.0 (`pmm-v1`), the same object at every call."""
    return _shipped(REFERENCE_FRAMEWORK_NAME)


def shipped_frameworks() -> dict[str, Framework]:
    """Every framework shipped with the library, by file name without `.yaml`, sorted.

    Raises FrameworkError if a shipped file is refused.
    """
    return {name: _shipped(name) for name in _shipped_names()}


def _shipped_names() -> list[str]:
    folder = resources.files("pmm_methodology").joinpath(FRAMEWORKS_FOLDER)
    return sorted(
        item.name.removesuffix(_SUFFIX)
        for item in folder.iterdir()
        if item.is_file() and item.name.endswith(_SUFFIX)
    )


@cache
def _shipped(name: str) -> Framework:
    folder = resources.files("pmm_methodology").joinpath(FRAMEWORKS_FOLDER)
    return load_framework(folder.joinpath(f"{name}{_SUFFIX}").read_bytes())
