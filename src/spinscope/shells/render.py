"""Human views of spinscope's results: an :class:`Analysis` as a terminal report (rich), plain
text, JSON or a self-contained HTML page, and the score tables of ``spinscope evaluate`` and
``spinscope heldout``.

All only present what they are given; nothing here computes a label or a score.
"""

from __future__ import annotations

import html
import io
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .. import taxonomy
from ..analysis import Analysis
from ..document import segments
from ..tasks import TASKS

if TYPE_CHECKING:
    from ..official import Evaluation

#: One colour per technique group, shared by the terminal and the HTML views.
GROUP_COLOURS = {
    "Attack on reputation": "#e4572e",
    "Justification": "#f3a712",
    "Simplification": "#a06cd5",
    "Distraction": "#29a19c",
    "Call": "#3c91e6",
    "Manipulative wording": "#f2d94e",
}


#: One colour per main role of an entity (underlines and role badges).
ROLE_COLOURS = {"Protagonist": "#1b8a3a", "Antagonist": "#c0262d", "Innocent": "#1f5fbf"}


def technique_colour(name: str) -> str:
    return GROUP_COLOURS[taxonomy.label(name).group]


class EntityMark(NamedTuple):
    start: int
    end: int
    name: str
    role: str
    fine_roles: str


def entity_marks(analysis: Analysis) -> list[EntityMark]:
    """Every mention of every entity of ``analysis``, with its entity's role."""
    return sorted(
        EntityMark(m.start, m.end, e.name, e.role, ", ".join(f.label for f in e.fine_roles))
        for e in analysis.entities
        for m in e.mentions
    )


def _pieces(analysis: Analysis, start: int, end: int, marks: list[EntityMark]):
    """``(a, b, spans, entity)`` pieces of ``[start, end)``: the technique spans covering each
    piece and the entity mention covering it (or ``None``)."""
    for a, b, covering in segments(start, end, [*analysis.spans, *marks]):
        entity = next((c for c in covering if isinstance(c, EntityMark)), None)
        yield a, b, [c for c in covering if not isinstance(c, EntityMark)], entity


def _pct(score: float) -> str:
    return f"{100 * score:.0f}%"


# --- terminal -----------------------------------------------------------------------------


def report(analysis: Analysis, console: Console) -> None:
    """Print a readable report: genre, frames, then each paragraph with its highlighted spans."""
    genre = analysis.genre
    header = Table.grid(padding=(0, 2))
    header.add_row("[bold]Language[/]", analysis.language or "unknown")
    if genre:
        header.add_row(
            "[bold]Genre[/]",
            f"{genre.label}  "
            + "  ".join(f"[dim]{k} {_pct(v)}[/]" for k, v in sorted(genre.scores.items(), key=lambda kv: -kv[1])),
        )
    header.add_row(
        "[bold]Frames[/]",
        ", ".join(f"{taxonomy.label(f.label).title} {_pct(f.score)}" for f in analysis.frames)
        or "[dim]none above threshold[/]",
    )
    console.print(Panel(header, title="spinscope", expand=False))
    _framing_report(analysis, console)
    text = analysis.text
    marks = entity_marks(analysis)
    for paragraph in analysis.paragraphs:
        line = Text(f"{paragraph.line:>3} ", style="dim")
        for a, b, covering, entity in _pieces(analysis, paragraph.start, paragraph.end, marks):
            style = f"bold black on {technique_colour(covering[0].label)}" if covering else "bold"
            if entity:
                style += f" underline {ROLE_COLOURS[entity.role]}"
            line.append(text[a:b], style=style if covering or entity else "")
        console.print(line)
        if paragraph.techniques:
            labels = Text("    -> ", style="dim")
            for i, t in enumerate(paragraph.techniques):
                labels.append(
                    ("  " if i else "") + f"{taxonomy.label(t.label).title} {_pct(t.score)}",
                    style=technique_colour(t.label),
                )
            console.print(labels)
    legend = Text("Legend: ")
    for group, colour in GROUP_COLOURS.items():
        legend.append(f" {group} ", style=f"black on {colour}")
        legend.append(" ")
    roles = Text("Entities: ")
    for role, colour in ROLE_COLOURS.items():
        roles.append(role, style=f"bold underline {colour}")
        roles.append("  ")
    console.print(Group(Text(""), legend, roles))


