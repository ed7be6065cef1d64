"""The explainer (:class:`~spinscope.models.explain.Explainer`), chosen on the training
explanations of SemEval-2025 Task 10 subtask 3 by nested cross-validation of chrF.

Every candidate setting (how many evidence sentences, their order, the sub-narrative's weight,
an opener of a few words per language learnt from the references, the narrative's name in the
languages of the labels) writes an explanation of each training article from the sentence
scores of the shipped narrative heads (the same scores the pipeline computes). The outer
5-fold split by article holds out the articles whose chrF is reported; the setting is chosen
on the other four folds each time, and the model that ships is chosen on all of them. The
baseline is the article's first 80 words.
"""

from __future__ import annotations

import itertools
from collections import Counter as Tally
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..document import Article
from ..errors import DataError
from ..models.embeddings import EMBEDDING_DIM, Embedder
from ..models.evidence import Sentence, sentence_rows, sentences
from ..models.explain import RANKER_FEATURES, Explainer, first_words, sentence_features
from ..models.heads import Head
from ..pipeline import MODEL_DIR
from ..progress import Progress
from ..semeval import formats, metrics
from ..semeval.layout import Split, training_languages
from .estimators import FOLDS, SEED, folds, texts_range_states

VERSION = "1.0"
#: The settings tried, chosen for each language: what ranks the sentences (the learnt ranker or
#: the heads' scores, with the sub-narrative's weight), in the article's order or best first,
#: whether the language's opener and (in English, the labels' language) the narrative's name
#: come first, and how many words an explanation has.
GRID = {
    "use_ranker": (True, False),
    "in_text_order": (True, False),
    "subnarrative_weight": (0.5, 1.0),
    "opener": (False, True),
    "label": (False, True),
    "max_words": (25, 40, 60, 80),
}
#: Sentences kept before the word budget cuts them.
SENTENCES = 8
#: What the settings of one language may change (the rest is shared).
PER_LANGUAGE = ("sentences", "in_text_order", "subnarrative_weight", "use_ranker", "max_words")
#: An opener is kept only when at least this share of a language's references open with it:
#: a common formula ("The article"), never words about one article's content.
MIN_OPENER_SHARE = 0.08
#: The longest opener, in words.
OPENER_WORDS = 3
#: Character n-grams of the ranker's target: the share of a sentence's 4-grams in the reference.
TARGET_NGRAM = 4
RIDGE = 1.0


@dataclass
class ExplanationData:
    """The labelled articles of subtask 3: their given narratives, reference explanations,
    sentences and the narrative heads' scores of each sentence for the given narrative
    (``p``) and sub-narrative (``q``, ``None`` when there is none)."""

    labels: list[formats.ExplanationLabel]
    langs: list[str]
    articles: list[Article]
    sentences: list[list[Sentence]]
    p: list[np.ndarray]
    q: list[np.ndarray | None]

    @property
    def references(self) -> list[str]:
        return [row.explanation for row in self.labels]


def has_explanations(data_dir: Path, languages: Sequence[str] | None = None) -> bool:
    """Whether a language folder of ``data_dir`` has ``train-labels-subtask-3.txt``."""
    return any(
        Split(Path(data_dir), lang, "train").labels_file(3).is_file()
        for lang in training_languages(data_dir, languages)
    )


def default_explainer(command: str) -> Explainer:
    """The explainer of a model folder trained without explanations: default settings, no opener."""
    return Explainer(
        meta={"version": VERSION, "estimator": "default settings (no training explanations)", "command": command}
    )


def heads_folder(output: Path) -> Path:
    """Where the narrative heads are read: ``output`` when it holds them (trained in the same
    run), else the shipped models."""
    return output if (Path(output) / "narratives.json").is_file() else MODEL_DIR


