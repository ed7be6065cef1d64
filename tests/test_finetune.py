"""Fine-tuning the encoder (PyTorch, the train extra) and the held-out split that judges it.

The training runs for real on the invented SemEval folders: the real tokenizer and weights,
a few paragraphs, a couple of steps.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import DOCUMENTS, write_semeval2023, write_semeval2025
from spinscope.document import Article
from spinscope.encoder import QUERY_PREFIX, Encoder, ModelFile, Tokenizer
from spinscope.encoder.graph import write_layers_model
from spinscope.errors import DataError
from spinscope.models.embeddings import Embedder, EmbeddingCache
from spinscope.pipeline import MODEL_DIR, Analyzer
from spinscope.shells.cli import app
from spinscope.tasks import TARGETS
from spinscope.taxonomy import ROLE_NAMES, TECHNIQUE_NAMES
from spinscope.training import heldout

torch = pytest.importorskip("torch", reason="fine-tuning needs the train extra (PyTorch)")
finetune = pytest.importorskip("spinscope.training.finetune")

TINY = finetune.FineTuning(layers=2, epochs=2, batch_size=4, max_tokens=64)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    return [write_semeval2023(root / "semeval2023"), write_semeval2025(root / "semeval2025")]


@pytest.fixture(scope="module")
def tokenizer():
    model = ModelFile()
    return Tokenizer(model.vocabulary, model.normalisation)


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)


@pytest.fixture(scope="module")
def frozen_graph(tmp_path_factory):
    """e5's own layers, the starting point of fine-tuning (the shipped graph is fine-tuned)."""
    path = tmp_path_factory.mktemp("graph") / "frozen.onnx"
    write_layers_model(ModelFile(), path)
    return path


def test_torch_layers_compute_what_the_runtime_computes(tokenizer, frozen_graph):
    model_file = ModelFile()
    model = finetune.MultiTaskEncoder(model_file, 4, dropout=0.0).eval()
    frozen = finetune.FrozenLayers(model_file, model.first)
    texts = ["Le conseil municipal a voté la fermeture de la piscine.", "The bridge reopened on Monday."]
    examples = [
        finetune.Example(np.concatenate([[0], t.ids, [2]]).astype(np.int32), "x")
        for t in tokenizer.encode(texts, QUERY_PREFIX)
    ]
    ids, mask = finetune.pad_batch(examples, model_file.vocabulary.pad)
    with torch.no_grad():
        ours = model(frozen(ids, mask), mask).numpy()
    for row, states in enumerate(Encoder(graph_path=frozen_graph).token_states(texts, QUERY_PREFIX)):
        # float32 here, int8 activations there
        assert cosine(ours[row, : len(states.ids)], states.states).min() > 0.98


def test_examples_carry_every_task_with_token_targets(folders, tokenizer):
    examples = finetune.read_examples(folders, tokenizer, TINY)
    en = [e for e in examples if e.lang == "en" and "genre" in e.labels]
    assert len(en) == 3 + 3 + 2  # ARTICLES: paragraphs of articles 1-3 (title included, blank lines not)
    spanned = [e for e in en if e.spans is not None and e.spans.any()]
    assert len(spanned) == 1
    tokens = tokenizer.vocabulary
    marked = spanned[0].spans[:, TECHNIQUE_NAMES.index("Name_Calling-Labeling")].astype(bool)
    words = "".join(tokens.pieces[int(i)] for i in spanned[0].ids[marked]).replace("▁", " ").strip()
    assert words == "corrupt cowards"
    assert spanned[0].labels["techniques"][TECHNIQUE_NAMES.index("Loaded_Language")] == 1

    framing = [e for e in examples if "narratives" in e.labels]
    mentions = [(e, m) for e in framing for m in e.mentions]
    assert len(mentions) == sum(len(d[3]) for d in DOCUMENTS)
    e, (first, last, role, fine) = mentions[0]
    assert "".join(tokens.pieces[int(i)] for i in e.ids[first:last]).replace("▁", " ").strip() == "Washington"
    assert ROLE_NAMES[role] == "Antagonist" and fine.sum() == 1

    held = finetune.read_examples(folders, tokenizer, finetune.FineTuning(hold_out=True, max_tokens=64))
    assert len(held) == len(examples)  # invented folders are not in the committed split