#: How many evidence sentences the terminal shows under a narrative, and how many characters of each.
SHOWN_EVIDENCE, EVIDENCE_CHARS = 2, 110


def quoted(text: str, limit: int = EVIDENCE_CHARS) -> str:
    """``text`` on one line, in quotes, cut at ``limit`` characters with an ellipsis."""
    text = " ".join(text.split())
    return f"“{text if len(text) <= limit else text[: limit - 1].rstrip() + '…'}”"


def _framing_report(analysis: Analysis, console: Console) -> None:
    """Narratives as a ranked list with their evidence, the explanation of the dominant one,
    and entities as a table (nothing when the models are absent)."""
    if analysis.narratives:
        console.print("[bold]Narratives[/]")
        for n in analysis.narratives:
            console.print(f"  {_pct(n.score):>4}  {n.label}", highlight=False)
            for sub in n.subnarratives:
                console.print(
                    f"  [dim]{_pct(sub.score):>4}    - {sub.label.removeprefix(n.label + ': ')}[/]", highlight=False
                )
            for sentence in n.evidence[:SHOWN_EVIDENCE]:
                console.print(
                    Text(f"          {quoted(sentence.text)}", style="italic"),
                    highlight=False,
                    no_wrap=True,
                    overflow="ellipsis",
                )
    if analysis.explanation:
        console.print(Text.assemble(("Why: ", "bold"), analysis.explanation.text), highlight=False)
    if analysis.entities:
        table = Table(
            "Entity",
            "Role",
            "Fine roles",
            "Mentions",
            title="Entities",
            title_justify="left",
            title_style="bold",
            box=None,
            padding=(0, 2),
        )
        for e in analysis.entities:
            table.add_row(
                e.name,
                Text(f"{e.role} {_pct(e.score)}", style=ROLE_COLOURS[e.role]),
                ", ".join(f"{f.label} {_pct(f.score)}" for f in e.fine_roles),
                str(len(e.mentions)),
            )
        console.print(table)


def to_text(analysis: Analysis, width: int = 100) -> str:
    """The terminal report as plain text (for a file)."""
    console = Console(record=True, width=width, file=io.StringIO())
    report(analysis, console)
    return console.export_text()


def to_json(analysis: Analysis) -> str:
    """The Analysis JSON, indented, with a final newline."""
    return json.dumps(analysis.to_dict(), ensure_ascii=False, indent=2) + "\n"


# --- HTML ---------------------------------------------------------------------------------

_CSS = """
body{font:16px/1.55 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f;background:#fff}
h1{font-size:1.5rem;margin:.2rem 0 1rem}.meta{color:#444}.bar{display:flex;align-items:center;gap:.5rem;margin:.15rem 0}
.bar span.name{width:16rem}.bar span.fill{height:.8rem;background:#3c5a99;border-radius:2px}
p.para{margin:.6rem 0}.line{color:#666;font-size:.8rem;margin-right:.4rem}
mark{border-radius:3px;padding:0 1px;color:#000}mark:focus{outline:2px solid #000}
.tags{font-size:.8rem;color:#333;margin:-.3rem 0 .8rem 1.6rem}.tag{display:inline-block;border-radius:3px;padding:0 .3rem;margin-right:.3rem;color:#000}
.legend span{display:inline-block;padding:.1rem .4rem;margin:.1rem;border-radius:3px;color:#000}
.entity{border-bottom:3px solid;font-weight:600}.role{font-weight:600}
blockquote.evidence{margin:.1rem 0 .1rem 1rem;color:#333;font-style:italic;border-left:3px solid #3c5a99;padding-left:.5rem}
p.why{background:#f4f6fb;padding:.4rem .6rem;border-radius:4px}
ol.narratives li{margin:.2rem 0}ol.narratives ul{color:#444;margin:.1rem 0}
table.entities{border-collapse:collapse}table.entities td,table.entities th{padding:.15rem .8rem .15rem 0;text-align:left}
"""


