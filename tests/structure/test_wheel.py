"""The bot finds its migrations however it runs: from a wheel, an editable install, or a copied source tree.

The copied tree is the Docker image's layout; the rest of the suite runs from the source checkout itself.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import shutil
import site
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.db import Database, migrations
from tests.processes import ROOT, command_environment

# Opens a new database in the working folder and reports where the code came from and what the file contains,
# and which PostgreSQL migrations the code finds (SQLite's are proven by the tables they create).
PROBE = """
import asyncio, json, sqlite3, sys
from pathlib import Path
import bot
from bot.db import Database
from bot.db.migrations import migrations_folder

async def main():
    await (await Database.open(Path("new.sqlite3"))).close()

asyncio.run(main())
package = Path(bot.__file__).parent
with sqlite3.connect("new.sqlite3") as conn:
    tables = sorted(row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
    version = conn.execute("PRAGMA user_version").fetchone()[0]
print(json.dumps({
    "package": str(package),
    "prefix": sys.prefix,
    "modules": sorted(p.relative_to(package).as_posix() for p in package.rglob("*.py")),
    "tables": tables,
    "version": version,
    "postgresql": sorted(item.name for item in migrations_folder("postgresql").iterdir()),
}))
"""


def can_build_wheels() -> bool:
    """Return whether this environment's setuptools can build a wheel without downloading anything."""
    version = importlib.metadata.version("setuptools")
    major, minor = (int(part) for part in version.split(".")[:2])
    # bdist_wheel is part of setuptools from 70.1; before that it comes from the `wheel` package.
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


def copy_sources(destination: Path, *names: str) -> Path:
    """Copy files and folders of the checkout (without caches) to `destination` and return it."""
    destination.mkdir(parents=True)
    for name in names:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, destination / name)
    return destination


def probe(python: str, cwd: Path) -> dict[str, object]:
    """Run PROBE with `python` in `cwd`, without the checkout on the path, and return its report."""
    env = command_environment()
    env.pop("PYTHONPATH")
    result = subprocess.run(
        [python, "-c", PROBE], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, object] = json.loads(result.stdout)
    return report


def postgresql_migrations() -> list[str]:
    """Return the file names of the checkout's PostgreSQL migrations."""
    return [migration.name for migration in migrations.discover(dialect="postgresql")]


def source_modules() -> list[str]:
    """Return every module of the checkout's bot package, relative to it."""
    package = ROOT / "bot"
    return sorted(p.relative_to(package).as_posix() for p in package.rglob("*.py") if "__pycache__" not in p.parts)


async def expected_tables(tmp_path: Path) -> list[str]:
    """Return the tables the checkout's own code creates in a new database."""
    path = tmp_path / "reference.sqlite3"
    await (await Database.open(path)).close()
    with sqlite3.connect(path) as conn:
        tables = sorted(row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
    conn.close()
    return tables


@pytest.mark.skipif(
    not can_build_wheels(),
    reason="this environment's setuptools cannot build a wheel offline; pip install -e '.[test]' installs one that can",
)
async def test_a_wheel_install_migrates_a_new_database(tmp_path: Path) -> None:
    """Installed from a wheel and run outside the checkout, the bot creates every table in a new database."""
    source = copy_sources(tmp_path / "source", "pyproject.toml", "README.md", "bot", "migrations")
    # Built from a copy, so the build/ and egg-info folders it writes never touch the shared working tree.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", tmp_path / "dist", "."],
        cwd=source,
        check=True,
        capture_output=True,
        timeout=120,
    )
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    # Dependencies come from this environment (--system-site-packages); only the bot itself goes in the venv.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv], check=True)
    # --system-site-packages reaches the base interpreter's packages only; when the tests themselves run in a
    # virtual environment, its packages (dependencies, pip) are added with a .pth file.
    (site_packages,) = venv.glob("lib/python*/site-packages")
    (site_packages / "test-environment.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    python = str(venv / "bin" / "python")
    install = [python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed", str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=120)
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()

    report = probe(python, workdir)

    assert Path(str(report["package"])).is_relative_to(venv), report["package"]
    assert report["modules"] == source_modules(), "a module under bot/ is missing from pyproject's package list"
    assert report["version"] == len(migrations.discover())
    assert report["tables"] == await expected_tables(tmp_path)
    assert report["postgresql"] == postgresql_migrations()


async def test_an_editable_install_migrates_a_new_database(tmp_path: Path) -> None:
    """Installed with `pip install -e .` and run outside the checkout, the bot creates every table in a new database."""
    env = command_environment()
    env.pop("PYTHONPATH")
    where = subprocess.run(
        [sys.executable, "-c", "import bot; print(bot.__file__)"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    if where.returncode != 0 or Path(where.stdout.strip()).parent != ROOT / "bot":
        pytest.skip("this checkout is not installed in the environment with pip install -e .")

    report = probe(sys.executable, tmp_path)

    assert report["package"] == str(ROOT / "bot")
    assert report["version"] == len(migrations.discover())
    assert report["tables"] == await expected_tables(tmp_path)
    assert report["postgresql"] == postgresql_migrations()


async def test_the_docker_layout_migrates_a_new_database(tmp_path: Path) -> None:
    """Run from a copy of bot/ and migrations/ without installing (as in the image), the bot creates every table."""
    app = copy_sources(tmp_path / "app", "bot", "migrations")

    report = probe(sys.executable, app)

    assert report["package"] == str(app / "bot")
    assert report["version"] == len(migrations.discover())
    assert report["tables"] == await expected_tables(tmp_path)
    assert report["postgresql"] == postgresql_migrations()