def test_the_heads_and_loss_weights_follow_the_task_registry():
    model = finetune.MultiTaskEncoder(ModelFile(), 1, dropout=0.0)
    assert {name: head.out_features for name, head in model.heads.items()} == {
        name: len(target.labels) for name, target in TARGETS.items()
    }
    # the order seeds the heads' initialisation: another one trains other weights from the same seed
    assert list(model.heads) == [
        "techniques",
        "genre",
        "frames",
        "narratives",
        "subnarratives",
        "spans",
        "roles",
        "fine_roles",
    ]
    # recorded in checkpoints, which resume only with the same settings
    assert finetune.FineTuning().loss_weights == {
        "techniques": 1.0,
        "spans": 1.0,
        "genre": 0.3,
        "frames": 0.3,
        "narratives": 0.5,
        "subnarratives": 0.5,
        "roles": 0.5,
        "fine_roles": 0.5,
    }


def test_articles_without_labels_give_no_training_paragraphs(tmp_path):
    folder = write_semeval2023(tmp_path / "semeval2023")
    for labels in folder.glob("*/train-labels-subtask-*.txt"):
        labels.write_text("")  # the articles and their (empty) span files stay
    with pytest.raises(DataError, match="no training paragraphs"):
        finetune.fine_tune([folder], tmp_path / "out", TINY)


def test_fine_tuning_trains_resumes_and_exports_a_graph(folders, frozen_graph, tmp_path):
    graph = finetune.fine_tune(folders, tmp_path / "a", TINY, checkpoint_seconds=0)
    meta = json.loads((tmp_path / "a" / finetune.META_FILE).read_text())
    assert meta["steps"] == 2 * meta["steps"] // 2 > 0 and len(meta["loss_by_epoch"]) == 2
    assert set(meta["loss_by_epoch"][0]) >= {"techniques", "spans", "genre", "frames", "narratives", "roles"}

    # interrupted after 3 steps and run again: it resumes and ends where the first run did
    def stop_at_three(stage, done, total):
        if stage.startswith("fine-tuning: 2 epochs") and done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        finetune.fine_tune(folders, tmp_path / "b", TINY, progress=stop_at_three, checkpoint_seconds=0)
    assert torch.load(tmp_path / "b" / finetune.CHECKPOINT_FILE, weights_only=True)["step"] == 3
    resumed = finetune.fine_tune(folders, tmp_path / "b", TINY, checkpoint_seconds=0)
    assert resumed.read_bytes() == graph.read_bytes()

    text = ["These corrupt cowards have betrayed every honest worker in the country."]
    tuned, before = Encoder(graph_path=graph).embed(text), Encoder(graph_path=frozen_graph).embed(text)
    assert 0.9 < float(cosine(tuned, before)[0]) < 0.99999  # trained, not broken
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    first, second = Embedder(cache, graph=frozen_graph).embed(text), Embedder(cache, graph=graph).embed(text)
    assert not np.allclose(first, second)  # one cache, two encoders: their vectors are never mixed


