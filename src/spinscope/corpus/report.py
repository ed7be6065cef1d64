"""What a corpus says, from a store: the numbers (:func:`corpus_data`), charts as inline SVG
(:func:`charts`, matplotlib) and one self-contained HTML page (:func:`report_html`).

The page has no external assets (no scripts, fonts or style sheets from elsewhere), so it can
be mailed or archived as one file. Every text that comes from an article or its metadata is
HTML-escaped. :func:`corpus_data` returns plain JSON-able data, for a web page (``/corpus``) too.
"""
from __future__ import annotations

import html
import io
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..document import Span, segments
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
MAX_ARTICLE_CHARS = 8_000
#: Longer span texts are shortened in the table (the article below shows them whole).
MAX_SPAN_CHARS = 200


def _title(name: str) -> str:
    try:
        return label(name).title
    except (KeyError, ValueError):
        return name.replace("_", " ")


def _normalise_span(text: str) -> str:
    return " ".join(text.split()).casefold()


# -- data ---------------------------------------------------------------------------------

def corpus_data(db_path: Path | str, model_version: str | None = None, top_spans: int = TOP_SPANS,
                top_sources: int = TOP_SOURCES, articles_per_span: int = ARTICLES_PER_SPAN,
                embed: Callable[[list[str]], np.ndarray] | None = None) -> dict:
    """Everything the corpus report shows, for one model version (default: the latest used).

    Keys: ``summary``, ``techniques`` (per technique: paragraphs and articles labelled),
    ``sources`` (articles per source and the share of them using each technique),
    ``over_time`` (per month, or per day when the dates span under three months; empty
    without dates), ``frames``, ``genres``, ``spans`` (per technique, the most frequent span
    texts with the articles they come from), ``articles`` (those articles, keyed by hash)
    and ``failures``. ``embed`` (default: the cached e5 embedder) tells inflected forms of one
    entity name apart from different names (see :func:`~spinscope.models.entities.group_names`).
    """
    with Store(db_path, create=False) as store:
        version = store.resolve_version(model_version)
        db = store.db
        ok = "a.model_version = ? AND a.status = 'ok'"
        v = (version,)
        status = dict(db.execute("SELECT status, count(*) FROM analyses a WHERE a.model_version = ? GROUP BY status", v).fetchall())
        n_ok = status.get("ok", 0)
        languages = db.execute(f"SELECT coalesce(r.language, '?'), count(*) AS n FROM analyses a JOIN articles r ON "
                               f"r.hash = a.article_hash WHERE {ok} GROUP BY 1 ORDER BY n DESC, 1", v).fetchall()
        dates = db.execute(f"SELECT min(r.date), max(r.date), count(r.date) FROM analyses a JOIN articles r ON "
                           f"r.hash = a.article_hash WHERE {ok}", v).fetchone()
        n_sources = db.execute(f"SELECT count(DISTINCT r.source) FROM analyses a JOIN articles r ON "
                               f"r.hash = a.article_hash WHERE {ok}", v).fetchone()[0]
        summary = {
            "database": str(db_path), "model_version": version, "articles": n_ok + status.get("failed", 0),
            "analysed": n_ok, "failed": status.get("failed", 0),
            "languages": {lang: n for lang, n in languages}, "sources": n_sources,
            "dated": dates[2], "first_date": dates[0], "last_date": dates[1],
            "model_versions": store.model_versions(),
        }
        techniques = [
            {"technique": t, "title": _title(t), "paragraphs": p, "articles": n,
             "share": round(n / n_ok, 4) if n_ok else 0.0}
            for t, p, n in db.execute(
                f"SELECT p.technique, count(*) AS paragraphs, count(DISTINCT p.analysis_id) FROM paragraph_labels p "
                f"JOIN analyses a ON a.analysis_id = p.analysis_id WHERE {ok} GROUP BY p.technique "
                "ORDER BY paragraphs DESC, p.technique", v)]
        data = {
            "summary": summary,
            "techniques": techniques,
            "sources": _sources(db, ok, version, top_sources),
            "over_time": _over_time(db, ok, version, [t["technique"] for t in techniques[:TOP_TECHNIQUES_OVER_TIME]]),
            "frames": [{"frame": f, "title": _title(f), "articles": n} for f, n in db.execute(
                f"SELECT f.frame, count(DISTINCT f.analysis_id) AS n FROM frames f JOIN analyses a ON "
                f"a.analysis_id = f.analysis_id WHERE {ok} GROUP BY f.frame ORDER BY n DESC, f.frame", v)],
            "genres": [{"genre": g, "articles": n} for g, n in db.execute(
                f"SELECT a.genre, count(*) AS n FROM analyses a WHERE {ok} GROUP BY a.genre ORDER BY n DESC, a.genre", v)],
            "failures": [{"id": i, "hash": h, "error": e} for i, h, e in db.execute(
                "SELECT r.id, r.hash, a.error FROM analyses a JOIN articles r ON r.hash = a.article_hash "
                "WHERE a.model_version = ? AND a.status = 'failed' ORDER BY r.id LIMIT 100", v)],
        }
        data["narratives"] = [{"narrative": name, "articles": n} for name, n in db.execute(
            f"SELECT n.narrative, count(DISTINCT n.analysis_id) AS k FROM narratives n JOIN analyses a ON "
            f"a.analysis_id = n.analysis_id WHERE {ok} GROUP BY n.narrative ORDER BY k DESC, n.narrative", v)]
        data["entities"] = _entities(db, ok, version, data["sources"]["articles"],
                                     embed or Embedder(EmbeddingCache()).embed)
        data["spans"], hashes = _top_spans(db, ok, version, top_spans, articles_per_span)
        data["articles"] = _articles(store, version, hashes)
    return data


