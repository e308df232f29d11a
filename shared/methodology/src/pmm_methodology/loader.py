"""Reading a framework file (YAML) into a Framework, or refusing it with every problem.

The reader keeps numbers exact (a YAML float becomes a Decimal from its text), reads
only `true`/`false` as booleans (so an enumeration value `no` stays text) and refuses a
key written twice. The content hash is taken over the file's text in UTF-8 with `\\n`
line ends, so a checkout on Windows hashes the same as one on Linux.
"""

import hashlib
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pmm_methodology.errors import FrameworkError, Problem
from pmm_methodology.framework import Framework

_BOOLEAN_TAG = "tag:yaml.org,2002:bool"
_FLOAT_TAG = "tag:yaml.org,2002:float"


class _FrameworkYamlLoader(yaml.SafeLoader):
    pass


_FrameworkYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _BOOLEAN_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_FrameworkYamlLoader.add_implicit_resolver(
    _BOOLEAN_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal | str:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    # `.inf` and `.nan` stay text so that the schema refuses them by name.
    return number if number.is_finite() else text


def _construct_mapping(
    loader: yaml.SafeLoader, node: yaml.MappingNode
) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"key '{key}' appears twice", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_FrameworkYamlLoader.add_constructor(_FLOAT_TAG, _construct_decimal)
_FrameworkYamlLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def load_framework(source: Path | str | bytes) -> Framework:
    """Load a framework from a file (`Path`) or from its content (`str` or `bytes`).

    Raises FrameworkError listing every problem found.
    """
    raw = source.read_bytes() if isinstance(source, Path) else source
    text = _normalized_text(raw)
    document = _parse_yaml(text)
    framework = _validated(document)
    return framework.with_content_hash(content_hash(text))


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _normalized_text(raw: str | bytes) -> str:
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise FrameworkError(
                [Problem("", f"the file is not UTF-8 (byte {error.start})")]
            ) from error
    return raw.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _parse_yaml(text: str) -> dict[str, Any]:
    try:
        document = yaml.load(text, Loader=_FrameworkYamlLoader)  # noqa: S506
    except yaml.YAMLError as error:
        raise FrameworkError([Problem("", _describe_yaml_error(error))]) from error

    if isinstance(document, str) and document.endswith((".yaml", ".yml")):
        raise FrameworkError(
            [Problem("", "got a file name as text: pass a pathlib.Path to read a file")]
        )
    if not isinstance(document, dict):
        raise FrameworkError([Problem("", "a framework file is a mapping at the top")])
    return document


def _describe_yaml_error(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is None:
        return f"not valid YAML: {problem}"
    return (
        f"not valid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}"
    )


def _validated(document: dict[str, Any]) -> Framework:
    try:
        return Framework.model_validate(document)
    except ValidationError as error:
        raise FrameworkError(
            [
                Problem(_path(detail["loc"]), detail["msg"])
                for detail in error.errors(include_url=False)
            ]
        ) from error


def _path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif path:
            path += f".{part}"
        else:
            path = str(part)
    return path