def _bars(scores: dict[str, float]) -> str:
    rows = []
    for name, score in sorted(scores.items(), key=lambda kv: -kv[1]):
        rows.append(
            f'<div class="bar"><span class="name">{html.escape(name.replace("_", " "))}</span>'
            f'<span class="fill" style="width:{12 * score:.2f}rem"></span><span>{_pct(score)}</span></div>'
        )
    return "\n".join(rows)


def highlighted_html(analysis: Analysis) -> str:
    """The article's paragraphs as HTML, spans as ``<mark>`` with technique, definition and score,
    entity mentions underlined in the colour of their role."""
    out = []
    marks = entity_marks(analysis)
    for paragraph in analysis.paragraphs:
        pieces = []
        for a, b, covering, e in _pieces(analysis, paragraph.start, paragraph.end, marks):
            piece = html.escape(analysis.text[a:b])
            if e:
                tip = f"{e.name}: {e.role}" + (f" ({e.fine_roles})" if e.fine_roles else "")
                piece = (
                    f'<span class="entity" data-role="{e.role}" style="border-color:{ROLE_COLOURS[e.role]}" '
                    f'title="{html.escape(tip)}">{piece}</span>'
                )
            if covering:
                tip = "; ".join(
                    f"{taxonomy.label(s.label).title} ({_pct(s.score)}): {taxonomy.label(s.label).definition}"
                    for s in covering
                )
                names = " ".join(s.label for s in covering)
                piece = (
                    f'<mark tabindex="0" style="background:{technique_colour(covering[0].label)}" '
                    f'data-techniques="{html.escape(names)}" title="{html.escape(tip)}">{piece}</mark>'
                )
            pieces.append(piece)
        tags = "".join(
            f'<span class="tag" style="background:{technique_colour(t.label)}" '
            f'title="{html.escape(taxonomy.label(t.label).definition)}">'
            f"{html.escape(taxonomy.label(t.label).title)} {_pct(t.score)}</span>"
            for t in paragraph.techniques
        )
        out.append(
            f'<p class="para" id="line-{paragraph.line}"><span class="line">{paragraph.line}</span>{"".join(pieces)}</p>'
        )
        if tags:
            out.append(f'<div class="tags">{tags}</div>')
    return "\n".join(out)


def framing_html(analysis: Analysis) -> str:
    """Narratives as a ranked list and entities as a table ("" when the models are absent)."""
    parts = []
    if analysis.narratives:
        items = []
        for n in analysis.narratives:
            subs = "".join(
                f"<li>{html.escape(x.label.removeprefix(n.label + ': '))} {_pct(x.score)}</li>" for x in n.subnarratives
            )
            evidence = "".join(
                f'<blockquote class="evidence"><a href="#line-{_line_of(analysis, e.start)}">'
                f"{html.escape(quoted(e.text, 240))}</a> {_pct(e.score)}</blockquote>"
                for e in n.evidence
            )
            items.append(
                f'<li title="{html.escape(taxonomy.label(n.label).definition)}"><b>{html.escape(n.label)}</b> '
                f"{_pct(n.score)}<ul>{subs}</ul>{evidence}</li>"
            )
        why = f'<p class="why"><b>Why:</b> {html.escape(analysis.explanation.text)}</p>' if analysis.explanation else ""
        parts.append(
            f'<section aria-label="Narratives"><h2>Narratives</h2><ol class="narratives">{"".join(items)}</ol>'
            f"{why}</section>"
        )
    if analysis.entities:
        rows = "".join(
            f'<tr><td>{html.escape(e.name)}</td><td class="role" style="color:{ROLE_COLOURS[e.role]}">'
            f"{e.role} {_pct(e.score)}</td><td>{html.escape(', '.join(f.label for f in e.fine_roles))}</td>"
            f"<td>{len(e.mentions)}</td></tr>"
            for e in analysis.entities
        )
        parts.append(
            '<section aria-label="Entities"><h2>Entities</h2><table class="entities"><tr><th>Entity</th>'
            f"<th>Role</th><th>Fine roles</th><th>Mentions</th></tr>{rows}</table></section>"
        )
    return "\n".join(parts)