def _sources(db, ok: str, version: str, top: int) -> dict:
    rows = db.execute(f"SELECT coalesce(r.source, '(no source)') AS src, count(*) AS n FROM analyses a JOIN articles r "
                      f"ON r.hash = a.article_hash WHERE {ok} GROUP BY src ORDER BY n DESC, src LIMIT ?",
                      (version, top)).fetchall()
    articles = {src: n for src, n in rows}
    shares: dict[str, dict[str, float]] = {src: {} for src in articles}
    for src, technique, n in _articles_with_technique(db, "coalesce(r.source, '(no source)')", ok, version):
        if src in shares:
            shares[src][technique] = round(n / articles[src], 4)
    return {"articles": articles, "technique_share": shares}


def _entities(db, ok: str, version: str, sources: dict[str, int], embed, top: int = TOP_ENTITIES) -> dict:
    """Per role (Antagonist, Innocent, Protagonist), the entities the most articles cast in it:
    over the whole corpus (``all``) and per source (``by_source``), and for the corpus's most
    frequent antagonists, the share of each source's articles (``sources``: articles per
    source) that cast them so (``antagonist_share``). The forms of one name ("России",
    "Россию") count together, under the most frequent one."""
    out: dict = {"all": {}, "by_source": {}, "antagonist_share": {}}
    rows = db.execute(
        f"SELECT DISTINCT coalesce(r.source, '(no source)') AS src, e.role, e.name, e.analysis_id "
        f"FROM entities e JOIN analyses a ON a.analysis_id = e.analysis_id JOIN articles r ON r.hash = a.article_hash "
        f"WHERE {ok}", (version,)).fetchall()
    mentioned = Counter(name for _, _, name, _ in rows)
    group = group_names(sorted(mentioned, key=lambda name: (-mentioned[name], name)), embed)
    # Articles, not rows: an article that stored two forms of one name counts once.
    total: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    per_source: dict[str, dict[str, dict[str, set]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(set)))
    for src, role, name, analysis in rows:
        total[role][group[name]].add(analysis)
        per_source[src][role][group[name]].add(analysis)

    def top_of(articles: dict[str, set], n: int = top) -> list[list]:
        return sorted(([name, len(ids)] for name, ids in articles.items()), key=lambda row: (-row[1], row[0]))[:n]

    out["all"] = {role: top_of(total[role]) for role in sorted(total)}
    out["by_source"] = {src: {role: top_of(c) for role, c in sorted(per_source[src].items())}
                        for src in sources if src in per_source}
    antagonists = [name for name, _ in top_of(total.get("Antagonist", {}), CHART_ENTITIES)]
    out["antagonist_share"] = {src: {name: round(len(per_source[src]["Antagonist"].get(name, ())) / n, 4)
                                     for name in antagonists} for src, n in sources.items() if antagonists}
    return out


