"""The shipped reference framework: PMM v1, with our choices where WCO is silent."""

from functools import cache
from importlib import resources

from pmm_methodology.framework import Framework
from pmm_methodology.loader import load_framework

REFERENCE_FRAMEWORK_FILE = "frameworks/pmm-v1.yaml"


@cache
def reference_framework() -> Framework:
    content = resources.files("pmm_methodology").joinpath(REFERENCE_FRAMEWORK_FILE)
    return load_framework(content.read_bytes())
