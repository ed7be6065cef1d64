"""Print the CV tables of docs/models.md from the shipped models' metadata.

    python scripts/models_report.py
"""
from __future__ import annotations

import json
from pathlib import Path

TRAINED = Path(__file__).resolve().parents[1] / "src" / "spinscope" / "trained"
LANGS = ["en", "fr", "de", "it", "pl", "ru"]
#: Official dev-split references from the data README (baseline; best published system).
BASELINE = {"genre": [.25, .48, .48, .45, .53, .34], "frames": [.61, .38, .51, .43, .59, .22],
            "techniques": [.16, .29, .33, .39, .13, .25]}
BEST = {"techniques": [.42, .50, .47, .58, .43, .48]}
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
            base = meta["cv_whole_paragraph_baseline"]
            print(row("spans | whole-paragraph baseline, same CV", [base.get(x) for x in LANGS + ["all"]]))
            print(row("spans | relative gain over it", [cv[x] / base[x] - 1 if base.get(x) else None
                                                        for x in LANGS + ["all"]], "{:+.0%}"))


#: SemEval-2025 Task 10 languages and the references quoted in the issue (official test set,
#: best systems: LLM prompting or fine-tuning).
FRAMING_LANGS = ["bg", "en", "hi", "pt", "ru"]
FRAMING_METRICS = {"narratives": [("coarse_f1", "narratives samples-F1, coarse", .55),
                                  ("fine_f1", "narratives samples-F1, fine", .43)],
                   "roles": [("main_role_accuracy", "entities main-role accuracy", .84),
                             ("exact_match_ratio", "entities fine-role exact match", .35)]}


def framing() -> None:
    print("| metric | row | " + " | ".join(FRAMING_LANGS) + " | all |")
    print("|---|---|" + "---|" * (len(FRAMING_LANGS) + 1))
    for task, metrics in FRAMING_METRICS.items():
        meta = json.loads((TRAINED / f"{task}.json").read_text())["meta"]
        for key, name, reference in metrics:
            for label, cv in (("spinscope CV", meta["cv"]), ("most frequent label, same CV",
                                                             meta["cv_baseline_most_frequent"])):
                print(row(f"{name} | {label}", [cv[x][key] if x in cv else None for x in FRAMING_LANGS + ["all"]]))
            print(f"| {name} | best systems, official test (low end of range) | " + " | " * len(FRAMING_LANGS)
                  + f"{reference:.2f} |")
    recall = json.loads((TRAINED / "mentions.json").read_text())["cv_recall"]
    for key in ("exact", "overlap"):
        print(row(f"mention finder recall | {key} match, same CV", [recall[x][key] if x in recall else None
                                                                      for x in FRAMING_LANGS + ["all"]]))


if __name__ == "__main__":
    main()
    print()
    framing()