def _articles_with_technique(db, group: str, where: str, version: str):
    """``(group value, technique, number of articles using it)`` rows, grouped by the SQL ``group``."""
    return db.execute(
        f"SELECT {group} AS grp, p.technique, count(DISTINCT p.analysis_id) FROM paragraph_labels p "
        f"JOIN analyses a ON a.analysis_id = p.analysis_id JOIN articles r ON r.hash = a.article_hash "
        f"WHERE {where} GROUP BY grp, p.technique", (version,))


def _over_time(db, ok: str, version: str, techniques: list[str]) -> dict:
    first, last = db.execute(f"SELECT min(r.date), max(r.date) FROM analyses a JOIN articles r ON "
                             f"r.hash = a.article_hash WHERE {ok} AND r.date IS NOT NULL", (version,)).fetchone()
    if not first:
        return {}
    try:
        days = (datetime.fromisoformat(last) - datetime.fromisoformat(first)).days
    except ValueError:
        days = 365
    width, unit = (10, "day") if days < 90 else (7, "month")
    period = f"substr(r.date, 1, {width})"
    articles = dict(db.execute(f"SELECT {period} AS period, count(*) FROM analyses a JOIN articles r ON "
                               f"r.hash = a.article_hash WHERE {ok} AND r.date IS NOT NULL GROUP BY period "
                               "ORDER BY period", (version,)).fetchall())
    share: dict[str, dict[str, float]] = {t: {} for t in techniques}
    for when, technique, n in _articles_with_technique(db, period, f"{ok} AND r.date IS NOT NULL", version):
        if technique in share:
            share[technique][when] = round(n / articles[when], 4)
    return {"unit": unit, "periods": list(articles), "articles": articles, "technique_share": share}


def _top_spans(db, ok: str, version: str, top: int, per_span: int) -> tuple[dict, list[str]]:
    groups: dict[str, dict[str, Counter]] = defaultdict(dict)
    for technique, text, n in db.execute(
            f"SELECT s.technique, s.text, count(*) FROM spans s JOIN analyses a ON a.analysis_id = s.analysis_id "
            f"WHERE {ok} GROUP BY s.technique, s.text", (version,)):
        groups[technique].setdefault(_normalise_span(text), Counter())[text] += n
    out: dict[str, list[dict]] = {}
    hashes: list[str] = []
    for technique in sorted(groups):
        ranked = sorted(groups[technique].items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))[:top]
        entries = []
        for _, forms in ranked:
            rows = db.execute(
                f"SELECT DISTINCT a.article_hash, r.id, r.title FROM spans s JOIN analyses a ON "
                f"a.analysis_id = s.analysis_id JOIN articles r ON r.hash = a.article_hash WHERE {ok} AND "
                f"s.technique = ? AND s.text IN ({','.join('?' * len(forms))}) ORDER BY r.id LIMIT ?",
                (version, technique, *forms, per_span)).fetchall()
            entries.append({"text": forms.most_common(1)[0][0], "count": sum(forms.values()),
                            "articles": [{"hash": h, "id": i, "title": t} for h, i, t in rows]})
            hashes.extend(h for h, _, _ in rows)
        out[technique] = entries
    return out, list(dict.fromkeys(hashes))


def _articles(store: Store, version: str, hashes: list[str]) -> dict[str, dict]:
    out = {}
    for key in hashes:
        row = store.db.execute("SELECT id, title, source, url, date, language FROM articles WHERE hash = ?",
                               (key,)).fetchone()
        analysis = store.analysis(key, version)
        if row is None or analysis is None:
            continue
        out[key] = {**dict(row), "genre": analysis.genre.label if analysis.genre else None,
                    "frames": [f.label for f in analysis.frames],
                    "text": analysis.text[:MAX_ARTICLE_CHARS],
                    "spans": [{"technique": s.label, "start": s.start, "end": s.end} for s in analysis.spans
                              if s.end <= MAX_ARTICLE_CHARS]}
    return out


# -- charts -------------------------------------------------------------------------------

