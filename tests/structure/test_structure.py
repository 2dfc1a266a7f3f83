"""Structure: the domain stays pure, every extension loads, command names are unique and within limits."""

import ast
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest
from discord import app_commands

from bot.bot import EXTENSIONS, AlignmentBot
from bot.db import Database
from bot.domain.content import ContentStore
from bot.domain.search import Library
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    """Return the top-level names of every module a source file imports."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "bot" / "domain").rglob("*.py")), ids=lambda p: p.name)
def test_domain_never_imports_discord(path: Path) -> None:
    """No module in bot/domain imports discord (or aiosqlite): the domain is pure logic."""
    assert not imported_modules(path) & {"discord", "aiosqlite"}


def test_importing_the_domain_does_not_load_discord() -> None:
    """Importing every domain module in a fresh interpreter leaves discord out of sys.modules."""
    modules = [f"bot.domain.{p.stem}" for p in (ROOT / "bot" / "domain").glob("*.py") if p.stem != "__init__"]
    code = f"import sys\nfor m in {modules!r}: __import__(m)\nprint('discord' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_every_cog_module_is_a_listed_extension() -> None:
    """Each feature in bot/exts (a module or a package) is in EXTENSIONS, so none is forgotten at start-up."""
    exts = ROOT / "bot" / "exts"
    modules = {f"bot.exts.{p.stem}" for p in exts.glob("*.py") if p.stem != "__init__"}
    modules |= {f"bot.exts.{p.parent.name}" for p in exts.glob("*/__init__.py")}
    assert modules == set(EXTENSIONS)


@pytest.fixture
async def loaded_bot(tmp_path: Path) -> AsyncIterator[AlignmentBot]:
    """Return a bot with every extension loaded, not connected to anything."""
    async with await Database.open(tmp_path / "s.sqlite3") as db:
        bot = AlignmentBot(settings=Settings(), db=db, library=Library.build(ContentStore.empty()))
        # Set up and closed as main() does: a sharded client that was never set up cannot close.
        async with bot:
            for extension in EXTENSIONS:
                await bot.load_extension(extension)
            yield bot


async def test_every_extension_loads_and_has_commands(loaded_bot: AlignmentBot) -> None:
    """Every extension loads without error and the tree ends up with commands."""
    assert set(loaded_bot.extensions) == set(EXTENSIONS)
    assert loaded_bot.tree.get_commands()


async def test_command_names_unique_and_within_discord_limits(loaded_bot: AlignmentBot) -> None:
    """Command names are unique; names, descriptions and option counts fit Discord's limits."""
    names = [command.qualified_name for command in loaded_bot.tree.walk_commands()]
    assert len(names) == len(set(names))
    assert len(loaded_bot.tree.get_commands()) <= 100
    for command in loaded_bot.tree.walk_commands():
        assert 1 <= len(command.name) <= 32
        assert 1 <= len(command.description) <= 100, command.qualified_name
        if isinstance(command, app_commands.Command):
            assert len(command.parameters) <= 25
        # Serialising catches invalid option combinations before Discord would.
        assert isinstance(command.to_dict(loaded_bot.tree), dict)


async def test_client_default_pings_nobody(loaded_bot: AlignmentBot) -> None:
    """The client-wide allowed_mentions default is none: no @everyone, roles, users or reply pings."""
    assert loaded_bot.allowed_mentions is not None
    assert loaded_bot.allowed_mentions.to_dict() == discord.AllowedMentions.none().to_dict()


BOT_MODULES = sorted((ROOT / "bot").rglob("*.py"))
MODULE_LINE_LIMIT = 400
# SQL that is not storage: the in-memory full-text index behind /search.
SQL_ALLOWED_OUTSIDE_DB = {ROOT / "bot" / "domain" / "search.py"}
_SQL = re.compile(r"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|CREATE TABLE|PRAGMA|BEGIN|COMMIT)\b")


def string_literals(path: Path) -> list[str]:
    """Return every string constant in a source file (docstrings included)."""
    return [
        n.value
        for n in ast.walk(ast.parse(path.read_text()))
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


@pytest.mark.parametrize("path", BOT_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_too_long_to_read(path: Path) -> None:
    """Each module reads in one sitting; a longer one wants splitting by responsibility."""
    assert len(path.read_text().splitlines()) <= MODULE_LINE_LIMIT


def test_only_the_render_module_builds_embeds() -> None:
    """Every message is a domain card rendered by bot/render.py; nothing else constructs an embed."""
    builders = [p for p in BOT_MODULES if "Embed(" in p.read_text() and p.name != "render.py"]
    assert builders == []


def test_sql_lives_only_in_the_database_package() -> None:
    """No query outside bot/db/ (docstrings may mention SQL words in prose, so only code strings are read)."""
    outside = [p for p in BOT_MODULES if "db" not in p.relative_to(ROOT).parts[1:2] and p not in SQL_ALLOWED_OUTSIDE_DB]
    offenders = {
        str(p.relative_to(ROOT)): hits
        for p in outside
        if (hits := [s for s in string_literals(p) if _SQL.search(s) and not s.strip().endswith(".")])
    }
    assert offenders == {}
