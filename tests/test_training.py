"""The trainers' shared parts on invented rows and folders, without the encoder: the head
estimator and its cross-validation, decisions, slices, per-language scores, metadata, rows."""

from __future__ import annotations

import zlib
from dataclasses import replace

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from conftest import write_semeval2023, write_semeval2025
from spinscope.semeval.reader import LabelledArticle
from spinscope.tasks import TARGETS, TASKS, Recipe
from spinscope.training import heldout, techniques
from spinscope.training.estimators import (
    CONSTANT_LOGIT,
    DEFAULT_THRESHOLD,
    FOLDS,
    HeadEstimator,
    TaskData,
    decide,
    fit_head,
    folds,
    labelled_slice,
    model_meta,
    out_of_fold,
    per_language,
)


def rows(target: str, n: int = 60, seed: int = 0) -> TaskData:
    """``n`` random feature rows of ``target``, 20 articles of 3 rows, labels read off the features."""
    rng = np.random.default_rng(seed)
    labels = TARGETS[target].labels
    X = rng.normal(size=(n, 8)).astype(np.float32)
    Y = np.zeros((n, len(labels)), dtype=np.int8)
    if TARGETS[target].single_label:
        Y[np.arange(n), (X[:, 0] > 0).astype(int) + (X[:, 1] > 1)] = 1
    else:
        Y[:, 0] = X[:, 0] > 0  # learnt
        Y[:, 1] = 1  # always seen
        Y[:, 2] = X[:, 1] > 0.5  # learnt; the others are never seen
    groups = np.array([f"en:{i // 3}" for i in range(n)])
    return TaskData(TARGETS[target], X, Y, np.array(["en"] * n), groups, [str(i) for i in range(n)])


def test_labels_never_or_always_seen_get_the_constant_logit_in_cv_and_in_the_head():
    data = rows("frames")
    P = out_of_fold(data)
    constant = 1 / (1 + np.exp(-CONSTANT_LOGIT))
    np.testing.assert_allclose(P[:, 1], constant, rtol=1e-6)  # always seen: kept, though every row has it
    np.testing.assert_allclose(P[:, 3:], 1 - constant, rtol=1e-4)
    ((W, b),) = fit_head(data).layers
    assert b[1] == CONSTANT_LOGIT and (b[3:] == -CONSTANT_LOGIT).all() and not W[:, 1].any() and not W[:, 3:].any()
    assert W[:, 0].any() and W[:, 2].any()


def test_each_label_gets_the_logistic_regression_of_its_own_column():
    data = rows("frames")
    ((W, b),) = fit_head(data).layers
    Xs = (data.X - data.X.mean(0)) / (data.X.std(0) + 1e-6)
    for j in (0, 2):
        alone = LogisticRegression(C=TARGETS["frames"].recipe.C, max_iter=2000).fit(Xs, data.Y[:, j])
        np.testing.assert_array_equal(W[:, j], alone.coef_[0].astype(np.float32))
        assert b[j] == np.float32(alone.intercept_[0])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # the roles' MLP on 60 rows
@pytest.mark.parametrize("target", ["genre", "frames", "roles"])
def test_out_of_fold_predicts_each_fold_from_a_head_fitted_on_the_others(target):
    data = rows(target)
    ticks = []
    P = out_of_fold(data, lambda: ticks.append(1))
    assert len(ticks) == FOLDS
    fold = folds(data.groups)
    for k in range(FOLDS):
        head = fit_head(data.subset(fold != k))
        np.testing.assert_array_equal(P[fold == k], head.predict_proba(data.X[fold == k]))
    by_language = out_of_fold(data, fold=np.array(["en"] * 30 + ["fr"] * 30))
    on_first_half = fit_head(data.subset(np.arange(60) < 30))
    np.testing.assert_array_equal(by_language[30:], on_first_half.predict_proba(data.X[30:]))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_recipe_can_replace_the_targets_own():
    data = rows("roles")
    assert fit_head(data).layers[0][0].shape == (8, 256)  # the roles' MLP
    linear = HeadEstimator(data.target, Recipe(C=0.1)).fit(data.X, data.Y).to_head({"task": "roles"})
    assert len(linear.layers) == 1 and linear.kind == "multiclass" and linear.meta == {"task": "roles"}
    assert len(out_of_fold(data, recipe=Recipe(C=0.1))) == 60