def _plain(text: str, limit: int = 40) -> str:
    """A chart label: shortened, with ``$`` escaped so matplotlib does not read it as math."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def _svg(figure) -> str:
    import matplotlib  # a second to import: only when charts are drawn

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "spinscope"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]


def _figure(width: float, height: float):
    from matplotlib.figure import Figure  # a second to import: only when charts are drawn

    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.add_subplot()


def _bars(labels: list[str], values: list[float], title: str, xlabel: str, color: str) -> str:
    figure, ax = _figure(7.5, 0.8 + 0.28 * len(labels))
    positions = range(len(labels))
    ax.barh(list(positions), values, color=color)
    ax.set_yticks(list(positions), [_plain(x) for x in labels])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left", fontsize=11)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for y, value in zip(positions, values):
        ax.annotate(f"{value:g}", (value, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    return _svg(figure)


def charts(data: dict) -> dict[str, str]:
    """Inline SVG charts of :func:`corpus_data`'s ``data``; a chart without data is left out."""
    out = {}
    techniques = data["techniques"]
    if techniques:
        out["techniques"] = _bars([t["title"] for t in techniques], [t["paragraphs"] for t in techniques],
                                  "Persuasion techniques", "paragraphs labelled", "#c0392b")
    sources = data["sources"]
    if sources["articles"] and techniques:
        out["sources"] = _heatmap(sources["articles"], sources["technique_share"], [t["technique"] for t in techniques],
                                  [_title(t["technique"]) for t in techniques],
                                  "Techniques per source: % of the source's articles using each")
    if data["over_time"] and len(data["over_time"]["periods"]) > 1:
        over_time = data["over_time"]
        if over_time["technique_share"]:
            out["over_time"] = _timeline(over_time)
        else:
            out["over_time"] = _bars(over_time["periods"], list(over_time["articles"].values()),
                                     f"Articles per {over_time['unit']}", "articles", "#636363")
    if data["frames"]:
        out["frames"] = _bars([f["title"] for f in data["frames"]], [f["articles"] for f in data["frames"]],
                              "Frames", "articles", "#2c7fb8")
    if data.get("narratives"):
        out["narratives"] = _bars([n["narrative"] for n in data["narratives"]],
                                  [n["articles"] for n in data["narratives"]], "Narratives", "articles", "#8c564b")
    for role, colour in (("Antagonist", "#c0262d"), ("Innocent", "#1f5fbf")):
        top = data.get("entities", {}).get("all", {}).get(role)
        if top:
            out[f"entities_{role}"] = _bars([name for name, _ in top], [n for _, n in top],
                                            f"Most frequent {role.lower()}s", "articles", colour)
    share = data.get("entities", {}).get("antagonist_share")
    if share:
        antagonists = list(next(iter(share.values())))
        out["entities_by_source"] = _heatmap(data["sources"]["articles"], share, antagonists, antagonists,
                                             "Antagonists per source: % of the source's articles casting each")
    if data["genres"]:
        out["genres"] = _bars([g["genre"] or "?" for g in data["genres"]], [g["articles"] for g in data["genres"]],
                              "Genre mix", "articles", "#7b4173")
    return out


def _heatmap(articles: dict[str, int], share: dict[str, dict[str, float]], columns: list[str],
             labels: list[str], title: str) -> str:
    """Sources (rows, with their ``articles``) by ``columns`` (shown as ``labels``): the % of a
    source's articles in ``share``."""
    names = list(articles)
    grid = np.array([[share[s].get(c, 0.0) * 100 for c in columns] for s in names])
    figure, ax = _figure(max(6.0, 3.0 + 0.38 * len(columns)), max(3.0, 1.8 + 0.32 * len(names)))
    image = ax.imshow(grid, cmap="Reds", vmin=0, vmax=max(1.0, float(grid.max())), aspect="auto")
    ax.set_xticks(range(len(columns)), [_plain(label, 28) for label in labels], rotation=60, ha="right")
    ax.set_yticks(range(len(names)), [f"{_plain(s, 30)} ({articles[s]})" for s in names])
    if grid.size <= 400:
        for (y, x), value in np.ndenumerate(grid):
            if value:
                ax.text(x, y, f"{value:.0f}" if value >= 0.5 else "<1", ha="center", va="center", fontsize=7,
                        color="white" if value > 0.6 * grid.max() else "black")
    ax.set_title(title, loc="left", fontsize=11)
    figure.colorbar(image, ax=ax, label="% of articles", shrink=0.8)
    return _svg(figure)


