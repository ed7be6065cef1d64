"""What a corpus says, from a store: the numbers the corpus report shows (:func:`corpus_data`).

The data is plain JSON, for the HTML report (:mod:`~.report`) and a web page (``/corpus``) too.
Every number comes from the store's named queries (:class:`~.store.queries.CorpusQueries`);
this module ranks, groups and shares them out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..models.embeddings import Embedder, EmbeddingCache
from ..models.entities import group_names
from ..taxonomy import label
from .store import Store

#: How many of each thing the report shows.
TOP_SPANS = 10
TOP_SOURCES = 15
TOP_TECHNIQUES_OVER_TIME = 6
#: Entities listed per source and role in the "who is cast as what" table.
TOP_ENTITIES = 5
#: Antagonists in the per-source chart.
CHART_ENTITIES = 12
ARTICLES_PER_SPAN = 3
#: Evidence sentences shown per narrative (from different articles).
EVIDENCE_PER_NARRATIVE = 3
MAX_ARTICLE_CHARS = 8_000
#: Dates spanning fewer days are counted per day, others per month.
DAILY_UNDER_DAYS = 90


def label_title(name: str) -> str:
    """The title of a taxonomy label (technique, frame) as shown to readers."""
    try:
        return label(name).title
    except (KeyError, ValueError):
        return name.replace("_", " ")


def _normalise_span(text: str) -> str:
    return " ".join(text.split()).casefold()


def corpus_data(
    db_path: Path | str,
    model_version: str | None = None,
    top_spans: int = TOP_SPANS,
    top_sources: int = TOP_SOURCES,
    articles_per_span: int = ARTICLES_PER_SPAN,
    embed: Callable[[list[str]], np.ndarray] | None = None,
) -> dict:
    """Everything the corpus report shows, for one model version (default: the latest used).

    Keys: ``summary``, ``techniques`` (per technique: paragraphs and articles labelled),
    ``sources`` (articles per source and the share of them using each technique),
    ``over_time`` (per month, or per day when the dates span under three months; empty
    without dates), ``frames``, ``genres``, ``narratives``, ``entities`` (see :func:`_entities`),
    ``evidence`` (per narrative, the sentences that carry it most), ``spans`` (per technique, the most frequent span texts with the articles they come from),
    ``articles`` (those articles, keyed by hash) and ``failures``. ``embed`` (default: the cached
    e5 embedder) tells inflected forms of one entity name apart from different names (see
    :func:`~spinscope.models.entities.group_names`).
    """
    with Store(db_path, create=False) as store:
        version = store.resolve_version(model_version)
        summary = _summary(store, version, str(db_path))
        techniques = _techniques(store, version, summary["analysed"])
        data: dict[str, Any] = {
            "summary": summary,
            "techniques": techniques,
            "sources": _sources(store, version, top_sources),
            "over_time": _over_time(store, version, [t["technique"] for t in techniques[:TOP_TECHNIQUES_OVER_TIME]]),
            "frames": [{"frame": f, "title": label_title(f), "articles": n} for f, n in store.frame_counts(version)],
            "genres": [{"genre": g, "articles": n} for g, n in store.genre_counts(version)],
            "failures": [{"id": i, "hash": h, "error": e} for i, h, e in store.failures(version)],
            "narratives": [{"narrative": name, "articles": n} for name, n in store.narrative_counts(version)],
            "evidence": _evidence(store, version),
        }
        data["entities"] = _entities(
            store, version, data["sources"]["articles"], embed or Embedder(EmbeddingCache()).embed
        )
        data["spans"], hashes = _top_spans(store, version, top_spans, articles_per_span)
        data["articles"] = _articles(store, version, hashes)
    return data


def _evidence(store: Store, version: str | None, per_narrative: int = EVIDENCE_PER_NARRATIVE) -> dict[str, list[dict]]:
    """The sentences that carry each narrative most across the corpus: ``{narrative: [{text,
    score, id}]}``, best first, one per article (empty for analyses made without evidence)."""
    out: dict[str, list[dict]] = {}
    for narrative, text, score, aid in store.top_evidence(version, per_narrative):
        out.setdefault(narrative, []).append({"text": text, "score": score, "id": aid})
    return out


def _summary(store: Store, version: str | None, database: str) -> dict:
    status = store.status_counts(version)
    first, last, dated = store.date_range(version)
    return {
        "database": database,
        "model_version": version,
        "articles": status.get("ok", 0) + status.get("failed", 0),
        "analysed": status.get("ok", 0),
        "failed": status.get("failed", 0),
        "languages": store.language_counts(version),
        "sources": store.source_count(version),
        "dated": dated,
        "first_date": first,
        "last_date": last,
        "model_versions": store.model_versions(),
    }


def _techniques(store: Store, version: str | None, analysed: int) -> list[dict]:
    return [
        {
            "technique": t,
            "title": label_title(t),
            "paragraphs": p,
            "articles": n,
            "share": round(n / analysed, 4) if analysed else 0.0,
        }
        for t, p, n in store.technique_counts(version)
    ]


def _sources(store: Store, version: str | None, top: int) -> dict:
    articles = store.top_sources(version, top)
    shares: dict[str, dict[str, float]] = {src: {} for src in articles}
    for src, technique, n in store.technique_articles_by_source(version):
        if src in shares:
            shares[src][technique] = round(n / articles[src], 4)
    return {"articles": articles, "technique_share": shares}


def _entities(store: Store, version: str | None, sources: dict[str, int], embed, top: int = TOP_ENTITIES) -> dict:
    """Per role (Antagonist, Innocent, Protagonist), the entities the most articles cast in it:
    over the whole corpus (``all``) and per source (``by_source``), and for the corpus's most
    frequent antagonists, the share of each source's articles (``sources``: articles per
    source) that cast them so (``antagonist_share``). The forms of one name ("России",
    "Россию") count together, under the most frequent one."""
    casts = store.entity_casts(version)
    mentioned = Counter(name for _, _, name, _ in casts)
    group = group_names(sorted(mentioned, key=lambda name: (-mentioned[name], name)), embed)
    # Articles, not rows: an article that stored two forms of one name counts once.
    total: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    per_source: dict[str, dict[str, dict[str, set]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(set)))
    for src, role, name, analysis in casts:
        total[role][group[name]].add(analysis)
        per_source[src][role][group[name]].add(analysis)

    def top_of(articles: dict[str, set], n: int = top) -> list[list]:
        ranked = sorted(((name, len(ids)) for name, ids in articles.items()), key=lambda row: (-row[1], row[0]))
        return [[name, count] for name, count in ranked[:n]]

    antagonists = [name for name, _ in top_of(total.get("Antagonist", {}), CHART_ENTITIES)]
    return {
        "all": {role: top_of(total[role]) for role in sorted(total)},
        "by_source": {
            src: {role: top_of(c) for role, c in sorted(per_source[src].items())}
            for src in sources
            if src in per_source
        },
        "antagonist_share": {
            src: {name: round(len(per_source[src]["Antagonist"].get(name, ())) / n, 4) for name in antagonists}
            for src, n in sources.items()
            if antagonists
        },
    }


def _over_time(store: Store, version: str | None, techniques: list[str]) -> dict:
    first, last, _ = store.date_range(version)
    if not first or not last:  # both or neither: the bounds of the same dates
        return {}
    try:
        days = (datetime.fromisoformat(last) - datetime.fromisoformat(first)).days
    except ValueError:
        days = 365
    period_chars, unit = (10, "day") if days < DAILY_UNDER_DAYS else (7, "month")
    articles = store.articles_per_period(version, period_chars)
    share: dict[str, dict[str, float]] = {t: {} for t in techniques}
    for when, technique, n in store.technique_articles_by_period(version, period_chars):
        if technique in share:
            share[technique][when] = round(n / articles[when], 4)
    return {"unit": unit, "periods": list(articles), "articles": articles, "technique_share": share}


def _top_spans(store: Store, version: str | None, top: int, per_span: int) -> tuple[dict, list[str]]:
    """Per technique, the ``top`` span texts found most often (the forms that differ only in
    case and spacing together), each with up to ``per_span`` articles; and those articles' hashes."""
    groups: dict[str, dict[str, Counter]] = defaultdict(dict)
    for technique, text, n in store.span_text_counts(version):
        groups[technique].setdefault(_normalise_span(text), Counter())[text] += n
    out: dict[str, list[dict]] = {}
    hashes: list[str] = []
    for technique in sorted(groups):
        ranked = sorted(groups[technique].items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))[:top]
        entries = []
        for _, forms in ranked:
            rows = store.articles_quoting(version, technique, list(forms), per_span)
            entries.append(
                {
                    "text": forms.most_common(1)[0][0],
                    "count": sum(forms.values()),
                    "articles": [{"hash": h, "id": i, "title": t} for h, i, t in rows],
                }
            )
            hashes.extend(h for h, _, _ in rows)
        out[technique] = entries
    return out, list(dict.fromkeys(hashes))


def _articles(store: Store, version: str | None, hashes: list[str]) -> dict[str, dict]:
    """The articles quoted in the report: metadata, genre, frames, text and spans (up to
    :data:`MAX_ARTICLE_CHARS`)."""
    out: dict[str, dict] = {}
    if version is None:  # a store without analyses quotes none
        return out
    for key in hashes:
        metadata = store.article_metadata(key)
        analysis = store.analysis(key, version)
        if metadata is None or analysis is None:
            continue
        out[key] = {
            **metadata,
            "genre": analysis.genre.label if analysis.genre else None,
            "frames": [f.label for f in analysis.frames],
            "text": analysis.text[:MAX_ARTICLE_CHARS],
            "spans": [
                {"technique": s.label, "start": s.start, "end": s.end}
                for s in analysis.spans
                if s.end <= MAX_ARTICLE_CHARS
            ],
        }
    return out
