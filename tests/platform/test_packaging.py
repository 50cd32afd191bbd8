"""The package layout (docs/adr/0001-package-layout.md), and the trap it avoids: shadowing the
stdlib `platform`."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE_FOLDERS = {
    "platform": "linju.platform",
    "projects": "linju.projects",
    "payments": "linju.payments",
}


def test_stdlib_platform_is_imported_from_the_repository_root() -> None:
    """A fresh interpreter started in the root must still get the standard library's modules."""
    script = (
        "import platform, uuid, json; "
        "assert hasattr(platform, 'python_version'), platform.__file__; "
        "import httpx, litestar, uvicorn; "
        "print(platform.__file__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert not result.stdout.strip().startswith(str(ROOT / "platform"))


def test_python_dash_m_pytest_still_starts_from_the_root() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_code_folders_have_no_top_level_init() -> None:
    for folder in CODE_FOLDERS:
        assert not (ROOT / folder / "__init__.py").exists(), f"{folder}/__init__.py shadows imports"


def test_every_subpackage_is_listed_for_the_wheel() -> None:
    """setuptools leaves out unlisted sub-packages of a package-dir mapping without a word."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    for folder, package in CODE_FOLDERS.items():
        for directory in [ROOT / folder, *sorted((ROOT / folder).rglob("*"))]:
            if not directory.is_dir() or "__pycache__" in directory.parts:
                continue
            if not any(directory.glob("*.py")):
                continue
            relative = directory.relative_to(ROOT / folder).parts
            name = ".".join([package, *relative])
            assert name in listed, f"{name} is missing from [tool.setuptools] packages"


def test_every_packaged_folder_holds_files_git_tracks() -> None:
    """git keeps no empty folder: a mapped folder with no tracked file breaks a fresh clone."""
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for folder in config["tool"]["setuptools"]["package-dir"].values():
        assert any(path.startswith(f"{folder}/") for path in tracked), f"{folder}/ is not in git"


def test_package_dir_maps_the_three_code_folders() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    mapping = config["tool"]["setuptools"]["package-dir"]
    for folder, package in CODE_FOLDERS.items():
        assert mapping[package] == folder


def test_the_wheel_the_image_installs_carries_every_file(tmp_path: Path) -> None:
    """The Dockerfile installs a regular wheel, not the editable tree: nothing may be left out."""
    import zipfile

    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("linju-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped_suffixes = {".py", ".html", ".txt", ".po", ".css", ".js", ".svg", ".png"}
    folders = {**CODE_FOLDERS, "templates": "linju.templates"}
    missing = [
        f"{package.replace('.', '/')}/{path.relative_to(ROOT / folder).as_posix()}"
        for folder, package in folders.items()
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in shipped_suffixes
        if f"{package.replace('.', '/')}/{path.relative_to(ROOT / folder).as_posix()}" not in names
    ]
    assert not missing, missing
