"""The shipped content folder: every file validates, points at its schema, and the schemas are current."""

from pathlib import Path

import pytest
import yaml

from bot.domain.content_loader import SCHEMA_FILES, iter_content_files, json_schemas, load_content

CONTENT = Path(__file__).resolve().parents[2] / "content"
FILES = list(iter_content_files(CONTENT))


def test_shipped_content_validates() -> None:
    """The whole content folder loads without a single error."""
    store = load_content(CONTENT)
    assert store.stats()["concepts"] > 0


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CONTENT)))
def test_each_file_parses_and_references_its_schema(path: Path) -> None:
    """Each YAML file parses and starts with the yaml-language-server comment naming an existing schema."""
    text = path.read_text(encoding="utf-8")
    assert isinstance(yaml.safe_load(text), dict)
    first = text.splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    schema = (path.parent / first.split("=", 1)[1]).resolve()
    assert schema.exists() and schema.name in SCHEMA_FILES


def test_committed_schemas_match_the_models() -> None:
    """content/schema/*.json equals what the models generate (run `python -m bot content schema` to refresh)."""
    for name, text in json_schemas().items():
        assert (CONTENT / "schema" / name).read_text(encoding="utf-8") == text, name
