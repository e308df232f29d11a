import ast
import sys
from importlib import metadata, resources
from pathlib import Path

import pmm_methodology

PACKAGE_ROOT = Path(str(resources.files("pmm_methodology")))
FORBIDDEN = {
    "fastapi",
    "sqlalchemy",
    "nats",
    "httpx",
    "starlette",
    "asyncpg",
    "alembic",
}
THIRD_PARTY_ALLOWED = {"pydantic", "yaml"}


def _modules() -> list[Path]:
    return sorted(PACKAGE_ROOT.rglob("*.py"))


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_package_has_modules_to_scan() -> None:
    assert len(_modules()) > 10


def test_no_service_framework_is_imported() -> None:
    imported = set().union(*(_imported_roots(path) for path in _modules()))

    assert imported & FORBIDDEN == set()


def test_only_the_standard_library_pydantic_and_yaml_are_imported() -> None:
    imported = set().union(*(_imported_roots(path) for path in _modules()))
    outside = imported - set(sys.stdlib_module_names) - {"pmm_methodology"}

    assert outside == THIRD_PARTY_ALLOWED


def test_nothing_is_evaluated_by_python() -> None:
    builtins = {"eval", "exec", "compile", "__import__"}
    attributes = {"eval", "exec", "literal_eval"}
    found = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            function = node.func
            if (isinstance(function, ast.Name) and function.id in builtins) or (
                isinstance(function, ast.Attribute) and function.attr in attributes
            ):
                found.append(f"{path.name}:{node.lineno}")

    assert found == []


def test_library_version_matches_the_distribution() -> None:
    distribution_version = metadata.version("pmm-methodology")

    assert distribution_version == pmm_methodology.LIBRARY_VERSION


def test_public_api_is_exported() -> None:
    for name in (
        "load_framework",
        "reference_framework",
        "compute",
        "parse",
        "evaluate",
        "FrameworkError",
        "Assessment",
        "explain_kpi",
    ):
        assert name in pmm_methodology.__all__
        assert hasattr(pmm_methodology, name)
