"""Tests of models/cluster.py: TF-IDF + KMeans on planted groups, determinism, relabelling, agreement."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.cluster import KMeans
from scipy import sparse
from sklearn.metrics import silhouette_score

from policytopics.config import ClusterConfig
from policytopics.models.cluster import NO_CLUSTER, TfidfKMeans, agreement, identity_analyzer
from policytopics.models.factories import clusterer_from_config

# Three planted groups of different sizes (5, 4, 3 units), each with its own vocabulary and
# a shared filler word; units are interleaved so that order and group do not coincide.
INVEST = ["招商", "项目", "投资", "签约", "落地"]
GREEN = ["生态", "环保", "污染", "治理", "绿色"]
CADRE = ["党建", "干部", "作风", "廉政", "队伍"]


def _unit(vocabulary: list[str], i: int) -> list[str]:
    """Four words of the group (rotating, the first one twice) plus the shared filler."""
    words = [vocabulary[(i + j) % len(vocabulary)] for j in range(4)]
    return [words[0], *words, "发展"]


GROUP_OF_UNIT = ["invest", "green", "invest", "cadre", "green", "invest", "green", "cadre",
                 "invest", "green", "cadre", "invest"]
VOCAB = {"invest": INVEST, "green": GREEN, "cadre": CADRE}


def planted_corpus() -> list[list[str]]:
    counters = {name: 0 for name in VOCAB}
    docs = []
    for group in GROUP_OF_UNIT:
        docs.append(_unit(VOCAB[group], counters[group]))
        counters[group] += 1
    return docs


@pytest.fixture(scope="module")
def fitted() -> TfidfKMeans:
    return TfidfKMeans(k=3, top_n=5, random_state=11).fit(planted_corpus())


def test_planted_groups_are_recovered_and_numbered_by_size(fitted):
    # Largest group (invest, 5 units) is cluster 0, then green (4), then cadre (3).
    expected = {"invest": 0, "green": 1, "cadre": 2}
    assert fitted.labels_.tolist() == [expected[group] for group in GROUP_OF_UNIT]
    assert fitted.cluster_sizes_.tolist() == [5, 4, 3]
    assert fitted.k_ == 3


def test_cluster_terms_come_from_their_group(fitted):
    assert len(fitted.cluster_terms_) == 3
    for cluster, group in enumerate(["invest", "green", "cadre"]):
        pairs = fitted.cluster_terms_[cluster]
        assert len(pairs) == 5
        terms = [term for term, _ in pairs]
        assert set(terms) <= set(VOCAB[group])
        weights = [weight for _, weight in pairs]
        assert weights == sorted(weights, reverse=True)
        assert all(weight > 0 for weight in weights)
    # The filler shared by every unit has the lowest IDF and never tops a cluster.
    assert all(pairs[0][0] != "发展" for pairs in fitted.cluster_terms_)


def test_centroid_term_rows_are_distributions_over_terms(fitted):
    matrix = fitted.centroid_term_
    assert matrix.shape == (3, len(fitted.terms_))
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
    assert (matrix >= 0).all()
    # The heaviest term of each row is the first listed cluster term.
    for cluster, row in enumerate(matrix):
        assert fitted.terms_[int(np.argmax(row))] == fitted.cluster_terms_[cluster][0][0]
    # Terms of another group carry no weight.
    green_columns = [list(fitted.terms_).index(term) for term in GREEN]
    assert matrix[0, green_columns].sum() == 0


def test_learned_attributes(fitted):
    assert fitted.tfidf_.shape == (12, len(fitted.terms_))
    assert sorted(fitted.terms_.tolist()) == fitted.terms_.tolist()
    np.testing.assert_allclose(np.sqrt(fitted.tfidf_.multiply(fitted.tfidf_).sum(axis=1)).ravel(), 1.0)
    assert fitted.kmeans_.n_clusters == 3
    # kmeans_ was renumbered to match labels_.
    assert fitted.kmeans_.labels_.tolist() == fitted.labels_.tolist()
    assert list(fitted.silhouette_) == [3]
    assert fitted.silhouette_[3] > 0.3


def test_same_seed_same_result_and_init_only_stores():
    docs = planted_corpus()
    model = TfidfKMeans(k=None, k_range=(2, 5), random_state=3)
    assert not hasattr(model, "labels_")
    assert clone(model).get_params() == model.get_params()
    a = model.fit(docs)
    b = TfidfKMeans(k=None, k_range=(2, 5), random_state=3).fit(docs)
    assert a is model
    assert a.labels_.tolist() == b.labels_.tolist()
    assert a.silhouette_ == b.silhouette_
    assert a.cluster_terms_ == b.cluster_terms_
    np.testing.assert_array_equal(a.centroid_term_, b.centroid_term_)


def test_labels_do_not_depend_on_kmeans_numbering():
    """Different seeds give KMeans different raw numberings; the relabelled output agrees."""
    docs = planted_corpus()
    raw_numberings = set()
    labels = set()
    for seed in range(6):
        model = TfidfKMeans(k=3, random_state=seed, n_init=1).fit(docs)
        labels.add(tuple(model.labels_.tolist()))
        # Rebuild KMeans' own numbering with the same seed to show that it does vary.
        raw = KMeans(n_clusters=3, n_init=1, random_state=seed).fit(model.tfidf_).labels_
        raw_numberings.add(tuple(raw.tolist()))
    assert len(raw_numberings) > 1, "fixture too easy: KMeans numbering never varied"
    assert len(labels) == 1


def test_equal_sized_clusters_are_ordered_by_first_member():
    docs = [_unit(GREEN, 0), _unit(INVEST, 0), _unit(GREEN, 1), _unit(INVEST, 1)]
    for seed in range(4):
        assert TfidfKMeans(k=2, random_state=seed).fit(docs).labels_.tolist() == [0, 1, 0, 1]


def test_silhouette_chooses_k_inside_the_range():
    docs = planted_corpus()
    model = TfidfKMeans(k_range=(2, 6), random_state=5).fit(docs)
    assert list(model.silhouette_) == [2, 3, 4, 5, 6]
    assert model.k_ == 3  # the planted number of groups
    assert model.silhouette_[3] == max(model.silhouette_.values())
    assert len(model.cluster_terms_) == model.centroid_term_.shape[0] == 3


def test_k_range_is_capped_by_the_number_of_units():
    docs = planted_corpus()[:5]
    model = TfidfKMeans(k_range=(2, 12), random_state=0).fit(docs)
    assert list(model.silhouette_) == [2, 3, 4]  # a silhouette needs k < n_units
    assert 2 <= model.k_ <= 4
    with pytest.raises(ValueError, match="silhouette"):
        TfidfKMeans(k_range=(6, 8)).fit(docs)
    with pytest.raises(ValueError, match="k_range"):
        TfidfKMeans(k_range=(5, 3)).fit(docs)


def test_empty_token_lists_get_no_cluster_and_do_not_change_the_rest():
    docs = planted_corpus()
    with_empty = [[], *docs[:6], [], *docs[6:], []]
    base = TfidfKMeans(k=3, random_state=2).fit(docs)
    model = TfidfKMeans(k=3, random_state=2).fit(with_empty)
    assert model.labels_.shape == (15,)
    empty = [0, 7, 14]
    assert model.labels_[empty].tolist() == [NO_CLUSTER] * 3
    assert np.delete(model.labels_, empty).tolist() == base.labels_.tolist()
    assert model.tfidf_.shape[0] == 15
    assert model.tfidf_[empty].nnz == 0
    assert (model.tfidf_[1].toarray() == base.tfidf_[0].toarray()).all()
    np.testing.assert_array_equal(model.centroid_term_, base.centroid_term_)


def test_all_empty_is_a_clear_error():
    with pytest.raises(ValueError, match="units with tokens"):
        TfidfKMeans(k=2).fit([[], []])


def test_strings_instead_of_token_lists_are_refused():
    with pytest.raises(TypeError, match="token list"):
        TfidfKMeans(k=2).fit(["招商 项目", "生态 环保"])


def test_random_state_must_be_an_int():
    with pytest.raises(TypeError, match="random_state"):
        TfidfKMeans(k=2, random_state=None).fit(planted_corpus())


def test_predict_uses_the_relabelled_clusters(fitted):
    assert fitted.predict(planted_corpus()).tolist() == fitted.labels_.tolist()
    assert fitted.predict([["污染", "生态"], [], ["未知词"]]).tolist() == [1, NO_CLUSTER, NO_CLUSTER]


def test_pickle_round_trip(fitted):
    restored = pickle.loads(pickle.dumps(fitted))
    assert restored.vectorizer_.analyzer is identity_analyzer
    assert restored.predict(planted_corpus()).tolist() == fitted.labels_.tolist()


def test_the_config_reaches_the_clustering_through_its_factory():
    model = clusterer_from_config(ClusterConfig(k=None, k_range=[3, 5], top_n=4), seed=99)
    assert (model.k, model.k_range, model.top_n, model.random_state) == (None, (3, 5), 4, 99)
    fitted = model.fit(planted_corpus())
    assert all(len(pairs) == 4 for pairs in fitted.cluster_terms_)
    assert list(fitted.silhouette_) == [3, 4, 5]


def test_agreement_identical_partitions_with_other_names():
    a = ["green", "invest", "unassigned", "green", "invest"]
    b = ["x", "y", "z", "x", "y"]
    ari, _ = agreement(a, b)
    assert ari == pytest.approx(1.0)
    ari, table = agreement(a, a)
    assert ari == pytest.approx(1.0)
    assert (np.diag(table.to_numpy()) == [2, 2, 1]).all()


def test_agreement_cross_table_shape_and_order():
    a = ["unassigned", "invest", "green", "invest", "cadre", "unassigned"]
    b = ["invest", "invest", "unassigned", "green", "green", "unassigned"]
    ari, table = agreement(a, b)
    assert ari < 1.0
    assert table.index.tolist() == ["cadre", "green", "invest", "unassigned"]
    assert table.columns.tolist() == ["green", "invest", "unassigned"]
    assert table.index.name == "themes_a" and table.columns.name == "themes_b"
    assert table.shape == (4, 3)
    assert int(table.to_numpy().sum()) == len(a)
    assert table.loc["invest", "invest"] == 1
    assert table.loc["invest", "green"] == 1
    assert table.loc["unassigned", "unassigned"] == 1
    assert table.loc["unassigned", "invest"] == 1
    assert table.loc["green", "unassigned"] == 1


def test_agreement_lengths_must_match():
    with pytest.raises(ValueError, match="length"):
        agreement(["a", "b"], ["a"])


# ---------------------------------------------------------------- shared silhouettes, cached fits
def _noisy_corpus(n: int = 300, seed: int = 0) -> list[list[str]]:
    """Units mixing the three vocabularies, so that clusterings differ by k and the silhouettes are not round."""
    rng = np.random.default_rng(seed)
    vocabularies = [INVEST, GREEN, CADRE]
    docs = []
    for _ in range(n):
        main = vocabularies[rng.integers(3)]
        other = vocabularies[rng.integers(3)]
        docs.append([str(w) for w in rng.choice(main, 4)] + [str(w) for w in rng.choice(other, 2)] + ["发展"])
    return docs


def test_silhouettes_are_scikit_learns():
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = _noisy_corpus()
    model = TfidfKMeans(k_range=(2, 7), random_state=3).fit(docs)
    x = TfidfVectorizer(analyzer=identity_analyzer, token_pattern=None, lowercase=False).fit_transform(docs)
    for k, score in model.silhouette_.items():
        labels = KMeans(n_clusters=k, n_init=model.n_init, random_state=3).fit(x).labels_
        assert score == pytest.approx(float(silhouette_score(x, labels, metric="cosine")), abs=1e-12), k


def test_the_linear_silhouette_is_scikit_learns_in_the_corner_cases():
    """Rows of zeros, identical rows, a cluster of one row, negative entries, labels not 0..k-1."""
    rng = np.random.default_rng(4)
    x = sparse.random(60, 12, density=0.3, format="lil", random_state=2)
    x[5, :] = 0  # a row of zeros: cosine distance 1 to every row
    x[7, :] = x[8, :]  # identical rows: distance 0
    x = x.tocsr()
    signed = x.copy()
    signed.data = signed.data - 0.5  # cosine distances above 1
    labelings = {
        3: rng.integers(0, 3, size=60),
        4: np.r_[np.repeat([10, 20, 30], 19), [10, 20, 99]],  # 99: a cluster of one row
    }
    for matrix in (x, signed):
        scores = TfidfKMeans._silhouettes(matrix, labelings)
        for k, labels in labelings.items():
            assert scores[k] == pytest.approx(float(silhouette_score(matrix, labels, metric="cosine")), abs=1e-12)
    # fewer than two clusters, or as many as rows: no silhouette
    assert np.isnan(TfidfKMeans._silhouettes(x, {1: np.zeros(60, dtype=int)})[1])
    assert np.isnan(TfidfKMeans._silhouettes(x, {60: np.arange(60)})[60])


def test_the_default_chooses_k_by_silhouette():
    """With the default n_init, every k of the range is fitted and the highest silhouette wins."""
    docs = _noisy_corpus(seed=1)
    model = TfidfKMeans(k_range=(2, 6), random_state=20240601).fit(docs)
    assert model.n_init == ClusterConfig().n_init == 3
    assert model.kmeans_.n_init == 3
    assert list(model.silhouette_) == [2, 3, 4, 5, 6]
    best = max(model.silhouette_.values())
    assert model.k_ == min(k for k, score in model.silhouette_.items() if score == best)
    assert len(model.cluster_terms_) == model.k_ == len(model.cluster_sizes_)


def test_same_seed_gives_identical_labels_and_centroids_whatever_the_threads():
    """KMeans runs on one thread, so even the centroids' last bits do not depend on the cores."""
    from threadpoolctl import threadpool_limits

    docs = _noisy_corpus(n=600, seed=2)
    fits = []
    for threads in (1, 2, None):
        with threadpool_limits(limits=threads):
            fits.append(TfidfKMeans(k_range=(3, 6), random_state=7).fit(docs))
    first = fits[0]
    for other in fits[1:]:
        assert other.k_ == first.k_ and other.silhouette_ == first.silhouette_
        assert np.array_equal(other.labels_, first.labels_)
        assert other.kmeans_.cluster_centers_.tobytes() == first.kmeans_.cluster_centers_.tobytes()
        assert other.centroid_term_.tobytes() == first.centroid_term_.tobytes()
        assert other.cluster_terms_ == first.cluster_terms_


