"""What the corpus report asks a store: counts over the successful analyses of one model
version, grouped by technique, source, period, frame, genre, narrative or entity role.

:class:`CorpusQueries` is a part of :class:`~.database.Store` (its base class): the report
calls these methods and runs no SQL of its own.
"""

from __future__ import annotations

import sqlite3

#: The source of articles stored without one.
NO_SOURCE = "(no source)"

_OK = "a.model_version = ? AND a.status = 'ok'"
_SOURCE = f"coalesce(r.source, '{NO_SOURCE}')"


class CorpusQueries:
    """Aggregates of the ``ok`` analyses of a model version ``version`` (and its failures);
    ``version`` is ``None`` for a store without analyses, whose aggregates are all empty."""

    db: sqlite3.Connection

    def _rows(self, sql: str, params: tuple) -> list[tuple]:
        return [tuple(row) for row in self.db.execute(sql, params)]

    def status_counts(self, version: str | None) -> dict[str, int]:
        """Analyses per status (``ok``, ``failed``)."""
        return dict(
            self._rows("SELECT status, count(*) FROM analyses a WHERE a.model_version = ? GROUP BY status", (version,))
        )

    def language_counts(self, version: str | None) -> dict[str, int]:
        """Articles per language (``?`` when unknown), the most frequent first."""
        return dict(
            self._rows(
                f"SELECT coalesce(r.language, '?'), count(*) AS n FROM analyses a JOIN articles r ON "
                f"r.hash = a.article_hash WHERE {_OK} GROUP BY 1 ORDER BY n DESC, 1",
                (version,),
            )
        )

    def date_range(self, version: str | None) -> tuple[str | None, str | None, int]:
        """The first and last dates of the dated articles, and how many are dated."""
        row = self.db.execute(
            f"SELECT min(r.date), max(r.date), count(r.date) FROM analyses a JOIN articles r ON "
            f"r.hash = a.article_hash WHERE {_OK}",
            (version,),
        ).fetchone()
        return row[0], row[1], row[2]

    def source_count(self, version: str | None) -> int:
        """How many distinct sources the articles come from (articles without one not counted)."""
        return self.db.execute(
            f"SELECT count(DISTINCT r.source) FROM analyses a JOIN articles r ON r.hash = a.article_hash WHERE {_OK}",
            (version,),
        ).fetchone()[0]

    def technique_counts(self, version: str | None) -> list[tuple[str, int, int]]:
        """``(technique, paragraphs, articles)`` labelled with each technique, the most paragraphs first."""
        return self._rows(
            f"SELECT p.technique, count(*) AS paragraphs, count(DISTINCT p.analysis_id) FROM paragraph_labels p "
            f"JOIN analyses a ON a.analysis_id = p.analysis_id WHERE {_OK} GROUP BY p.technique "
            "ORDER BY paragraphs DESC, p.technique",
            (version,),
        )

    def top_sources(self, version: str | None, top: int) -> dict[str, int]:
        """Articles per source (:data:`NO_SOURCE` for none), the ``top`` sources with the most."""
        return dict(
            self._rows(
                f"SELECT {_SOURCE} AS src, count(*) AS n FROM analyses a JOIN articles r "
                f"ON r.hash = a.article_hash WHERE {_OK} GROUP BY src ORDER BY n DESC, src LIMIT ?",
                (version, top),
            )
        )

    def technique_articles_by_source(self, version: str | None) -> list[tuple[str, str, int]]:
        """``(source, technique, articles using it)`` for every source and technique."""
        return self._technique_articles(_SOURCE, _OK, version)

    def articles_per_period(self, version: str | None, period_chars: int) -> dict[str, int]:
        """Dated articles per period, the period being the first ``period_chars`` of the ISO
        date (7: month, 10: day), in date order."""
        period = self._period(period_chars)
        return dict(
            self._rows(
                f"SELECT {period} AS period, count(*) FROM analyses a JOIN articles r ON "
                f"r.hash = a.article_hash WHERE {_OK} AND r.date IS NOT NULL GROUP BY period "
                "ORDER BY period",
                (version,),
            )
        )

    def technique_articles_by_period(self, version: str | None, period_chars: int) -> list[tuple[str, str, int]]:
        """``(period, technique, articles using it)``, periods as in :meth:`articles_per_period`."""
        return self._technique_articles(self._period(period_chars), f"{_OK} AND r.date IS NOT NULL", version)

    @staticmethod
    def _period(period_chars: int) -> str:
        return f"substr(r.date, 1, {int(period_chars)})"

    def _technique_articles(self, group: str, where: str, version: str | None) -> list[tuple[str, str, int]]:
        """``(group value, technique, number of articles using it)`` rows, grouped by the SQL ``group``."""
        return self._rows(
            f"SELECT {group} AS grp, p.technique, count(DISTINCT p.analysis_id) FROM paragraph_labels p "
            f"JOIN analyses a ON a.analysis_id = p.analysis_id JOIN articles r ON r.hash = a.article_hash "
            f"WHERE {where} GROUP BY grp, p.technique",
            (version,),
        )

    def frame_counts(self, version: str | None) -> list[tuple[str, int]]:
        """``(frame, articles)``, the most frequent first."""
        return self._rows(
            f"SELECT f.frame, count(DISTINCT f.analysis_id) AS n FROM frames f JOIN analyses a ON "
            f"a.analysis_id = f.analysis_id WHERE {_OK} GROUP BY f.frame ORDER BY n DESC, f.frame",
            (version,),
        )

    def genre_counts(self, version: str | None) -> list[tuple[str | None, int]]:
        """``(genre, articles)``, the most frequent first; genre ``None`` counts the articles
        analysed without the genre component."""
        return self._rows(
            f"SELECT a.genre, count(*) AS n FROM analyses a WHERE {_OK} GROUP BY a.genre ORDER BY n DESC, a.genre",
            (version,),
        )

    def narrative_counts(self, version: str | None) -> list[tuple[str, int]]:
        """``(narrative, articles)``, the most frequent first."""
        return self._rows(
            f"SELECT n.narrative, count(DISTINCT n.analysis_id) AS k FROM narratives n JOIN analyses a "
            f"ON a.analysis_id = n.analysis_id WHERE {_OK} GROUP BY n.narrative "
            "ORDER BY k DESC, n.narrative",
            (version,),
        )

    def top_evidence(self, version: str | None, per_narrative: int) -> list[tuple[str, str, float, str]]:
        """``(narrative, sentence, score, article id)``: the ``per_narrative`` evidence sentences
        of each narrative that carry it most, across the corpus, best first (one per article)."""
        return self._rows(
            "SELECT label, text, score, id FROM (SELECT e.label, e.text, e.score, r.id, row_number() OVER "
            "(PARTITION BY e.label ORDER BY e.score DESC, r.id) AS k FROM (SELECT analysis_id, label, text, "
            "max(score) AS score FROM evidence WHERE kind = 'narrative' GROUP BY analysis_id, label) e "
            f"JOIN analyses a ON a.analysis_id = e.analysis_id JOIN articles r ON r.hash = a.article_hash "
            f"WHERE {_OK}) WHERE k <= ? ORDER BY label, score DESC",
            (version, per_narrative),
        )

    def entity_casts(self, version: str | None) -> list[tuple[str, str, str, int]]:
        """``(source, role, entity name, analysis id)``: each entity an article casts in a role, once."""
        return self._rows(
            f"SELECT DISTINCT {_SOURCE} AS src, e.role, e.name, e.analysis_id FROM entities e JOIN analyses a "
            f"ON a.analysis_id = e.analysis_id JOIN articles r ON r.hash = a.article_hash WHERE {_OK}",
            (version,),
        )

    def span_text_counts(self, version: str | None) -> list[tuple[str, str, int]]:
        """``(technique, span text, times found)`` for every exact span text."""
        return self._rows(
            f"SELECT s.technique, s.text, count(*) FROM spans s JOIN analyses a ON "
            f"a.analysis_id = s.analysis_id WHERE {_OK} GROUP BY s.technique, s.text",
            (version,),
        )

    def articles_quoting(self, version: str | None, technique: str, texts: list[str], limit: int) -> list[tuple]:
        """``(article hash, id, title)`` of the first ``limit`` articles (by id) with a span of
        ``technique`` reading one of ``texts``."""
        return self._rows(
            f"SELECT DISTINCT a.article_hash, r.id, r.title FROM spans s JOIN analyses a ON "
            f"a.analysis_id = s.analysis_id JOIN articles r ON r.hash = a.article_hash WHERE {_OK} AND "
            f"s.technique = ? AND s.text IN ({','.join('?' * len(texts))}) ORDER BY r.id LIMIT ?",
            (version, technique, *texts, limit),
        )

    def failures(self, version: str | None, limit: int = 100) -> list[tuple[str, str, str]]:
        """``(article id, hash, reason)`` of the failed articles, by id."""
        return self._rows(
            "SELECT r.id, r.hash, a.error FROM analyses a JOIN articles r ON r.hash = a.article_hash "
            "WHERE a.model_version = ? AND a.status = 'failed' ORDER BY r.id LIMIT ?",
            (version, limit),
        )

    def article_metadata(self, article_hash: str) -> dict | None:
        """An article's id, title, source, url, date and language, or ``None``."""
        row = self.db.execute(
            "SELECT id, title, source, url, date, language FROM articles WHERE hash = ?", (article_hash,)
        ).fetchone()
        return dict(row) if row else None