def load_explanation_data(
    data_dir: Path, embedder: Embedder, heads: Path, languages: Sequence[str] | None = None, progress=None
) -> ExplanationData:
    """Read every language's ``train-labels-subtask-3.txt`` and score the sentences of its articles."""
    labels, langs, articles = [], [], []
    for lang in training_languages(data_dir, languages):
        split = Split(Path(data_dir), lang, "train")
        if not split.labels_file(3).is_file():
            continue
        for row in formats.read_explanation_labels(split.labels_file(3)):
            path = split.document_path(row.article)
            if path.is_file():
                labels.append(row)
                langs.append(split.language)
                articles.append(formats.read_document(path, split.language))
    if not labels:
        raise DataError(f"no train-labels-subtask-3.txt with readable articles under {data_dir}")
    found = [sentences(article) for article in articles]
    coarse, fine = Head.load(heads, "narratives"), Head.load(heads, "subnarratives")
    p, q = [], []
    vectors_of = _sentence_vectors(articles, found, embedder, progress)
    for row, vectors, E in zip(labels, vectors_of, _paragraph_embeddings(articles, embedder, progress)):
        rows = sentence_rows(E, vectors) if len(vectors) else np.zeros((0, 3 * EMBEDDING_DIM), np.float32)
        p.append(coarse.predict_proba(rows)[:, coarse.labels.index(row.narrative)])
        sub = row.subnarrative
        q.append(fine.predict_proba(rows)[:, fine.labels.index(sub)] if sub in fine.labels else None)
    return ExplanationData(labels, langs, articles, found, p, q)


def _paragraph_embeddings(articles: list[Article], embedder: Embedder, progress) -> list[np.ndarray]:
    texts = [p.text for a in articles for p in a.paragraphs]
    vectors = embedder.embed(texts, progress=progress)
    out, start = [], 0
    for article in articles:
        out.append(vectors[start : start + len(article.paragraphs)])
        start += len(article.paragraphs)
    return out


def _sentence_vectors(
    articles: list[Article], found: list[list[Sentence]], embedder: Embedder, progress
) -> list[np.ndarray]:
    """The normalised mean token state of each sentence in its paragraph (as the pipeline reads
    them), from the states file kept next to the embedding cache."""
    texts, ranges = [], []
    for article, sents in zip(articles, found):
        for k, paragraph in enumerate(article.paragraphs):
            texts.append(paragraph.text)
            ranges.append([(s.start - paragraph.start, s.end - paragraph.start) for s in sents if s.paragraph == k])
    states = texts_range_states(embedder, texts, ranges, progress).astype(np.float32)
    states /= np.maximum(np.linalg.norm(states, axis=1, keepdims=True), 1e-9)
    out, start = [], 0
    for sents in found:
        out.append(states[start : start + len(sents)])
        start += len(sents)
    return out


def learn_openers(references: Sequence[str], langs: Sequence[str], words: int = OPENER_WORDS) -> dict[str, str]:
    """Per language, the longest opening of at most ``words`` words that at least
    :data:`MIN_OPENER_SHARE` of the references share (none where no opening is that common)."""
    out = {}
    for lang in sorted({str(x) for x in langs}):
        texts = [text.split() for text, x in zip(references, langs) if str(x) == lang]
        for n in range(words, 0, -1):
            tally = Tally(" ".join(t[:n]) for t in texts if len(t) >= n)
            if tally and tally.most_common(1)[0][1] >= MIN_OPENER_SHARE * len(texts):
                out[lang] = tally.most_common(1)[0][0]
                break
    return out


def _ngrams(text: str) -> set[str]:
    chars = "".join(text.split())
    return {chars[i : i + TARGET_NGRAM] for i in range(len(chars) - TARGET_NGRAM + 1)}


def ranker_rows(data: ExplanationData) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per article, the ranker's features of its sentences and their targets: the share of each
    sentence's character 4-grams found in the reference explanation."""
    X, y = [], []
    for article, found, p, q, reference in zip(data.articles, data.sentences, data.p, data.q, data.references):
        X.append(sentence_features(article.text, found, p, q))
        wanted = _ngrams(reference)
        shares = []
        for sentence in found:
            grams = _ngrams(article.text[sentence.start : sentence.end])
            shares.append(len(grams & wanted) / len(grams) if grams else 0.0)
        y.append(np.array(shares))
    return X, y


