"""The house plan holds (docs/adr/0011-house-plan.md): every module imports on its own, the
import contracts cover the whole shell and each one catches the violation it exists for, and
every area has its rooms.

Pure: no database, no app.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AREAS = ("platform", "projects", "payments")
ROOT_MODULES = {"linju.platform.app", "linju.platform.cli", "linju.platform.piccolo_conf"}


def _modules() -> list[str]:
    """Every module of the three code folders, by its installed `linju.…` name."""
    names = []
    for area in AREAS:
        for path in sorted((REPO / area).rglob("*.py")):
            relative = path.relative_to(REPO).with_suffix("")
            if "piccolo_migrations" in relative.parts:
                continue
            parts = list(relative.parts)
            if parts[-1] == "__init__":
                parts.pop()
            names.append("linju." + ".".join(parts))
    return names


# Each module is imported in a process of its own that has imported no `linju` module before
# it: only that catches a cycle that depends on which module of it is imported first. A fresh
# interpreter first loads the third-party libraries (they cannot take part in our cycles), then
# forks once per module, so each child starts from a clean `linju` in a few milliseconds.
_IMPORT_EACH_ALONE = textwrap.dedent(
    """
    import importlib, os, sys, traceback
    for library in ("litestar", "piccolo.table", "piccolo.columns", "msgspec", "jinja2",
                    "babel", "click", "httpx", "stripe", "PIL.Image", "segno", "argon2",
                    "markdown_it", "nh3", "asyncpg", "aiosqlite", "uvicorn"):
        importlib.import_module(library)
    assert not [m for m in sys.modules if m.startswith("linju")], "linju imported too early"
    failed = []
    for name in sys.argv[1:]:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            try:
                importlib.import_module(name)
            except BaseException:
                os.write(write, traceback.format_exc().encode())
                os._exit(1)
            os._exit(0)
        os.close(write)
        with os.fdopen(read, "rb") as pipe:
            output = pipe.read().decode()
        _, status = os.waitpid(pid, 0)
        if status != 0:
            failed.append(name + ":\\n" + output)
    print("\\n".join(failed))
    sys.exit(1 if failed else 0)
    """
)


def test_every_module_imports_on_its_own() -> None:
    modules = _modules()
    assert "linju.projects.ledger.cli" in modules
    assert "linju.payments.cli" in modules
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH_ALONE, *modules],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=REPO,
        env=os.environ.copy(),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def test_the_shell_contract_names_every_module_of_the_shell() -> None:
    """A new module under platform/ is either in the shell contract or part of the root."""
    shell = next(c for c in _contracts() if str(c["name"]).startswith("The shell"))
    listed = set(shell["source_modules"])  # type: ignore[call-overload]
    top_level = {
        "linju.platform." + (p.stem if p.is_file() else p.name)
        for p in (REPO / "platform").iterdir()
        if (p.suffix == ".py") or (p.is_dir() and (p / "__init__.py").exists())
    }
    assert listed == top_level - ROOT_MODULES
    assert not any("ignore_imports" in c for c in _contracts())


def _tree_copy(tmp_path: Path) -> Path:
    """The code folders and pyproject.toml, copied so a test can break them."""
    copy = tmp_path / "repo"
    for area in AREAS:
        shutil.copytree(REPO / area, copy / area, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", copy / "pyproject.toml")
    return copy


def _lint_imports(repo: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`make imports`, run over `repo`: the contracts read through a folder of links."""
    links = tmp_path / "links"
    (links / "linju").mkdir(parents=True)
    for area in AREAS:
        (links / "linju" / area).symlink_to(repo / area)
    lint_imports = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(lint_imports), str(repo / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=links,
        env={**os.environ, "PYTHONPATH": str(links)},
    )


# (file to add a line to, the line, the start of the name of the contract it breaks)
VIOLATIONS = [
    ("platform/templating.py", "import linju.projects.core.rules", "The shell"),
    ("platform/accounts/guards.py", "import linju.payments.registry", "The shell"),
    ("projects/spending/services/cancellation.py", "import linju.payments.services", "projects"),
    ("projects/ledger/read.py", "import linju.projects.donations.tables", "The ledger"),
    ("projects/stewardship/rules.py", "import linju.projects.spending.rules", "Feature areas"),
    ("projects/core/rules.py", "import linju.projects.stewardship.rules", "Feature areas"),
    ("projects/core/read.py", "import linju.projects.voice.rules", "Feature areas"),
    ("projects/voice/rules.py", "import linju.projects.donations.rules", "Residents' voice"),
    ("payments/services.py", "import linju.projects.core.controllers.pages", "Only the"),
    ("projects/spending/read.py", "import linju.platform.accounts.controllers", "Only the"),
]


@pytest.mark.parametrize(("path", "line", "contract"), VIOLATIONS)
def test_each_contract_catches_its_violation(
    tmp_path: Path, path: str, line: str, contract: str
) -> None:
    repo = _tree_copy(tmp_path)
    with (repo / path).open("a") as module:
        module.write(f"\n{line}  # noqa\n")
    broken = _lint_imports(repo, tmp_path)
    assert broken.returncode != 0
    # the contract the line offends breaks (an indirect import may break another one too)
    broken_lines = [row for row in broken.stdout.splitlines() if row.endswith("BROKEN")]
    assert any(row.startswith(contract) for row in broken_lines), broken.stdout


ROOMS = {
    "core": ("tables", "rules", "services", "read", "controllers"),
    "ledger": ("tables", "format", "services", "read", "controllers", "cli"),
    "donations": ("tables", "rules", "services", "read", "controllers", "piccolo_app"),
    "stewardship": ("tables", "rules", "services", "read", "controllers", "piccolo_app"),
    "spending": ("tables", "rules", "services", "read", "controllers", "piccolo_app"),
}


@pytest.mark.parametrize("area", sorted(ROOMS))
def test_every_area_has_its_rooms(area: str) -> None:
    folder = REPO / "projects" / area
    for room in ROOMS[area]:
        assert (folder / f"{room}.py").exists() or (folder / room / "__init__.py").exists(), (
            f"projects/{area} has no {room}"
        )


def test_the_readme_finds_the_handler_of_every_url() -> None:
    """README's "where to find what" names, for every route of the app, the file of its handler."""
    import inspect
    import re

    from linju.platform.app import create_app

    rows: dict[str, set[str]] = {}
    for line in (REPO / "README.md").read_text().splitlines():
        match = re.match(r"\| `(/[^`]*)` \| .* \| `([^`]+\.py)` \|$", line)
        if match:
            rows.setdefault(match.group(1), set()).add(match.group(2))
    routes: dict[str, set[str]] = {}
    for route in create_app().routes:
        if route.path.startswith(("/static", "/schema")):
            continue
        for handler in getattr(route, "route_handlers", []):
            source = inspect.getsourcefile(handler.fn)
            assert source is not None
            if not any(Path(source).resolve().is_relative_to(REPO / area) for area in AREAS):
                continue  # the OPTIONS handler Litestar adds to every path
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
            routes.setdefault(path, set()).add(str(Path(source).resolve().relative_to(REPO)))
    assert rows == routes
