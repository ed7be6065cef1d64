"""Write the CV tables of docs/models.md from the shipped models' metadata.

    python scripts/models_report.py > docs/models-cv.md
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


if __name__ == "__main__":
    main()
