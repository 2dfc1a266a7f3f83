"""The content loader: a valid folder becomes an indexed store; each broken fixture gives its exact error."""

import shutil
from pathlib import Path

import pytest

from bot.domain.content import ContentInvalid, concept_card
from bot.domain.content_loader import load_content

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "content"
BROKEN_CASES = sorted(p.name for p in (FIXTURES / "broken").iterdir() if p.is_dir())


def overlay(tmp_path: Path, *cases: str) -> Path:
    """Copy the valid folder to tmp_path/content and lay each broken case's files over it."""
    target = tmp_path / "content"
    shutil.copytree(FIXTURES / "valid", target)
    for case in cases:
        for source in (FIXTURES / "broken" / case).rglob("*.yaml"):
            destination = target / source.relative_to(FIXTURES / "broken" / case)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, destination)
    return target


def test_valid_folder_loads_into_an_indexed_store() -> None:
    """The valid fixture loads, with every kind of item counted."""
    store = load_content(FIXTURES / "valid")
    assert store.stats() == {"concepts": 3, "readings": 4, "steps": 2, "estimates": 1, "prompts": 1}
    assert [r.id for r in store.readings_for(store.concepts["reward-hacking"])] == ["concrete-problems", "spec-gaming"]


@pytest.mark.parametrize(
    "name", ["goodharts-law", "goodharts law", "Goodhart's Law", "  GOODHART ", "measure becomes a target"]
)
def test_find_by_id_title_or_alias_in_any_case(name: str) -> None:
    """A concept is found by its id, title or any alias, whatever the case and surrounding spaces."""
    concept = load_content(FIXTURES / "valid").find(name)
    assert concept is not None and concept.id == "goodharts-law"


def test_store_is_immutable() -> None:
    """Neither the indexes nor the items can be changed after loading."""
    store = load_content(FIXTURES / "valid")
    with pytest.raises(TypeError):
        store.concepts["new"] = store.concepts["king-midas"]  # type: ignore[index]
    with pytest.raises(ValueError, match="frozen"):
        store.concepts["king-midas"].title = "Changed"  # type: ignore[misc]


@pytest.mark.parametrize("case", BROKEN_CASES)
def test_each_broken_fixture_is_rejected_with_its_message(tmp_path: Path, case: str) -> None:
    """Each deliberately broken fixture yields exactly the errors in its expected.txt: file, line, field, reason."""
    expected = (FIXTURES / "broken" / case / "expected.txt").read_text().splitlines()
    with pytest.raises(ContentInvalid) as caught:
        load_content(overlay(tmp_path, case))
    assert [str(error) for error in caught.value.errors] == expected


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    """Defects in several files are all reported in one pass, not just the first."""
    with pytest.raises(ContentInvalid) as caught:
        load_content(overlay(tmp_path, "non-https-url", "unknown-key", "prompt-unknown-concept"))
    files = {error.file for error in caught.value.errors}
    assert files == {"content/readings.yaml", "content/concepts/king-midas.yaml", "content/prompts.yaml"}


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    """A CONTENT_DIR that does not exist is reported, not silently treated as empty."""
    with pytest.raises(ContentInvalid, match="is not a folder"):
        load_content(tmp_path / "nowhere")


def test_concept_card_has_summary_points_example_related_and_readings() -> None:
    """A concept renders to a card with its summary and the fields members expect."""
    store = load_content(FIXTURES / "valid")
    card = concept_card(store.concepts["reward-hacking"], store)
    assert card.title == "Reward hacking"
    assert card.description.startswith("A learning system")
    names = [name for name, _ in card.fields]
    assert names == ["Key points", "Example", "Related", "Read more"]
    assert "Goodhart's law, King Midas problem" in dict(card.fields)["Related"]
    assert "https://arxiv.org/abs/1606.06565" in dict(card.fields)["Read more"]
    assert card.footer == "Essay step: We can't build precisely what we specify"


def test_empty_folder_is_invalid(tmp_path: Path) -> None:
    """An empty folder is not valid content: no concepts, and the required files are reported missing."""
    with pytest.raises(ContentInvalid) as caught:
        load_content(tmp_path)
    assert [str(error) for error in caught.value.errors] == [
        f"{tmp_path.name}/concepts: holds no concept files (concepts/<id>.yaml); the bot needs at least one concept "
        "to serve",
        f"{tmp_path.name}/readings.yaml: is missing; every concept's readings are listed there",
        f"{tmp_path.name}/outline.yaml: is missing; the essay's steps, used by /concepts and /tour, are listed there",
    ]


def test_missing_readings_file_is_invalid(tmp_path: Path) -> None:
    """Without readings.yaml the folder is refused with a sentence saying what the file is for."""
    folder = overlay(tmp_path)
    (folder / "readings.yaml").unlink()
    with pytest.raises(ContentInvalid) as caught:
        load_content(folder)
    assert [str(error) for error in caught.value.errors] == [
        "content/readings.yaml: is missing; every concept's readings are listed there"
    ]


def test_references_and_prompts_are_optional(tmp_path: Path) -> None:
    """Without references.yaml and prompts.yaml the folder loads, with no estimates and no starter prompts."""
    folder = overlay(tmp_path)
    (folder / "references.yaml").unlink()
    (folder / "prompts.yaml").unlink()
    stats = load_content(folder).stats()
    assert stats["estimates"] == 0 and stats["prompts"] == 0 and stats["concepts"] == 3
