"""Where a result came from: the framework file, this library, and the inputs."""

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter

from pmm_methodology.decimals import written
from pmm_methodology.framework import Framework
from pmm_methodology.results import Lineage
from pmm_methodology.values import DataValue, ValueKey, ValueState

LIBRARY_VERSION = "0.2.0"

_DOCUMENT = TypeAdapter(dict[str, Any])
# A dictionary look-up: an enum's `.value` is a Python-level property call.
_STATE_TEXT = {state: state.value for state in ValueState}


def lineage_of(
    framework: Framework,
    year: int,
    values: Mapping[ValueKey, DataValue],
    kpi_opt_outs: Mapping[str, str],
) -> Lineage:
    return Lineage(
        framework_code=framework.code,
        framework_version=framework.version,
        framework_sha256=framework.content_hash,
        library_version=LIBRARY_VERSION,
        inputs_sha256=inputs_fingerprint(year, values, kpi_opt_outs),
    )


def inputs_fingerprint(
    year: int,
    values: Mapping[ValueKey, DataValue],
    kpi_opt_outs: Mapping[str, str],
) -> str:
    """sha256 of the inputs' canonical JSON.

    Numbers keep the digits they were given, so `1.0` and `1` fingerprint differently:
    the fingerprint identifies what was sent, not what it amounts to.
    """
    # Every key is written in sorted order and no value can be a float, so the
    # compact JSON pydantic writes is the canonical JSON (a test holds the two
    # equal), without sorting and checking the keys of a hundred values again.
    document = {
        "kpi_opt_outs": [
            {"kpi": kpi, "reason": reason}
            for kpi, reason in sorted(kpi_opt_outs.items())
        ],
        "values": [_value_document(key, values[key]) for key in sorted(values)],
        "year": year,
    }
    return hashlib.sha256(_DOCUMENT.dump_json(document)).hexdigest()


def _value_document(key: ValueKey, value: DataValue) -> dict[str, Any]:
    """The value's `model_dump(mode="json")` with its key, built by hand.

    A test holds the two equal; dumping each model was most of the fingerprint's cost.
    """
    element, year = key
    scalar = value.value
    if isinstance(scalar, float):
        raise TypeError(f"canonical JSON takes no floats, found {scalar!r}")
    return {
        "element": element,
        "reason": value.reason,
        "state": _STATE_TEXT[value.state],
        "value": written(scalar) if isinstance(scalar, Decimal) else scalar,
        "year": year,
    }
