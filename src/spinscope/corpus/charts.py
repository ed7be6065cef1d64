"""The corpus report's charts: inline SVG drawn with matplotlib from :func:`~.report_data.corpus_data`'s
data. The SVG is deterministic (fixed hash salt, no date), so the same data draws the same page."""

from __future__ import annotations

import io

import numpy as np

from .report_data import label_title


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
    return svg[svg.index("<svg") :]


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
    """Inline SVG charts of :func:`~.report_data.corpus_data`'s ``data``; a chart without data is left out."""
    out = _technique_charts(data)
    out |= _time_chart(data)
    out |= _count_bars(data, "frames", "title", "Frames", "#2c7fb8")
    out |= _count_bars(data, "narratives", "narrative", "Narratives", "#8c564b")
    out |= _entity_charts(data)
    out |= _count_bars(data, "genres", "genre", "Genre mix", "#7b4173")
    return out


def _count_bars(data: dict, key: str, label: str, title: str, colour: str) -> dict[str, str]:
    """Bars of the articles of each item of ``data[key]`` (``?`` for an item without a label)."""
    items = data.get(key)
    if not items:
        return {}
    return {key: _bars([x[label] or "?" for x in items], [x["articles"] for x in items], title, "articles", colour)}


def _technique_charts(data: dict) -> dict[str, str]:
    techniques, sources = data["techniques"], data["sources"]
    if not techniques:
        return {}
    out = {
        "techniques": _bars(
            [t["title"] for t in techniques],
            [t["paragraphs"] for t in techniques],
            "Persuasion techniques",
            "paragraphs labelled",
            "#c0392b",
        )
    }
    if sources["articles"]:
        out["sources"] = _heatmap(
            sources["articles"],
            sources["technique_share"],
            [t["technique"] for t in techniques],
            [label_title(t["technique"]) for t in techniques],
            "Techniques per source: % of the source's articles using each",
        )
    return out


def _time_chart(data: dict) -> dict[str, str]:
    over_time = data["over_time"]
    if not over_time or len(over_time["periods"]) <= 1:
        return {}
    if over_time["technique_share"]:
        return {"over_time": _timeline(over_time)}
    articles = list(over_time["articles"].values())
    return {
        "over_time": _bars(over_time["periods"], articles, f"Articles per {over_time['unit']}", "articles", "#636363")
    }


def _entity_charts(data: dict) -> dict[str, str]:
    out = {}
    for role, colour in (("Antagonist", "#c0262d"), ("Innocent", "#1f5fbf")):
        top = data.get("entities", {}).get("all", {}).get(role)
        if top:
            out[f"entities_{role}"] = _bars(
                [name for name, _ in top], [n for _, n in top], f"Most frequent {role.lower()}s", "articles", colour
            )
    share = data.get("entities", {}).get("antagonist_share")
    if share:
        antagonists = list(next(iter(share.values())))
        out["entities_by_source"] = _heatmap(
            data["sources"]["articles"],
            share,
            antagonists,
            antagonists,
            "Antagonists per source: % of the source's articles casting each",
        )
    return out


def _heatmap(
    articles: dict[str, int], share: dict[str, dict[str, float]], columns: list[str], labels: list[str], title: str
) -> str:
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
                ax.text(
                    x,
                    y,
                    f"{value:.0f}" if value >= 0.5 else "<1",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if value > 0.6 * grid.max() else "black",
                )
    ax.set_title(title, loc="left", fontsize=11)
    figure.colorbar(image, ax=ax, label="% of articles", shrink=0.8)
    return _svg(figure)


def _timeline(over_time: dict) -> str:
    periods = over_time["periods"]
    figure, ax = _figure(8.5, 3.8)
    x = list(range(len(periods)))
    for technique, share in over_time["technique_share"].items():
        ax.plot(
            x,
            [share.get(p, 0.0) * 100 for p in periods],
            marker="o",
            markersize=3,
            label=_plain(label_title(technique)),
        )
    step = max(1, len(periods) // 12)
    ax.set_xticks(x[::step], [periods[i] for i in x[::step]], rotation=45, ha="right")
    ax.set_ylabel("% of the period's articles")
    ax.set_title(f"Most frequent techniques per {over_time['unit']}", loc="left", fontsize=11)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _svg(figure)
