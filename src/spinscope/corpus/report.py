"""The corpus report as one self-contained HTML page (:func:`report_html`) of
:func:`~.report_data.corpus_data`'s data and its :func:`~.charts.charts`.

The page has no external assets (no scripts, fonts or style sheets from elsewhere), so it can
be mailed or archived as one file. Every text that comes from an article or its metadata is
HTML-escaped.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path

from ..document import Span, segments
from .charts import charts
from .report_data import corpus_data, label_title

#: Longer span texts are shortened in the table (the article below shows them whole).
MAX_SPAN_CHARS = 200

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


def _escape(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _anchor(key: str) -> str:
    return f"article-{key[:16]}"


def report_html(data: dict, svgs: dict[str, str] | None = None) -> str:
    """One self-contained HTML page of :func:`~.report_data.corpus_data`'s ``data`` and its
    :func:`~.charts.charts` (drawn here unless given)."""
    svgs = charts(data) if svgs is None else svgs
    parts = [
        *_summary_html(data["summary"]),
        *_techniques_html(data["techniques"], svgs),
        *_sources_html(data["sources"], svgs),
        *_time_frames_genres_html(svgs),
        *_narratives_html(svgs, data.get("evidence") or {}),
        _entities_html(data.get("entities", {}), svgs),
        *_spans_html(data["spans"]),
        *_articles_html(data["articles"]),
        *_failures_html(data["failures"]),
        "</body></html>\n",
    ]
    return "\n".join(parts)


def _summary_html(summary: dict) -> list[str]:
    """The page's head, title and the table of what the corpus holds."""
    parts = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>spinscope corpus report</title><style>{_CSS}</style></head><body>",
        "<h1>spinscope corpus report</h1>",
        f'<p class="meta">{_escape(summary["database"])} · model version {_escape(summary["model_version"])} · '
        f"generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}</p>",
    ]
    languages = ", ".join(f"{_escape(lang)} {n}" for lang, n in summary["languages"].items())
    period = (
        f"{_escape(summary['first_date'])} to {_escape(summary['last_date'])} ({summary['dated']} dated)"
        if summary["dated"]
        else "no dates"
    )
    parts.append(
        "<table>"
        + "".join(
            f"<tr><th>{k}</th><td>{v}</td></tr>"
            for k, v in (
                ("articles analysed", summary["analysed"]),
                ("failed", summary["failed"]),
                ("languages", languages or "none"),
                ("sources", summary["sources"]),
                ("dates", period),
            )
        )
        + "</table>"
    )
    if not summary["analysed"]:
        parts.append('<p class="note">No analysed articles for this model version yet.</p>')
    return parts


def _techniques_html(techniques: list[dict], svgs: dict[str, str]) -> list[str]:
    parts = ['<h2 id="techniques">Persuasion techniques</h2>', svgs.get("techniques", "")]
    if not techniques:
        return parts + ['<p class="note">No technique found.</p>']
    return parts + [
        "<table><tr><th>technique</th><th>paragraphs</th><th>articles</th><th>% of articles</th></tr>"
        + "".join(
            f"<tr><td>{_escape(t['title'])}</td><td class=n>{t['paragraphs']}</td>"
            f"<td class=n>{t['articles']}</td><td class=n>{100 * t['share']:.1f}</td></tr>"
            for t in techniques
        )
        + "</table>"
    ]


def _sources_html(sources: dict, svgs: dict[str, str]) -> list[str]:
    parts = ['<h2 id="sources">Techniques per source</h2>', svgs.get("sources", "")]
    if not sources["articles"]:
        return parts + ['<p class="note">No sources.</p>']
    return parts + [
        "<table><tr><th>source</th><th>articles</th><th>most used techniques (% of its articles)</th>"
        "</tr>"
        + "".join(
            f"<tr><td>{_escape(src)}</td><td class=n>{n}</td>"
            f"<td>{_top_shares(sources['technique_share'][src])}</td></tr>"
            for src, n in sources["articles"].items()
        )
        + "</table>"
    ]


def _time_frames_genres_html(svgs: dict[str, str]) -> list[str]:
    return [
        '<h2 id="time">Over time</h2>',
        svgs.get(
            "over_time",
            '<p class="note">Not enough dated articles for a timeline (give a date field in the input).</p>',
        ),
        '<h2 id="frames">Frames and genre mix</h2><div class="row">',
        f"<div>{svgs.get('frames', '<p class=note>No frames.</p>')}</div><div>{svgs.get('genres', '')}</div></div>",
    ]


def _narratives_html(svgs: dict[str, str], evidence: dict[str, list[dict]]) -> list[str]:
    """The narratives chart, then the sentences that carry each narrative most in the corpus."""
    parts = [
        '<h2 id="narratives">Narratives</h2>',
        svgs.get(
            "narratives", '<p class="note">No narratives stored: the analyses were made without a narratives model.</p>'
        ),
    ]
    if evidence:
        parts.append('<h3>Typical evidence</h3><p class="note">The sentences that carry each narrative most.</p><dl>')
        for label, items in evidence.items():
            quotes = "".join(
                f'<dd>“{_escape(_shorten(x["text"], 300))}” <span class="note">({_escape(x["id"])}, '
                f"{100 * x['score']:.0f}%)</span></dd>"
                for x in items
            )
            parts.append(f"<dt>{_escape(label)}</dt>{quotes}")
        parts.append("</dl>")
    return parts