def fit_ranker(X: list[np.ndarray], y: list[np.ndarray], rows: Sequence[int] | np.ndarray) -> dict:
    """A ridge regression of the targets on the standardised features of the articles ``rows``."""
    A = np.vstack([X[i] for i in rows])
    b = np.concatenate([y[i] for i in rows])
    mean, scale = A.mean(axis=0), A.std(axis=0) + 1e-9
    Z = (A - mean) / scale
    weights = np.linalg.solve(Z.T @ Z + RIDGE * np.eye(Z.shape[1]), Z.T @ (b - b.mean()))
    return {
        "features": list(RANKER_FEATURES),
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "weights": [round(float(v), 6) for v in weights],
        "bias": round(float(b.mean()), 6),
    }


def explain_all(data: ExplanationData, explainer: Explainer) -> list[str]:
    """The explainer's explanation of every article of ``data``."""
    out = []
    for row, lang, article, found, p, q in zip(data.labels, data.langs, data.articles, data.sentences, data.p, data.q):
        if not found:
            out.append("")
            continue
        own = explainer.for_language(lang)
        chosen = own.choose(found, own.ranking(article.text, found, p, q))
        out.append(own.compose(article.text, found, chosen, lang, row.subnarrative or row.narrative))
    return out


def _settings() -> list[dict]:
    """The grid; with the learnt ranker, the sub-narrative's weight is one of its features."""
    every = [dict(zip(GRID, values)) for values in itertools.product(*GRID.values())]
    first = GRID["subnarrative_weight"][0]
    return [s for s in every if not s["use_ranker"] or s["subnarrative_weight"] == first]


def _explainer(setting: dict, openers: dict[str, str], ranker: dict) -> Explainer:
    return Explainer(
        sentences=SENTENCES,
        subnarrative_weight=setting["subnarrative_weight"],
        in_text_order=setting["in_text_order"],
        openers=openers if setting["opener"] else {},
        label_languages=["en"] if setting["label"] else [],
        ranker=ranker,
        use_ranker=setting["use_ranker"],
        max_words=setting["max_words"],
    )


class _Candidates:
    """chrF statistics of every setting's explanations, computed once per setting and openers,
    and once per distinct explanation of an article (settings often write the same one)."""

    def __init__(self, data: ExplanationData):
        self.data = data
        self.references = data.references
        self.features, self.targets = ranker_rows(data)
        self.stats: dict[tuple, np.ndarray] = {}
        self.rows: dict[tuple[int, str], np.ndarray] = {}

    def of(self, setting: dict, openers: dict[str, str], ranker: dict) -> np.ndarray:
        learnt = setting["use_ranker"]
        key = (tuple(setting.items()), tuple(openers.items()), tuple(ranker["weights"]) if learnt else ())
        if key not in self.stats:
            texts = explain_all(self.data, _explainer(setting, openers, ranker))
            todo = [i for i, text in enumerate(texts) if (i, text) not in self.rows]
            new = metrics.chrf_statistics([self.references[i] for i in todo], [texts[i] for i in todo])
            self.rows.update(((i, texts[i]), row) for i, row in zip(todo, new))
            self.stats[key] = np.array([self.rows[i, text] for i, text in enumerate(texts)])
        return self.stats[key]


def per_language(stats: np.ndarray, langs: np.ndarray, rows: np.ndarray) -> dict[str, float]:
    """chrF of the articles ``rows`` in each language."""
    return {lang: metrics.chrf_from_statistics(stats[rows[langs[rows] == lang]]) for lang in sorted(set(langs[rows]))}


@dataclass
class Choice:
    """What :func:`choose` picks on some articles: the setting of each language, the setting of
    best mean chrF (for other languages), the openers and the ranker learnt on them."""

    by_language: dict[str, dict]
    default: dict
    openers: dict[str, str]
    ranker: dict

    def stats(self, candidates: _Candidates, rows: np.ndarray) -> np.ndarray:
        """chrF statistics of ``rows``, each explained with its language's setting."""
        langs = np.array(candidates.data.langs)
        out = np.zeros((len(rows), 18), dtype=np.int64)
        for lang in set(langs[rows]):
            setting = self.by_language.get(str(lang), self.default)
            out[langs[rows] == lang] = candidates.of(setting, self.openers, self.ranker)[rows[langs[rows] == lang]]
        return out

    def explainer(self, meta: dict) -> Explainer:
        base = _explainer(self.default, self.openers, self.ranker)
        languages = {
            lang: {k: getattr(_explainer(s, {}, {}), k) for k in PER_LANGUAGE} for lang, s in self.by_language.items()
        }
        openers = {lang: o for lang, o in self.openers.items() if self.by_language.get(lang, self.default)["opener"]}
        label = [lang for lang in ("en",) if self.by_language.get(lang, self.default)["label"]]
        return replace(base, openers=openers, label_languages=label, languages=languages, meta=meta)