def _line_of(analysis: Analysis, offset: int) -> int:
    paragraph = analysis.article.paragraph_of(offset)
    return paragraph.line if paragraph else 1


def legend_html() -> str:
    return (
        '<div class="legend">'
        + "".join(
            f'<span style="background:{colour}">{html.escape(group)}</span>' for group, colour in GROUP_COLOURS.items()
        )
        + "".join(
            f'<span class="entity" style="border-color:{colour}">{role}</span>' for role, colour in ROLE_COLOURS.items()
        )
        + "</div>"
    )


def to_html(analysis: Analysis) -> str:
    """One self-contained HTML page (no external assets) showing the analysis."""
    title = analysis.title.text if analysis.title else "Article"
    genre = analysis.genre
    # "<" escaped as \u003c keeps "</script>" in an article from closing the data block.
    data = json.dumps(analysis.to_dict(), ensure_ascii=False).replace("<", "\\u003c")
    return f"""<!doctype html>
<html lang="{html.escape(analysis.language or "und")}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>spinscope: {html.escape(title)}</title><style>{_CSS}</style></head>
<body><main>
<h1>{html.escape(title)}</h1>
<p class="meta">Language: <b>{html.escape(analysis.language or "unknown")}</b> &middot; Genre: <b>{html.escape(genre.label if genre else "not analysed")}</b></p>
<section aria-label="Genre scores"><h2>Genre</h2>{_bars(genre.scores if genre else {})}</section>
<section aria-label="Frame scores"><h2>Frames</h2>{_bars(analysis.frame_scores)}</section>
{framing_html(analysis)}
<section aria-label="Article"><h2>Persuasion techniques</h2>{legend_html()}
{highlighted_html(analysis)}</section>
<script type="application/json" id="analysis">{data}</script>
</main></body></html>
"""


# --- score tables -------------------------------------------------------------------------


def evaluation_table(evaluation: Evaluation, title: str) -> Table:
    """The official scores of an evaluation, one row per metric, next to the held-out estimates
    the models recorded when they were trained."""
    rows = evaluation.rows()
    # Columns no row fills (precision of a role accuracy, estimates no model recorded) are left out.
    columns = [c for c in rows[0][3] if any(values[c] is not None for *_, values in rows)] if rows else []
    table = Table(
        title=title,
        caption="CV: 5-fold cross-validation on train, this language; LOLO: trained "
        "without this language; before: the model these replaced",
    )
    for column in ("task", "metric", "score", *columns):
        table.add_column(column)
    for task_name, metric, score, values in rows:
        table.add_row(task_name, metric, f"{score:.3f}", *(_score(values[c]) for c in columns))
    return table


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


#: The metric of each task that ``spinscope heldout`` scores with one number: its official metric,
#: except spans, whose number ranks tokens (the part of the span tagger an encoder changes).
#: Tasks scored with several metrics name each in their scores.
HELDOUT_METRICS = {name: task.metrics[0].name for name, task in TASKS.items() if len(task.metrics) == 1} | {
    "spans": "token average precision"
}


def heldout_table(results: Mapping[str, dict[str, dict]]) -> Table:
    """Held-out scores of several encoders (``{encoder: {task: {language: score or scores}}}``),
    one column per encoder, one row per task, metric and language."""
    names = list(results)
    table = Table("task", "metric", "language", *names)
    for task, by_lang in results[names[0]].items():
        for lang, value in by_lang.items():
            for metric in value if isinstance(value, dict) else {"": value}:
                cells = [_heldout_score(results[name][task][lang], metric) for name in names]
                table.add_row(task, metric or HELDOUT_METRICS.get(task, ""), lang, *cells)
    return table


def _heldout_score(value: float | dict[str, float], metric: str) -> str:
    score = value[metric] if isinstance(value, dict) else value  # a dict exactly when its metrics are named
    return f"{score:.3f}"