def test_n_init_comes_from_the_config_and_is_part_of_the_cache_key(tmp_path):
    docs = _noisy_corpus()
    model = clusterer_from_config(ClusterConfig(k=4, n_init=2), seed=1, memory=tmp_path)
    assert model.n_init == 2
    with pytest.raises(ValueError):
        ClusterConfig(n_init=0)
    model.fit(docs)
    TfidfKMeans(k=4, n_init=2, random_state=1, memory=tmp_path).fit(docs)  # the same fit: read back
    assert len(list((tmp_path / "kmeans").iterdir())) == 1
    refit = TfidfKMeans(k=4, n_init=5, random_state=1, memory=tmp_path).fit(docs)
    assert len(list((tmp_path / "kmeans").iterdir())) == 2
    assert refit.kmeans_.n_init == 5


def test_cached_kmeans_fits_are_read_back(tmp_path):
    docs = _noisy_corpus()
    plain = TfidfKMeans(k_range=(2, 6), random_state=1).fit(docs)
    cold = TfidfKMeans(k_range=(2, 6), random_state=1, memory=tmp_path).fit(docs)
    entries = sorted(p.name for p in (tmp_path / "kmeans").iterdir())
    assert len(entries) == 5
    for model in (cold, TfidfKMeans(k_range=(2, 6), random_state=1, memory=tmp_path).fit(docs)):
        assert model.silhouette_ == plain.silhouette_ and model.k_ == plain.k_
        assert np.array_equal(model.labels_, plain.labels_)
        assert np.array_equal(model.centroid_term_, plain.centroid_term_)
        assert model.cluster_terms_ == plain.cluster_terms_
    # a narrower range, or a fixed k, reads the fits it has (no new entry)
    narrow = TfidfKMeans(k_range=(3, 4), random_state=1, memory=tmp_path).fit(docs)
    assert narrow.silhouette_ == {k: plain.silhouette_[k] for k in (3, 4)}
    TfidfKMeans(k=5, random_state=1, memory=tmp_path).fit(docs)
    assert sorted(p.name for p in (tmp_path / "kmeans").iterdir()) == entries
    # another seed or other units are other fits
    TfidfKMeans(k=5, random_state=2, memory=tmp_path).fit(docs)
    TfidfKMeans(k=5, random_state=1, memory=tmp_path).fit(docs[:-1])
    assert len(list((tmp_path / "kmeans").iterdir())) == 7