def test_single_label_targets_take_the_most_probable_label_and_choose_no_threshold():
    P = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    assert decide(TARGETS["genre"], P, 0.9) == [["satire"], ["opinion"]]
    assert decide(TARGETS["frames"], np.hstack([P, np.zeros((2, 11))]), 0.3) == [
        ["Capacity_and_resources", "Morality"],
        ["Economic", "Capacity_and_resources"],
    ]
    genre = rows("genre")
    assert techniques.best_threshold(genre, out_of_fold(genre)) == DEFAULT_THRESHOLD
    assert fit_head(genre).thresholds is None
    frames = rows("frames")
    assert techniques.best_threshold(frames, out_of_fold(frames)) in techniques.THRESHOLD_GRID


def test_every_head_task_is_scored_with_its_official_metric():
    assert techniques.HEAD_TASKS == ("genre", "frames", "techniques")
    assert all(TASKS[name].targets[0].metric is not None for name in techniques.HEAD_TASKS)
    genre = TaskData(
        TARGETS["genre"],
        np.zeros((4, 1)),
        np.array([[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1]]),
        np.array(["en"] * 4),
        np.array(["a", "b", "c", "d"]),
        ["a", "b", "c", "d"],
    )
    # macro-F1: opinion 0, reporting 2/3 (two right of four said), satire 0
    assert techniques.official_score(genre, [["reporting"]] * 4) == pytest.approx(2 / 9)
    # the masked rows only: reporting right; opinion and satire, neither gold nor said, score 0
    assert techniques.official_score(genre, [["reporting"]] * 4, np.array([False, True, True, False])) == 1 / 3
    frames = TaskData(
        TARGETS["frames"],
        np.zeros((2, 1)),
        np.array([[1, 1] + [0] * 12, [1] + [0] * 13]),
        np.array(["en"] * 2),
        np.array(["a", "b"]),
        ["a", "b"],
    )
    # micro-F1 over (article, frame) pairs: 2 right, 1 wrong, 1 missed
    assert techniques.official_score(frames, [["Economic"], ["Economic", "Morality"]]) == pytest.approx(2 / 3)


def test_labelled_slice_takes_a_slice_of_each_language_in_id_order(tmp_path):
    def article(lang: str, aid: str, **labels) -> LabelledArticle:
        return LabelledArticle(tmp_path, lang, aid, {}, labels)

    articles = [
        article("en", "1", genre=["opinion"]),
        article("en", "2"),
        article("en", "3", genre=["satire"]),
        article("en", "4", genre=["satire"]),
        article("fr", "1", genre=["opinion"]),
        article("fr", "2", genre=["opinion"]),
    ]
    assert [a.group for a in labelled_slice(articles, "genre")] == ["en:1", "en:3", "en:4", "fr:1", "fr:2"]
    assert [a.group for a in labelled_slice(articles, "genre", skip=1, max_articles=1)] == ["en:3", "fr:2"]
    assert [a.group for a in labelled_slice(articles, "genre", skip=1)] == ["en:3", "en:4", "fr:2"]


def test_per_language_scores_by_iso_code_and_pooled():
    langs = np.array(["po", "ge", "po"])
    assert per_language(langs, lambda mask: 1 / 3 if mask is None else float(mask.sum())) == {
        "de": 1.0,
        "pl": 2.0,
        "all": 0.3333,
    }
    assert per_language(langs, lambda mask: {"f1": 2 / 3}) == {lang: {"f1": 0.6667} for lang in ("de", "pl", "all")}


def test_model_meta_says_what_the_head_reads_and_how_it_was_cross_validated():
    meta = model_meta(rows("frames"), "spinscope train X", threshold=0.3, cv={"all": 0.5})
    assert list(meta) == [
        "version",
        "task",
        "estimator",
        "features",
        "threshold",
        "cv",
        "cv_protocol",
        "trained_on",
        "command",
    ]
    assert meta["task"] == "frames" and meta["estimator"] == "logistic regression C=0.001"
    assert meta["features"].endswith("title + mean + max of paragraphs") and meta["trained_on"] == {"en": 60}
    assert "paragraph + neighbours" in model_meta(rows("techniques"), "")["features"]
    assert "the mention masked" in model_meta(rows("roles"), "")["features"]