def _entities_html(entities: dict, svgs: dict[str, str]) -> str:
    """Antagonists and victims: charts over the corpus, then a table per source."""
    parts = ['<h2 id="entities">Who is cast as villain and as victim</h2>', '<div class="row">']
    parts += [f"<div>{svgs[k]}</div>" for k in ("entities_Antagonist", "entities_Innocent") if k in svgs]
    parts.append("</div>")
    by_source = entities.get("by_source") or {}
    if not by_source:
        return "\n".join(parts + ['<p class="note">No entities stored.</p>'])
    if "entities_by_source" in svgs:
        parts.append(svgs["entities_by_source"])

    def names(top: list) -> str:
        return ", ".join(f"{_escape(name)} ({n})" for name, n in top) or "none"

    parts.append(
        "<table><tr><th>source</th><th>antagonists (articles)</th><th>innocents / victims (articles)</th>"
        "<th>protagonists (articles)</th></tr>"
        + "".join(
            f"<tr><td>{_escape(src)}</td><td>{names(roles.get('Antagonist', []))}</td>"
            f"<td>{names(roles.get('Innocent', []))}</td><td>{names(roles.get('Protagonist', []))}</td></tr>"
            for src, roles in by_source.items()
        )
        + "</table>"
    )
    return "\n".join(parts)


def _spans_html(spans: dict[str, list[dict]]) -> list[str]:
    """Per technique, a table of its most frequent span texts with links to the articles below."""
    parts = ['<h2 id="spans">Most frequent span texts per technique</h2>']
    if not spans:
        return parts + ['<p class="note">No spans stored: the analyses were made without a span model.</p>']
    for technique, entries in spans.items():
        parts.append(
            f"<h3>{_escape(label_title(technique))}</h3><table><tr><th>text</th><th>times</th><th>articles</th></tr>"
        )
        for entry in entries:
            links = ", ".join(f'<a href="#{_anchor(a["hash"])}">{_escape(a["id"])}</a>' for a in entry["articles"])
            shown = _shorten(entry["text"], MAX_SPAN_CHARS)
            parts.append(f"<tr><td>“{_escape(shown)}”</td><td class=n>{entry['count']}</td><td>{links}</td></tr>")
        parts.append("</table>")
    return parts


def _articles_html(articles: dict[str, dict]) -> list[str]:
    if not articles:
        return []
    return ['<h2 id="articles">Articles quoted above</h2>'] + [_article_html(k, a) for k, a in articles.items()]


def _failures_html(failures: list[dict]) -> list[str]:
    if not failures:
        return []
    return [
        '<h2 id="failures">Failed articles</h2><table><tr><th>id</th><th>reason</th></tr>'
        + "".join(f"<tr><td>{_escape(f['id'])}</td><td>{_escape(f['error'])}</td></tr>" for f in failures)
        + "</table>"
    ]


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _top_shares(shares: dict[str, float], n: int = 3) -> str:
    top = sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return ", ".join(f"{_escape(label_title(t))} {100 * share:.0f}%" for t, share in top) or "none"


def _article_html(key: str, article: dict) -> str:
    url = article.get("url") or ""
    link = (
        f' · <a href="{_escape(url)}" rel="noopener noreferrer">original</a>'
        if re.match(r"^https?://", url, re.IGNORECASE)
        else ""
    )
    meta = " · ".join(
        _escape(x)
        for x in (
            article["id"],
            article.get("source"),
            article.get("date"),
            article.get("language"),
            article["genre"],
            ", ".join(article["frames"]),
        )
        if x
    )
    return (
        f'<div class="article" id="{_anchor(key)}">'
        f"<h3>{_escape(article.get('title') or article['id'])}</h3>"
        f'<p class="meta">{meta}{link}</p><details><summary>text with spans</summary>'
        f'<div class="text">{_highlight(article["text"], article["spans"])}</div></details></div>'
    )


def _highlight(text: str, spans: list[dict]) -> str:
    """``text`` escaped, every piece covered by spans in a ``<mark>`` naming their techniques."""
    views = [Span(s["start"], s["end"], s["technique"]) for s in spans]
    return "".join(
        f'<mark title="{_escape(", ".join(label_title(s.label) for s in covering))}">{_escape(text[a:b])}</mark>'
        if covering
        else _escape(text[a:b])
        for a, b, covering in segments(0, len(text), views)
    )


def write_report(db_path: Path | str, output: Path | str, model_version: str | None = None) -> dict:
    """Write the HTML report of ``db_path`` to ``output``; return its data."""
    data = corpus_data(db_path, model_version)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report_html(data), encoding="utf-8")
    return data
