"""Print the CV tables of docs/models.md from the shipped models' metadata.

python scripts/models_report.py
python scripts/models_report.py --compare OLD_DIR NEW_DIR   # every CV score of two model folders
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TRAINED = Path(__file__).resolve().parents[1] / "src" / "spinscope" / "trained"
LANGS = ["en", "fr", "de", "it", "pl", "ru"]
#: Official dev-split references from the data README (baseline; best published system).
BASELINE = {
    "genre": [0.25, 0.48, 0.48, 0.45, 0.53, 0.34],
    "frames": [0.61, 0.38, 0.51, 0.43, 0.59, 0.22],
    "techniques": [0.16, 0.29, 0.33, 0.39, 0.13, 0.25],
}
BEST = {"techniques": [0.42, 0.50, 0.47, 0.58, 0.43, 0.48]}
METRIC = {"genre": "macro-F1", "frames": "micro-F1", "techniques": "micro-F1", "spans": "span F1 (partial overlap)"}


def row(name: str, values, fmt: str = "{:.3f}") -> str:
    return f"| {name} | " + " | ".join("" if v is None else fmt.format(v) for v in values) + " |"


def main() -> None:
    print("| task | row | " + " | ".join(LANGS) + " | all |")
    print("|---|---|" + "---|" * (len(LANGS) + 1))
    for task in ("genre", "frames", "techniques", "spans"):
        meta = json.loads((TRAINED / f"{task}.json").read_text())["meta"]
        cv = meta["cv"]
        print(row(f"{task} | spinscope CV ({METRIC[task]})", [cv.get(x) for x in LANGS + ["all"]]))
        if task in BASELINE:
            print(row(f"{task} | organisers' baseline (dev)", BASELINE[task] + [None]))
        if task in BEST:
            print(row(f"{task} | best published, XLM-R-large on GPU (dev)", BEST[task] + [None]))
        if task == "spans":
            spans_rows(meta)


def spans_rows(meta: dict) -> None:
    """The span tagger's CV and leave-one-language-out rows, each against whole paragraphs."""
    names = {
        "previous": "lexical scorer alone (the previous tagger)",
        "states": "token-state scorer alone",
        "whole_paragraph": "whole-paragraph baseline",
    }
    for protocol, title in (("cv", "CV"), ("lolo", "leave one language out")):
        if protocol not in meta:
            continue
        base = meta[f"{protocol}_whole_paragraph"]
        if protocol == "lolo":
            print(row(f"spans | {title}: shipped setting", [meta["lolo"].get(x) for x in LANGS + ["all"]]))
        for key, name in names.items():
            values = meta[f"{protocol}_{key}"]
            print(row(f"spans | {title}: {name}", [values.get(x) for x in LANGS + ["all"]]))
        ours = meta[protocol]
        print(
            row(
                f"spans | {title}: shipped over whole paragraphs",
                [ours[x] / base[x] if base.get(x) else None for x in LANGS + ["all"]],
                "{:.2f}x",
            )
        )


#: SemEval-2025 Task 10 languages and the references quoted in the issue (official test set,
#: best systems: LLM prompting or fine-tuning).
FRAMING_LANGS = ["bg", "en", "hi", "pt", "ru"]
FRAMING_METRICS = {
    "narratives": [
        ("coarse_f1", "narratives samples-F1, coarse", 0.55),
        ("fine_f1", "narratives samples-F1, fine", 0.43),
    ],
    "roles": [
        ("main_role_accuracy", "entities main-role accuracy", 0.84),
        ("exact_match_ratio", "entities fine-role exact match", 0.35),
    ],
}


def framing() -> None:
    print("| metric | row | " + " | ".join(FRAMING_LANGS) + " | all |")
    print("|---|---|" + "---|" * (len(FRAMING_LANGS) + 1))
    for task, metrics in FRAMING_METRICS.items():
        meta = json.loads((TRAINED / f"{task}.json").read_text())["meta"]
        for key, name, reference in metrics:
            estimates = (
                ("spinscope CV", "cv"),
                ("previous model, same CV", "cv_previous"),
                ("leave one language out", "lolo"),
                ("previous model, leave one language out", "lolo_previous"),
                ("most frequent label, same CV", "cv_baseline_most_frequent"),
            )
            for label, cv in ((label, meta[k]) for label, k in estimates if k in meta):
                print(row(f"{name} | {label}", [cv[x][key] if x in cv else None for x in FRAMING_LANGS + ["all"]]))
            print(
                f"| {name} | best systems, official test (low end of range) | "
                + " | " * len(FRAMING_LANGS)
                + f"{reference:.2f} |"
            )
    recall = json.loads((TRAINED / "mentions.json").read_text())["cv_recall"]
    for key in ("exact", "overlap"):
        print(
            row(
                f"mention finder recall | {key} match, same CV",
                [recall[x][key] if x in recall else None for x in FRAMING_LANGS + ["all"]],
            )
        )


#: (model file, key in its per-language CV, name shown) of every score compared.
SCORES = [
    ("genre", None, "genre macro-F1"),
    ("frames", None, "frames micro-F1"),
    ("techniques", None, "techniques micro-F1"),
    ("spans", None, "spans F1"),
    ("narratives", "coarse_f1", "narratives samples-F1 coarse"),
    ("narratives", "fine_f1", "narratives samples-F1 fine"),
    ("roles", "main_role_accuracy", "entities main-role accuracy"),
    ("roles", "exact_match_ratio", "entities fine-role exact match"),
]


def compare(old: Path, new: Path) -> None:
    """One row per score and language: the CV of the models in ``old``, in ``new``, the change."""
    print("| score | language | old | new | change |")
    print("|---|---|---|---|---|")
    for name, key, shown in SCORES:
        cv_old, cv_new = (json.loads((folder / f"{name}.json").read_text())["meta"]["cv"] for folder in (old, new))
        for lang in [x for x in dict.fromkeys(LANGS + FRAMING_LANGS + ["all"]) if x in cv_old and x in cv_new]:
            a, b = (cv[lang][key] if key else cv[lang] for cv in (cv_old, cv_new))
            print(f"| {shown} | {lang} | {a:.3f} | {b:.3f} | {b - a:+.3f} |")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--compare"]:
        compare(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()
        print()
        framing()