class HashEmbedder:
    """Stands in for the encoder: a fixed random vector per text."""

    def embed(self, texts, progress=None):
        return np.array([np.random.default_rng(zlib.crc32(t.encode())).normal(size=384) for t in texts], np.float32)


def test_load_data_builds_each_head_tasks_rows_from_its_subtasks_copy(tmp_path):
    data = techniques.load_data(write_semeval2023(tmp_path), HashEmbedder(), ["en"])
    assert list(data) == ["genre", "frames", "techniques"]
    assert data["genre"].keys == ["1", "2", "3"] and list(data["genre"].groups) == ["en:1", "en:2", "en:3"]
    assert data["genre"].Y.tolist() == [[1, 0, 0], [0, 1, 0], [0, 1, 0]]
    assert data["frames"].Y.sum(1).tolist() == [2, 1, 0]
    # Paragraph rows: labelled lines that are paragraphs (article 3 has no line 4).
    assert data["techniques"].keys == [("1", 1), ("1", 3), ("1", 4), ("2", 1), ("2", 3), ("2", 4), ("3", 1), ("3", 3)]
    assert len(data["techniques"].X) == 8 and len(data["genre"].X) == 3
    sliced = techniques.load_data(tmp_path, HashEmbedder(), ["en"], max_articles=1, skip=1)
    assert sliced["genre"].keys == ["2"] and {key for key, _ in sliced["techniques"].keys} == {"2"}


def test_held_out_split_draws_from_the_labelled_articles(tmp_path):
    folders = [write_semeval2023(tmp_path / "semeval2023"), write_semeval2025(tmp_path / "semeval2025")]
    split = heldout.draw(folders)
    # 2023: one opinion, two reporting: 20% of each rounds to none, in both language folders
    assert split["semeval2023"] == {"en": [], "xx": []}
    # 2025: twelve documents, three narratives of four: one of each
    assert len(split["semeval2025"]["en"]) == 3 and split == heldout.draw(folders)


def test_the_most_frequent_role_baseline_is_learnt_per_language_on_the_training_rows():
    def roles(langs, main):
        Y = np.eye(len(TARGETS["roles"].labels), dtype=np.int8)[main]
        return TaskData(TARGETS["roles"], np.zeros((len(main), 2)), Y, np.array(langs), np.arange(len(main)))

    train = roles(["bg", "bg", "bg", "en", "en"], [0, 0, 1, 2, 2])
    test = roles(["bg", "en", "en", "bg"], [0, 2, 1, 1])
    labels = TARGETS["roles"].labels
    guess = [role for role, fine in heldout.most_frequent_roles(train, test)]
    assert guess == [labels[0], labels[2], labels[2], labels[0]]


def test_the_genre_protocol_records_leave_one_language_out_and_each_languages_predicted_mix():
    """A model that learnt "English means opinion" shows it: every unlabelled English article
    predicted opinion, next to the training mix, and a language scored by a model without it."""
    data = rows("genre", n=120)
    data.langs[60:] = "fr"
    data.X[:60, 7] += 3.0  # an English direction...
    data.Y[:60] = 0
    data.Y[:60, 0] = 1  # ...and nearly every English article labelled opinion
    data.Y[:3] = data.Y[60:63] = np.eye(3, dtype=np.int8)  # each language has each genre
    unlabelled = {"en": data.X[10:20] + 0.1, "es": data.X[60:70] - 0.1}
    head, _ = techniques.train_task(replace(data, unlabelled=unlabelled), "test")
    mix = head.meta["language_mix"]
    assert mix["en"] == {
        "train": {"opinion": 0.967, "reporting": 0.017, "satire": 0.017},
        "unlabelled_predicted": {"opinion": 1.0, "reporting": 0.0, "satire": 0.0},
    }
    assert set(mix["es"]) == {"unlabelled_predicted"} and set(mix["fr"]) == {"train"}
    assert sum(mix["es"]["unlabelled_predicted"].values()) == pytest.approx(1.0)
    assert set(head.meta["lolo"]) == {"en", "fr", "all"} and list(head.meta)[5:7] == ["cv", "lolo"]
    plain, _ = techniques.train_task(data, "test")  # no unlabelled articles: no protocol
    assert "language_mix" not in plain.meta and "lolo" not in plain.meta
