"""Finding concepts: typo-tolerant name matching (rapidfuzz) and ranked full-text search (SQLite FTS5)."""

from __future__ import annotations

import re
import sqlite3
import weakref
from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

from bot.domain.content import Concept, ContentStore
from bot.domain.text import truncate
from bot.errors import UserFacingError

AUTOCOMPLETE_LIMIT = 25  # Discord shows at most 25 choices
_MIN_SCORE = 65.0
_MAX_QUERY = 24  # characters compared: enough to tell names apart, and every length's table is prebuilt


@dataclass(frozen=True, slots=True)
class Match:
    """A concept that matched a query, with its canonical title and a 0-100 score."""

    concept_id: str
    title: str
    score: float


class ConceptMatcher:
    """Matches what a member types against every concept's id, title and aliases, forgiving typos and case.

    Members type the start of a name, or the start of a word inside it ("hack" for reward hacking), and make
    typos. So every name is indexed from each of its word starts, and the query is compared with the same
    number of leading characters of each entry: an edit-distance ratio that rapidfuzz computes over the
    distinct prefixes in C.
    """

    def __init__(self, store: ContentStore) -> None:
        self._titles = {concept.id: concept.title for concept in store.concepts.values()}
        self._tails: list[str] = []
        self._owners: list[str] = []
        self._word_index: list[int] = []
        for concept in store.concepts.values():
            for name in dict.fromkeys((concept.title, concept.id.replace("-", " "), *concept.aliases)):
                words = utils.default_process(name).split()
                for position in range(len(words)):
                    self._tails.append(" ".join(words[position:]))
                    self._owners.append(concept.id)
                    self._word_index.append(position)
        self._alphabetical = sorted(self._titles, key=lambda cid: self._titles[cid].casefold())
        # Built up front (a few ms per length at 1,000 concepts) so no keystroke pays for building one.
        self._by_length = [self._distinct_prefixes(length) for length in range(_MAX_QUERY + 1)]

    def _distinct_prefixes(self, length: int) -> tuple[list[str], list[list[int]]]:
        """Return the distinct `length`-character prefixes of all entries, and which entries share each one.

        Short prefixes repeat a lot ("re" starts hundreds of names), so scoring distinct ones is much cheaper.
        """
        positions: dict[str, list[int]] = {}
        for index, tail in enumerate(self._tails):
            positions.setdefault(tail[:length], []).append(index)
        return list(positions), list(positions.values())

    def matches(self, query: str, limit: int = AUTOCOMPLETE_LIMIT) -> list[Match]:
        """Return up to `limit` concepts, best first, each listed once under its canonical title.

        An empty query lists concepts alphabetically, so the autocomplete menu is useful before typing.
        """
        processed = utils.default_process(query)[:_MAX_QUERY]
        if not processed:
            return [Match(cid, self._titles[cid], 0.0) for cid in self._alphabetical[:limit]]
        prefixes, entries = self._by_length[len(processed)]
        best: dict[str, float] = {}
        for _, score, index in process.extract(
            processed, prefixes, scorer=fuzz.ratio, processor=None, limit=None, score_cutoff=_MIN_SCORE
        ):
            for entry in entries[index]:
                owner = self._owners[entry]
                # A match at the start of a name beats the same match on a later word.
                adjusted = score - min(self._word_index[entry], 3) * 2.0
                if adjusted > best.get(owner, -1.0):
                    best[owner] = adjusted
            if len(best) >= limit * 4:
                break  # results come best first; enough candidates to rank the top `limit`
        ranked = sorted(best.items(), key=lambda item: (-item[1], self._titles[item[0]].casefold()))
        return [Match(cid, self._titles[cid], score) for cid, score in ranked[:limit]]

    def suggestions(self, query: str, limit: int = 3) -> list[str]:
        """Return the titles of the closest concepts, for a "did you mean ...?" answer."""
        return [match.title for match in self.matches(query, limit)]


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A full-text search result: a concept or a reading, with a snippet around the matched words."""

    kind: str  # "concept" or "reading"
    item_id: str
    title: str
    snippet: str


_TOKEN = re.compile(r"\w+", re.UNICODE)


class FullTextIndex:
    """A ranked (BM25) full-text index over summaries, key points, examples and readings, in memory.

    Built from a content store in a few milliseconds; rebuilt whenever the store is reloaded. A reload swaps the
    whole library and drops the old one without closing it: a command that took the old library just before the swap
    may still be searching it. The in-memory database is closed when the last reference to its index goes.
    """

    def __init__(self, store: ContentStore) -> None:
        # check_same_thread=False: a reload may build the index in a worker thread; queries run on the loop.
        self._conn = sqlite3.connect(":memory:", check_same_thread=False)
        # A finalizer rather than __del__: it runs exactly once, and also at exit for an index still alive then.
        self._closer = weakref.finalize(self, self._conn.close)
        self._conn.execute(
            "CREATE VIRTUAL TABLE docs USING fts5(kind UNINDEXED, item_id UNINDEXED, title, body, "
            "tokenize = 'porter unicode61')"
        )
        rows = [
            (
                "concept",
                c.id,
                c.title,
                " ".join([" ".join(c.aliases), c.summary, " ".join(c.key_points), c.example]),
            )
            for c in store.concepts.values()
        ]
        rows += [("reading", r.id, r.title, f"{r.author} {r.kind} {r.level}") for r in store.readings.values()]
        self._conn.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)", rows)
        self._conn.commit()

    def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        """Return the best matches for the words in `query`, titles weighted above body text."""
        tokens = _TOKEN.findall(query.casefold())[:12]
        if not tokens:
            return []
        # Quote every word so user input can never be read as FTS5 syntax; the last word may be a prefix.
        match = " ".join(f'"{t}"' for t in tokens[:-1]) + f' "{tokens[-1]}"*'
        rows = self._conn.execute(
            "SELECT kind, item_id, title, snippet(docs, 3, '**', '**', '…', 16) FROM docs WHERE docs MATCH ? "
            "ORDER BY bm25(docs, 0, 0, 5.0, 1.0) LIMIT ?",
            (match.strip(), limit),
        ).fetchall()
        return [SearchHit(kind, item_id, title, snippet) for kind, item_id, title, snippet in rows]


@dataclass(frozen=True)
class Library:
    """A content store with its search indexes, built together so a reload swaps all three at once."""

    store: ContentStore
    matcher: ConceptMatcher
    index: FullTextIndex

    @classmethod
    def build(cls, store: ContentStore) -> Library:
        """Index `store` for name matching and full-text search (tens of milliseconds: build it off the event loop)."""
        return cls(store, ConceptMatcher(store), FullTextIndex(store))

    def find_concept(self, name: str) -> Concept:
        """Return the concept called `name`, or raise a UserFacingError that suggests close names."""
        concept = self.store.find(name)
        if concept is None:
            raise UserFacingError(unknown_concept_text(name, self.matcher.suggestions(name)))
        return concept


def unknown_concept_text(name: str, suggestions: list[str]) -> str:
    """Tell a member no concept has that name, suggesting the closest titles."""
    hint = f" Did you mean {', '.join(f'**{s}**' for s in suggestions)}?" if suggestions else ""
    return f"I don't know a concept called {truncate(name, 80)!r}.{hint}"
