"""Entity roles read the article, not the name: the features leave the mention's own words out,
the name-swap protocol moves names exactly, and on an invented article the shipped models give
each role to the words that argue it, whichever name is written there."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest

from spinscope.document import Article
from spinscope.encoder import TokenStates
from spinscope.models.embeddings import EMBEDDING_DIM
from spinscope.models.evidence import sentences
from spinscope.models.roles import masked, mention_rows, mention_states
from spinscope.pipeline import Analyzer
from spinscope.tasks import TARGETS
from spinscope.training.estimators import TaskData, one_hot
from spinscope.training.framing import FramingData
from spinscope.training.name_swap import name_swap_scores, swap_names, swapped_articles


def test_swap_names_moves_every_whole_word_occurrence_and_says_where():
    text = "Anna met Boris.  Boris and  Anna  left; Annabel stayed with Anna\nBoris"
    swapped, moved = swap_names(text, "Anna", "Boris")
    assert swapped == "Boris met Anna.  Anna and  Boris  left; Annabel stayed with Boris\nAnna"
    assert len(moved) == 6  # "Annabel" is not "Anna"
    for (a, b), (c, d) in moved:
        assert {text[a:b], swapped[c:d]} == {"Anna", "Boris"}


def test_swap_names_matches_names_across_runs_of_spaces_and_keeps_the_rest():
    text = "Olena  Kovalenko spoke. Then Olena Kovalenko and Ivan Petrov left."
    swapped, moved = swap_names(text, "Olena Kovalenko", "Ivan Petrov")
    assert swapped == "Ivan Petrov spoke. Then Ivan Petrov and Olena Kovalenko left."
    assert [text[a:b] for (a, b), _ in moved] == ["Olena  Kovalenko", "Olena Kovalenko", "Ivan Petrov"]
    with pytest.raises(ValueError):
        swap_names(text, "Ivan  Petrov", "Ivan Petrov")


def _fake_encoder(seen: list[str]):
    """Token states that depend on each word and its position only (one token per word); the
    texts it is given are kept in ``seen``."""

    def token_states(texts: list[str]) -> list[TokenStates]:
        out = []
        for text in texts:
            seen.append(text)
            words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
            offsets = np.array([(-1, -1), *words, (-1, -1)], dtype=np.int32)
            states = np.zeros((len(offsets), EMBEDDING_DIM), np.float32)
            for i, (a, b) in enumerate(words, 1):
                seed = int.from_bytes(hashlib.sha1(f"{i}:{text[a:b]}".encode()).digest()[:4], "little")
                states[i] = np.random.default_rng(seed).normal(size=EMBEDDING_DIM)
            out.append(TokenStates(np.zeros(len(offsets), np.int32), offsets, states))
        return out

    return token_states


def test_mention_features_never_read_the_name():
    texts = [
        f"Title\n\nYesterday {name} ordered the shelling of the market, said Oleg Brandt."
        for name in ("Kadyrov", "Zelensky")
    ]
    E = np.random.default_rng(1).normal(size=(2, EMBEDDING_DIM)).astype(np.float32)
    rows, seen = [], []
    for text in texts:
        article = Article(text)
        spans = [
            (text.index(name), text.index(name) + len(name))
            for name in ("Kadyrov", "Zelensky", "Oleg Brandt")
            if name in text
        ]
        rows.append(mention_rows(E, mention_states(article, sentences(article), spans, _fake_encoder(seen))))
    assert seen == ["Yesterday X ordered the shelling of the market, said X."] * 2  # every mention masked
    np.testing.assert_array_equal(rows[0], rows[1])
    assert rows[0].shape == (2, 3 * EMBEDDING_DIM) and not np.array_equal(rows[0][0], rows[0][1])


def test_masked_writes_each_mention_as_the_placeholder_and_says_where():
    text, where = masked("Anna and Boris met Anna-Lena.", [(9, 14), (0, 4), (19, 28), (19, 23)])
    assert text == "X and X met X."
    assert [text[a:b] for a, b in where] == ["X"] * 4
    assert where[2] == where[3]  # overlapping mentions share one placeholder
    assert masked("no mentions", []) == ("no mentions", [])


def _framing_data(articles: dict[str, Article], mentions: list[tuple[str, str, str]]) -> FramingData:
    """FramingData of gold ``(article, name, role)`` mentions, at each name's first occurrences."""
    spans, groups, roles, seen = [], [], [], {}
    for group, name, role in mentions:
        text = articles[group].text
        start = text.index(name, seen.get((group, name), 0))
        seen[(group, name)] = start + 1
        spans.append((start, start + len(name)))
        groups.append(group)
        roles.append([role])
    X = np.arange(len(spans) * 4, dtype=np.float32).reshape(len(spans), 4)
    main = TaskData(
        TARGETS["roles"], X, one_hot(roles, TARGETS["roles"].labels), np.array(["EN"] * len(spans)), np.array(groups)
    )
    empty = TaskData(TARGETS["narratives"], X[:0], np.zeros((0, 1)), np.array([]), np.array([]))
    return FramingData(empty, empty, main, main, articles, spans)