def choose(candidates: _Candidates, rows: np.ndarray) -> Choice:
    """The settings of best chrF on ``rows`` (each language's own, and the best on average),
    with the openers and the ranker learnt on ``rows``."""
    langs = np.array(candidates.data.langs)
    openers = learn_openers([candidates.references[i] for i in rows], langs[rows])
    ranker = fit_ranker(candidates.features, candidates.targets, rows)
    scores = [(setting, per_language(candidates.of(setting, openers, ranker), langs, rows)) for setting in _settings()]
    by_language = {
        lang: max(scores, key=lambda item: item[1][lang])[0] for lang in sorted({str(x) for x in langs[rows]})
    }
    default = max(scores, key=lambda item: float(np.mean(list(item[1].values()))))[0]
    return Choice(by_language, default, openers, ranker)


def cross_validate(
    data: ExplanationData, advance: Callable[[], None] = lambda: None, candidates: _Candidates | None = None
) -> tuple[dict, dict]:
    """Nested CV: each held-out fold is explained with the settings chosen on the other folds.
    Returns ``({lang: {"chrf", "baseline_chrf", "articles"}}, settings chosen by fold)``."""
    candidates = candidates or _Candidates(data)
    langs = np.array(data.langs)
    fold_of = folds(np.array([f"{lang}:{row.article}" for lang, row in zip(data.langs, data.labels)]))
    held = np.zeros((len(data.labels), 18), dtype=np.int64)
    chosen = {}
    for k in range(FOLDS):
        inner, outer = np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)
        choice = choose(candidates, inner)
        held[outer] = choice.stats(candidates, outer)
        chosen[k] = {"by_language": choice.by_language, "openers": choice.openers}
        advance()
    baseline = metrics.chrf_statistics(data.references, [first_words(a) for a in data.articles])
    every = np.arange(len(data.labels))
    cv, base = per_language(held, langs, every), per_language(baseline, langs, every)
    scores = {
        lang: {"chrf": cv[lang], "baseline_chrf": base[lang], "articles": int((langs == lang).sum())} for lang in cv
    }
    return scores, chosen


def train_explainer(data: ExplanationData, command: str, advance: Callable[[], None] = lambda: None) -> Explainer:
    """The explainer chosen on all of ``data``, with its nested-CV scores in its metadata."""
    candidates = _Candidates(data)
    cv, by_fold = cross_validate(data, advance, candidates)
    choice = choose(candidates, np.arange(len(data.labels)))
    mean = {key: round(float(np.mean([s[key] for s in cv.values()])), 2) for key in ("chrf", "baseline_chrf")}
    meta = {
        "version": VERSION,
        "estimator": "extractive: the best sentences for the given narrative, cut at the word budget",
        "settings": {"default": choice.default, **choice.by_language},
        "grid": {k: list(v) for k, v in GRID.items()},
        "cv_protocol": f"nested {FOLDS}-fold GroupKFold by article (seed {SEED}): each language's setting, the "
        "openers and the ranker are chosen on four folds by chrF, the fifth is scored; corpus chrF (sacrebleu) "
        "per language; baseline: the article's first 80 words",
        "cv": cv,
        "cv_mean": mean,
        "cv_chosen_by_fold": {str(k): v for k, v in by_fold.items()},
        "trained_on": dict(sorted(Tally(data.langs).items())),
        "command": command,
    }
    return choice.explainer(meta)


def train(
    data_dir: Path,
    embedder: Embedder,
    output: Path,
    languages: Sequence[str] | None,
    command: str,
    progress: Progress | None = None,
    advance: Callable[[], None] = lambda: None,
) -> Explainer:
    """Choose the explainer on ``data_dir``'s subtask-3 explanations and save it in ``output``."""
    data = load_explanation_data(data_dir, embedder, heads_folder(output), languages, progress)
    explainer = train_explainer(data, command, advance)
    explainer.save(output)
    return explainer
