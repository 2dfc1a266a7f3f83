"""Benchmark: load 1,000 generated concepts, then time autocomplete and full-text search queries.

    python -m benchmarks.content

Targets (issue 3): load under 0.5 s, autocomplete p99 under 2 ms.
"""

from __future__ import annotations

import random
import statistics
import string
import tempfile
import time
from pathlib import Path

import yaml

from bot.domain.content_loader import load_content
from bot.domain.search import Library

CONCEPTS = 1_000
READINGS = 300
QUERIES = 2_000
WORDS = [
    "reward", "proxy", "model", "training", "goal", "agent", "value", "oversight", "shift", "signal", "policy",
    "gradient", "deception", "power", "control", "feedback", "honesty", "robust", "mesa", "corrigible",
]  # fmt: skip


def sentence(rng: random.Random, words: int) -> str:
    """Return pseudo-text of `words` words drawn from a small alignment vocabulary and random tokens."""
    pool = WORDS + ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 9))) for _ in range(20)]
    return " ".join(rng.choice(pool) for _ in range(words)) + "."


def generate(directory: Path, rng: random.Random) -> list[str]:
    """Write a valid content folder of CONCEPTS concepts and return their titles."""
    (directory / "concepts").mkdir(parents=True)
    readings = [
        {
            "id": f"reading-{i}",
            "title": f"Reading number {i}",
            "url": f"https://example.org/papers/{i}",
            "author": "Bench Author",
            "kind": "paper",
            "level": "intro",
        }
        for i in range(READINGS)
    ]
    (directory / "readings.yaml").write_text(yaml.safe_dump({"readings": readings}))
    ids = [f"concept-{i:04d}" for i in range(CONCEPTS)]
    titles = []
    for i, concept_id in enumerate(ids):
        title = f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} {i}"
        titles.append(title)
        concept = {
            "id": concept_id,
            "title": title,
            "aliases": [f"alias {rng.choice(WORDS)} {i}", f"{concept_id} other"],
            "step": "only",
            "summary": sentence(rng, 120),
            "key_points": [sentence(rng, 12) for _ in range(3)],
            "example": sentence(rng, 40),
            "related": [ids[(i + 1) % CONCEPTS]],
            "readings": [f"reading-{(i + k) % READINGS}" for k in range(2)],
        }
        (directory / "concepts" / f"{concept_id}.yaml").write_text(yaml.safe_dump(concept, sort_keys=False))
    outline = {
        "steps": [
            {
                "id": "only",
                "title": "Everything",
                "summary": "All generated concepts.",
                "points": [{"title": "All", "summary": "All of them.", "concepts": ids[:6]}],
            }
        ]
    }
    (directory / "outline.yaml").write_text(yaml.safe_dump(outline))
    return titles


def percentile(samples: list[float], q: float) -> float:
    """Return the q-th percentile (0-100) of the samples."""
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    """Generate, load, query, and print the figures."""
    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch) / "content"
        titles = generate(directory, rng)
        loads, builds = [], []
        for _ in range(5):
            start = time.perf_counter()
            store = load_content(directory)
            loaded = time.perf_counter()
            library = Library.build(store)
            loads.append(loaded - start)
            builds.append(time.perf_counter() - loaded)
    # Queries as members type them: prefixes, typos, lowercase, and a few empty ones.
    queries = []
    for _ in range(QUERIES):
        title = rng.choice(titles).lower()
        cut = rng.randint(0, len(title))
        query = title[:cut]
        if query and rng.random() < 0.3:
            pos = rng.randrange(len(query))
            query = query[:pos] + rng.choice(string.ascii_lowercase) + query[pos + 1 :]
        queries.append(query)
    timings = []
    for query in queries:
        start = time.perf_counter()
        library.matcher.matches(query)
        timings.append((time.perf_counter() - start) * 1000)
    searches = []
    for query in queries[:500]:
        start = time.perf_counter()
        library.index.search(query or "reward")
        searches.append((time.perf_counter() - start) * 1000)
    print(f"concepts: {len(store.concepts)}, readings: {len(store.readings)}")
    print(f"content load and validation (median of 5): {statistics.median(loads):.3f} s  (target < 0.5 s)")
    print(f"search indexes (name matcher + FTS5), built once per load: {statistics.median(builds):.3f} s")
    print(
        f"autocomplete over {QUERIES} queries: p50 {percentile(timings, 50):.3f} ms, "
        f"p99 {percentile(timings, 99):.3f} ms  (target p99 < 2 ms)"
    )
    print(f"full-text search: p50 {percentile(searches, 50):.3f} ms, p99 {percentile(searches, 99):.3f} ms")


if __name__ == "__main__":
    main()