def test_the_swap_protocol_pairs_names_of_different_roles_and_scores_both_ways():
    articles = {
        "EN:1": Article("T\n\nAlpha attacked. Beta helped. Alpha lied. Gamma watched."),
        "EN:2": Article("T\n\nDelta and Epsilon agreed."),  # one role only: no pair
    }
    data = _framing_data(
        articles,
        [
            ("EN:1", "Alpha", "Antagonist"),
            ("EN:1", "Beta", "Protagonist"),
            ("EN:1", "Alpha", "Antagonist"),
            ("EN:1", "Gamma", "Innocent"),
            ("EN:2", "Delta", "Protagonist"),
            ("EN:2", "Epsilon", "Protagonist"),
        ],
    )
    swapped = swapped_articles(data, np.ones(6, bool))
    assert len(swapped) == 1
    s = swapped[0]
    assert s.article.text == "T\n\nBeta attacked. Alpha helped. Beta lied. Gamma watched."
    assert s.rows == [0, 2, 1] and s.other_roles == ["Protagonist", "Protagonist", "Antagonist"]
    assert [s.article.text[a:b] for a, b in s.spans] == ["Beta", "Beta", "Alpha"]

    # A decider that reads the name (row values say which) follows it; one reading the place does not.
    def reads_row(X: np.ndarray) -> list[str]:
        return ["Antagonist" if x[0] in (0, 8) else "Protagonist" for x in X]

    same_place = name_swap_scores(data, swapped, data.roles.X[s.rows], reads_row)
    assert same_place["accuracy_before"] == same_place["accuracy_after"] == 1.0
    assert same_place["other_role_before"] == same_place["other_role_after"] == 0.0
    follows_name = name_swap_scores(data, swapped, data.roles.X[[1, 1, 0]], reads_row)
    assert follows_name["accuracy_after"] == 0.0 and follows_name["other_role_after"] == 1.0


#: An invented report: a commander who shells a town (the villain) and a doctor who saves its
#: wounded (the hero), in paragraphs of their own, under two names the training articles are
#: full of: the role model before issue 22, which read the names, called both Antagonist (.91 to
#: .98) whichever role the words gave them.
HERO, VILLAIN = "Zelensky", "Putin"
REPORT = "\n".join(
    [
        "Shelling of Dovrel Leaves Dozens Dead",
        "",
        f"The commander, {VILLAIN}, ordered his artillery to fire on the market of Dovrel at dawn, although he knew "
        f"that hundreds of families were buying bread there. Witnesses say {VILLAIN} laughed when he was told "
        "of the dead, and his officers burned the houses of those who tried to flee.",
        "The town council said forty-one civilians were killed, among them eleven children, and that the attack "
        "broke the ceasefire signed a week ago.",
        "Aid groups described the morning as the worst the region has seen since the war began, and called for "
        "an independent inquiry into the orders given to the artillery units.",
        f"At the hospital, doctor {HERO} worked for thirty hours without rest to save the wounded. Nurses say "
        f"{HERO} carried children out of the burning ward herself and gave her own blood to a dying boy.",
    ]
)


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(disable=["spans"])


def test_roles_follow_the_words_not_the_names(analyzer):
    """Each name takes the role its words argue, and swapping the two names moves the roles with
    the words: the name now written where the doctor was gets the doctor's role."""
    before = {e.name: e.role for e in analyzer.analyze(Article(REPORT, language="en")).entities}
    swapped_text, _ = swap_names(REPORT, HERO, VILLAIN)
    after = {e.name: e.role for e in analyzer.analyze(Article(swapped_text, language="en")).entities}
    assert HERO in before and VILLAIN in before and before[HERO] != before[VILLAIN]
    assert (after[VILLAIN], after[HERO]) == (before[HERO], before[VILLAIN])