def test_train_encoder_writes_a_model_folder_that_analyses(folders, tmp_path):
    runner = CliRunner()
    out = tmp_path / "models"
    out.mkdir()
    for task in ("genre", "frames", "techniques", "spans"):  # three articles are too few for their CV
        for suffix in (".json", ".npz"):
            shutil.copy(MODEL_DIR / f"{task}{suffix}", out)
    shutil.copy(MODEL_DIR / "explanations.json", out)  # nor for choosing the explainer's settings
    result = runner.invoke(
        app,
        [
            "train",
            *map(str, folders),
            "--output",
            str(out),
            "--encoder",
            "--epochs",
            "1",
            "--layers",
            "1",
            "--tasks",
            "narratives",
            "--tasks",
            "entities",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (out / "e5-small-layers.onnx").is_file() and (out / "narratives.json").is_file()
    analyzer = Analyzer(out)
    assert analyzer.embedder.graph == out / "e5-small-layers.onnx"  # the models read the encoder they were fitted on
    title, body, *_ = DOCUMENTS[0]
    analysis = analyzer.analyze(Article(f"{title}\n\n{body}\n", language="en"))
    assert analysis.narratives and analysis.entities


def test_the_held_out_split_is_stratified_and_fixed(folders):
    split = heldout.draw(folders)
    # twelve documents, three narratives of four: one of each (20% of four, rounded)
    assert len(split["semeval2025"]["en"]) == 3
    assert split == heldout.draw(folders)
    assert heldout.is_held_out(
        {k: {lang: set(v) for lang, v in langs.items()} for k, langs in split.items()},
        folders[1],
        "en",
        split["semeval2025"]["en"][0],
    )


def test_the_five_folds_are_disjoint_and_hold_out_every_paragraph_once(folders, tokenizer, monkeypatch):
    folds = [heldout.draw(folders, fold) for fold in range(heldout.FOLDS)]
    assert folds[0] == heldout.draw(folders)  # fold 0 is the held-out split
    invented = {"semeval2023": 3, "semeval2025": 12}  # labelled articles of each invented folder, in English
    for dataset in folds[0]:
        ids = [aid for split in folds for aid in split[dataset]["en"]]
        assert len(ids) == len(set(ids)) == invented[dataset]  # disjoint, and together every article
    with pytest.raises(ValueError, match="0 to 4"):
        heldout.draw(folders, heldout.FOLDS)

    def drawn(fold):
        return {dataset: {lang: set(ids) for lang, ids in langs.items()} for dataset, langs in folds[fold].items()}

    assert heldout.fold_split(1, folders) == drawn(1)
    # fold 0 is read from the committed file, which holds real articles: here, the invented ones
    monkeypatch.setattr(heldout, "load", lambda: drawn(0))
    every = len(finetune.read_examples(folders, tokenizer, finetune.FineTuning(max_tokens=64)))
    left_out = [
        every
        - len(finetune.read_examples(folders, tokenizer, finetune.FineTuning(hold_out=True, fold=k, max_tokens=64)))
        for k in range(heldout.FOLDS)
    ]
    assert all(n > 0 for n in left_out) and sum(left_out) == every  # each paragraph left out by one fold


def test_k_fold_reads_scored_folds_back_and_sums_them_up(tmp_path):
    kfold = pytest.importorskip("spinscope.training.kfold")
    scores = [
        {
            "genre": {"en": 0.5, "all": 0.6},
            "narratives": {"en": {"coarse": 0.4, "fine": 0.2}, "all": {"coarse": 0.4, "fine": 0.2}},
        },
        {
            "genre": {"en": 0.7, "all": 0.8},
            "narratives": {"en": {"coarse": 0.6, "fine": 0.2}, "all": {"coarse": 0.6, "fine": 0.2}},
        },
    ]
    for fold, fold_scores in enumerate(scores):
        (tmp_path / f"fold{fold}").mkdir()
        (tmp_path / f"fold{fold}" / kfold.SCORES_FILE).write_text(json.dumps(fold_scores))
    read = [kfold.run_fold([], fold, tmp_path) for fold in range(2)]  # scored: nothing is trained again
    assert read == scores
    summary = kfold.spread(read)
    assert summary[("genre", "", "en")] == pytest.approx((0.6, 0.1414), abs=1e-4)
    assert summary[("narratives", "fine", "all")] == pytest.approx((0.2, 0.0))
    table = kfold.markdown(summary).splitlines()
    assert table[0] == "| score | en | all |"
    assert table[2] == "| genre | 0.600 ± 0.141 | 0.700 ± 0.141 |"
    assert table[3] == "| narratives coarse | 0.500 ± 0.141 | 0.500 ± 0.141 |"
    result = CliRunner().invoke(app, ["kfold", "data", "--fold", "0", "--fold", "1", "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-len(table) :] == table


@pytest.mark.slow
def test_the_committed_split_is_the_one_the_data_gives(semeval_dir, semeval2025_dir):
    committed = json.loads(heldout.SPLIT_FILE.read_text())
    assert committed == heldout.draw([semeval_dir, semeval2025_dir])
    counts = {lang: len(ids) for lang, ids in committed["semeval2023"].items()}
    assert counts["en"] > counts["ge"] > 20