def test_a_cached_kmeans_entry_is_what_is_used_and_a_damaged_one_is_not(tmp_path):
    from policytopics.cache import CacheStore

    docs = _noisy_corpus()
    plain = TfidfKMeans(k=4, random_state=1).fit(docs)
    TfidfKMeans(k=4, random_state=1, memory=tmp_path).fit(docs)
    store = CacheStore(tmp_path, "kmeans")
    (key,) = [p.name for p in store.folder.iterdir()]
    # rewrite the entry with another silhouette (and valid checksums): it is read back as stored
    kmeans = pickle.loads((store.path(key) / "kmeans.pkl").read_bytes())
    TfidfKMeans._write_kmeans(store, key, kmeans, 0.123)
    assert TfidfKMeans(k=4, random_state=1, memory=tmp_path).fit(docs).silhouette_ == {4: 0.123}
    # damage it behind the store's back: refitted, the true silhouette again
    (store.path(key) / "silhouette.json").write_text("0.5", encoding="utf-8")
    assert TfidfKMeans(k=4, random_state=1, memory=tmp_path).fit(docs).silhouette_ == plain.silhouette_


def test_the_silhouette_of_many_units_is_taken_on_a_seeded_sample():
    rng = np.random.default_rng(0)
    x = sparse.random(400, 50, density=0.1, format="csr", random_state=1)
    labels = {3: rng.integers(0, 3, size=400)}
    full = TfidfKMeans._silhouettes(x, labels)
    assert full[3] == pytest.approx(silhouette_score(x, labels[3], metric="cosine"), abs=1e-12)
    sampled = TfidfKMeans._silhouettes(x, labels, sample=100, seed=5)
    assert sampled == TfidfKMeans._silhouettes(x, labels, sample=100, seed=5)  # the seed fixes the sample
    assert sampled != TfidfKMeans._silhouettes(x, labels, sample=100, seed=6)
    assert sampled != full
    assert TfidfKMeans._silhouettes(x, labels, sample=400, seed=5) == full  # no more rows than the sample: all