def _timeline(over_time: dict) -> str:
    periods = over_time["periods"]
    figure, ax = _figure(8.5, 3.8)
    x = list(range(len(periods)))
    for technique, share in over_time["technique_share"].items():
        ax.plot(x, [share.get(p, 0.0) * 100 for p in periods], marker="o", markersize=3, label=_plain(_title(technique)))
    step = max(1, len(periods) // 12)
    ax.set_xticks(x[::step], [periods[i] for i in x[::step]], rotation=45, ha="right")
    ax.set_ylabel("% of the period's articles")
    ax.set_title(f"Most frequent techniques per {over_time['unit']}", loc="left", fontsize=11)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _svg(figure)


# -- the page -----------------------------------------------------------------------------

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;max-width:1100px;margin:2em auto;padding:0 1em}
h1{margin-bottom:.2em} h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.meta{color:#666;font-size:.9em} svg{max-width:100%;height:auto}
table{border-collapse:collapse;margin:.5em 0;font-size:.92em} td,th{padding:.25em .6em;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums} .row{display:flex;flex-wrap:wrap;gap:2em}
.article{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:1em 0} .article:target{border-color:#c0392b;box-shadow:0 0 0 2px #f5b7b1}
.text{white-space:pre-wrap;font-size:.92em;background:#fafafa;padding:.6em;border-radius:4px}
mark{background:#fde2dd;border-bottom:2px solid #c0392b} .note{color:#666;font-style:italic}
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _anchor(key: str) -> str:
    return f"article-{key[:16]}"


def report_html(data: dict, svgs: dict[str, str] | None = None) -> str:
    """One self-contained HTML page of :func:`corpus_data`'s ``data`` and its :func:`charts`."""
    svgs = charts(data) if svgs is None else svgs
    s = data["summary"]
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             f"<title>spinscope corpus report</title><style>{_CSS}</style></head><body>",
             "<h1>spinscope corpus report</h1>",
             f"<p class=\"meta\">{_e(s['database'])} · model version {_e(s['model_version'])} · generated "
             f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}</p>"]
    languages = ", ".join(f"{_e(lang)} {n}" for lang, n in s["languages"].items())
    period = f"{_e(s['first_date'])} to {_e(s['last_date'])} ({s['dated']} dated)" if s["dated"] else "no dates"
    parts.append("<table>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in (
        ("articles analysed", s["analysed"]), ("failed", s["failed"]), ("languages", languages or "none"),
        ("sources", s["sources"]), ("dates", period))) + "</table>")
    if not s["analysed"]:
        parts.append("<p class=\"note\">No analysed articles for this model version yet.</p>")

    parts.append("<h2 id=\"techniques\">Persuasion techniques</h2>")
    parts.append(svgs.get("techniques", ""))
    if data["techniques"]:
        parts.append("<table><tr><th>technique</th><th>paragraphs</th><th>articles</th><th>% of articles</th></tr>"
                     + "".join(f"<tr><td>{_e(t['title'])}</td><td class=n>{t['paragraphs']}</td>"
                               f"<td class=n>{t['articles']}</td><td class=n>{100 * t['share']:.1f}</td></tr>"
                               for t in data["techniques"]) + "</table>")
    else:
        parts.append("<p class=\"note\">No technique found.</p>")

    parts.append("<h2 id=\"sources\">Techniques per source</h2>")
    parts.append(svgs.get("sources", ""))
    sources = data["sources"]
    if sources["articles"]:
        parts.append("<table><tr><th>source</th><th>articles</th><th>most used techniques (% of its articles)</th></tr>"
                     + "".join(f"<tr><td>{_e(src)}</td><td class=n>{n}</td><td>{_top_shares(sources['technique_share'][src])}"
                               "</td></tr>" for src, n in sources["articles"].items()) + "</table>")
    else:
        parts.append("<p class=\"note\">No sources.</p>")
    parts.append("<h2 id=\"time\">Over time</h2>")
    parts.append(svgs.get("over_time", "<p class=\"note\">Not enough dated articles for a timeline "
                                       "(give a date field in the input).</p>"))
    parts.append("<h2 id=\"frames\">Frames and genre mix</h2><div class=\"row\">")
    parts.append(f"<div>{svgs.get('frames', '<p class=note>No frames.</p>')}</div>"
                 f"<div>{svgs.get('genres', '')}</div></div>")

    parts.append("<h2 id=\"narratives\">Narratives</h2>")
    parts.append(svgs.get("narratives", "<p class=\"note\">No narratives stored: the analyses were made "
                                        "without a narratives model.</p>"))
    parts.append(_entities_html(data.get("entities", {}), svgs))

    parts.append("<h2 id=\"spans\">Most frequent span texts per technique</h2>")
    if data["spans"]:
        for technique, entries in data["spans"].items():
            parts.append(f"<h3>{_e(_title(technique))}</h3><table><tr><th>text</th><th>times</th><th>articles</th></tr>")
            for entry in entries:
                links = ", ".join(f"<a href=\"#{_anchor(a['hash'])}\">{_e(a['id'])}</a>" for a in entry["articles"])
                shown = _shorten(entry["text"], MAX_SPAN_CHARS)
                parts.append(f"<tr><td>“{_e(shown)}”</td><td class=n>{entry['count']}</td><td>{links}</td></tr>")
            parts.append("</table>")
    else:
        parts.append("<p class=\"note\">No spans stored: the analyses were made without a span model.</p>")

    if data["articles"]:
        parts.append("<h2 id=\"articles\">Articles quoted above</h2>")
        for key, article in data["articles"].items():
            parts.append(_article_html(key, article))
    if data["failures"]:
        parts.append("<h2 id=\"failures\">Failed articles</h2><table><tr><th>id</th><th>reason</th></tr>"
                     + "".join(f"<tr><td>{_e(f['id'])}</td><td>{_e(f['error'])}</td></tr>" for f in data["failures"])
                     + "</table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _entities_html(entities: dict, svgs: dict[str, str]) -> str:
    """Antagonists and victims: charts over the corpus, then a table per source."""
    parts = ["<h2 id=\"entities\">Who is cast as villain and as victim</h2>", "<div class=\"row\">"]
    parts += [f"<div>{svgs[k]}</div>" for k in ("entities_Antagonist", "entities_Innocent") if k in svgs]
    parts.append("</div>")
    by_source = entities.get("by_source") or {}
    if not by_source:
        return "\n".join(parts + ["<p class=\"note\">No entities stored.</p>"])
    if "entities_by_source" in svgs:
        parts.append(svgs["entities_by_source"])

    def names(top: list) -> str:
        return ", ".join(f"{_e(name)} ({n})" for name, n in top) or "none"

    parts.append("<table><tr><th>source</th><th>antagonists (articles)</th><th>innocents / victims (articles)</th>"
                 "<th>protagonists (articles)</th></tr>" + "".join(
                     f"<tr><td>{_e(src)}</td><td>{names(roles.get('Antagonist', []))}</td>"
                     f"<td>{names(roles.get('Innocent', []))}</td><td>{names(roles.get('Protagonist', []))}</td></tr>"
                     for src, roles in by_source.items()) + "</table>")
    return "\n".join(parts)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _top_shares(shares: dict[str, float], n: int = 3) -> str:
    top = sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return ", ".join(f"{_e(_title(t))} {100 * share:.0f}%" for t, share in top) or "none"


def _article_html(key: str, article: dict) -> str:
    url = article.get("url") or ""
    link = (f" · <a href=\"{_e(url)}\" rel=\"noopener noreferrer\">original</a>"
            if re.match(r"^https?://", url, re.IGNORECASE) else "")
    meta = " · ".join(_e(x) for x in (article["id"], article.get("source"), article.get("date"),
                                      article.get("language"), article["genre"], ", ".join(article["frames"])) if x)
    return (f"<div class=\"article\" id=\"{_anchor(key)}\"><h3>{_e(article.get('title') or article['id'])}</h3>"
            f"<p class=\"meta\">{meta}{link}</p><details><summary>text with spans</summary>"
            f"<div class=\"text\">{_highlight(article['text'], article['spans'])}</div></details></div>")


def _highlight(text: str, spans: list[dict]) -> str:
    """``text`` escaped, every piece covered by spans in a ``<mark>`` naming their techniques."""
    views = [Span(s["start"], s["end"], s["technique"]) for s in spans]
    return "".join(f"<mark title=\"{_e(', '.join(_title(s.label) for s in covering))}\">{_e(text[a:b])}</mark>"
                   if covering else _e(text[a:b]) for a, b, covering in segments(0, len(text), views))


def write_report(db_path: Path | str, output: Path | str, model_version: str | None = None) -> dict:
    """Write the HTML report of ``db_path`` to ``output``; return its data."""
    data = corpus_data(db_path, model_version)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report_html(data), encoding="utf-8")
    return data
