"""The reference pipeline: what a researcher would write by hand, timed per stage.

Used by ``benchmarks/bench_pipeline.py`` as the yardstick for ``policytopics``: the same
corpus, the same dictionary, stopwords and POS filter, and the same model settings, written
the plain way with no cache, no cleaning, no parallelism and no model selection:

1. read every ``.txt`` file under the corpus folder (sorted, UTF-8), or every line's
   ``text`` of a ``.jsonl`` file (the province panel);
2. split each file into paragraphs at line breaks (empty lines dropped);
3. ``jieba.posseg.lcut`` per paragraph, with jieba's own dictionary plus our
   development-zone dictionary (``src/policytopics/resources/devzone_dict.txt``, added
   word by word with ``jieba.add_word``, as ``jieba.load_userdict`` would do, since that
   file holds ``#`` comments ``load_userdict`` does not accept); keep a word when its POS
   tag is in ``keep_pos``, it has at least ``min_chars`` characters and it is not one of
   our stopwords (``resources/stopwords_*.txt``);
4. (imports of gensim and scikit-learn, timed apart) gensim ``Dictionary`` + ``filter_extremes(no_below, no_above, keep_n)`` and ``doc2bow``;
5. gensim ``LdaModel`` with our ``lda`` settings (num_topics, alpha, eta, passes,
   iterations, chunksize = every paragraph when null, random_state = seed,
   ``eval_every=None`` as in ours);
6. the paragraph-topic matrix with ``get_document_topics(bow, minimum_probability=0)``;
7. scikit-learn ``TfidfVectorizer(analyzer=lambda x: x)`` on the paragraphs' in-vocabulary
   tokens and ``KMeans(k, random_state=seed, n_init=n_init)`` (our ``cluster.n_init``); with ``cluster.k`` null, k is
   chosen in ``cluster.k_range`` by cosine silhouette, as ours does;
8. ``doc_topic.csv`` (paragraphs x topics) and ``clusters.csv`` written with ``csv``.

Run as ``python benchmarks/reference_pipeline.py CORPUS OUT --settings JSON``; it writes
``OUT/doc_topic.csv``, ``OUT/clusters.csv`` and ``OUT/reference.json`` (seconds per stage,
counts, its own peak RSS).
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "src" / "policytopics" / "resources"

#: The settings the reference takes from our config (our defaults; bench_pipeline passes
#: the resolved values of the run it is compared with).
DEFAULT_SETTINGS = {
    "keep_pos": ["n", "nr", "ns", "nt", "nz", "nrt", "nrfg", "vn", "an", "eng"],
    "min_chars": 2,
    "no_below": 2,
    "no_above": 0.5,
    "keep_n": None,
    "num_topics": 12,
    "alpha": "symmetric",
    "eta": 0.01,
    "passes": 20,
    "iterations": 400,
    "chunksize": None,
    "seed": 20240601,
    "k": None,
    "k_range": [4, 12],
    "n_init": 10,
}


def _lines(path: Path) -> list[str]:
    return [
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def run(corpus: Path, out: Path, settings: dict, jieba_cache: Path | None = None) -> dict:
    """Run the reference pipeline on ``corpus``; write ``out``; return timings and counts."""
    timings: dict[str, float] = {}
    marks: dict[str, list[float]] = {}
    out.mkdir(parents=True, exist_ok=True)

    def stage(name: str, start: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - start, 4)
        marks[name] = [round(time.time() - (now - start), 3), round(time.time(), 3)]
        print(f"reference: {name} {timings[name]:.2f}s", file=sys.stderr, flush=True)
        with open(out / "progress.jsonl", "a", encoding="utf-8") as handle:  # read if the run is killed
            handle.write(json.dumps({"kind": "stage", "label": name, "start": marks[name][0],
                                     "end": marks[name][1], "seconds": timings[name]}) + "\n")
        return time.perf_counter()

    t = time.perf_counter()
    if corpus.suffix == ".jsonl":  # one JSON object a line, its text under "text"
        files = [corpus]
        texts = [json.loads(line)["text"] for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        files = sorted(corpus.rglob("*.txt"))
        texts = [path.read_text(encoding="utf-8") for path in files]
    t = stage("ingest", t)

    paragraphs: list[str] = []
    for text in texts:
        paragraphs.extend(line.strip() for line in text.splitlines() if line.strip())
    t = stage("segment", t)

    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)
    if jieba_cache is not None:  # a cold prefix-dictionary cache, like ours in a fresh cache dir
        jieba_cache.mkdir(parents=True, exist_ok=True)
        jieba.dt.tmp_dir = str(jieba_cache)
    jieba.initialize()
    for line in _lines(RESOURCES / "devzone_dict.txt"):
        parts = line.split()
        word = parts[0]
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        tag = parts[-1] if len(parts) > 1 and not parts[-1].isdigit() else None
        jieba.add_word(word, freq, tag)
    stopwords = set(_lines(RESOURCES / "stopwords_general.txt")) | set(_lines(RESOURCES / "stopwords_speech.txt"))
    keep_pos = set(settings["keep_pos"])
    min_chars = int(settings["min_chars"])
    t = stage("tokenize_setup", t)

    docs = []
    for paragraph in paragraphs:
        docs.append([
            pair.word for pair in jieba.posseg.lcut(paragraph)
            if pair.flag in keep_pos and len(pair.word) >= min_chars and pair.word not in stopwords
        ])
    t = stage("tokenize", t)

    from gensim.corpora import Dictionary
    from gensim.models import LdaModel
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import silhouette_score

    t = stage("imports", t)

    dictionary = Dictionary(docs)
    dictionary.filter_extremes(no_below=settings["no_below"], no_above=settings["no_above"], keep_n=settings["keep_n"])
    bow = [dictionary.doc2bow(doc) for doc in docs]
    t = stage("dictionary_bow", t)

    lda = LdaModel(
        corpus=bow,
        id2word=dictionary,
        num_topics=settings["num_topics"],
        alpha=settings["alpha"],
        eta=settings["eta"],
        passes=settings["passes"],
        iterations=settings["iterations"],
        chunksize=settings["chunksize"] or len(bow),
        random_state=settings["seed"],
        eval_every=None,
    )
    t = stage("lda", t)

    doc_topic = []
    for doc in bow:
        row = [0.0] * lda.num_topics
        for topic, share in lda.get_document_topics(doc, minimum_probability=0.0):
            row[topic] = share
        doc_topic.append(row)
    t = stage("lda_inference", t)

    vocabulary = set(dictionary.token2id)
    in_vocab = [[w for w in doc if w in vocabulary] for doc in docs]
    nonempty = [i for i, doc in enumerate(in_vocab) if doc]
    vectorizer = TfidfVectorizer(analyzer=lambda x: x)
    x = vectorizer.fit_transform([in_vocab[i] for i in nonempty])
    if settings["k"]:
        kmeans = KMeans(n_clusters=settings["k"], random_state=settings["seed"], n_init=settings["n_init"]).fit(x)
    else:
        best = None
        for k in range(settings["k_range"][0], min(settings["k_range"][1], len(nonempty) - 1) + 1):
            fit = KMeans(n_clusters=k, random_state=settings["seed"], n_init=settings["n_init"]).fit(x)
            score = silhouette_score(x, fit.labels_, metric="cosine")
            if best is None or score > best[0]:
                best = (score, fit)
        kmeans = best[1]
    labels = [-1] * len(docs)
    for i, label in zip(nonempty, kmeans.labels_):
        labels[i] = int(label)
    t = stage("tfidf_kmeans", t)

    with open(out / "doc_topic.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["paragraph", *[f"topic_{k}" for k in range(lda.num_topics)]])
        for i, row in enumerate(doc_topic):
            writer.writerow([i, *row])
    with open(out / "clusters.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["paragraph", "cluster"])
        writer.writerows(enumerate(labels))
    t = stage("artifacts", t)

    result = {
        "timings": timings,
        "marks": marks,
        "files": len(files),
        "texts": len(texts),
        "characters": sum(len(text) for text in texts),
        "megabytes_utf8": sum(path.stat().st_size for path in files) / 1e6,
        "units": len(paragraphs),
        "tokens": sum(len(doc) for doc in docs),
        "vocabulary": len(dictionary),
        "clusters": int(kmeans.n_clusters),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cpu_seconds": sum(
            getattr(resource.getrusage(who), field)
            for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
            for field in ("ru_utime", "ru_stime")
        ),
        "settings": settings,
    }
    (out / "reference.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="folder of .txt files, or a .jsonl file with a text field")
    parser.add_argument("out", type=Path, help="output folder")
    parser.add_argument("--settings", default="{}", help="JSON overriding DEFAULT_SETTINGS")
    parser.add_argument("--jieba-cache", type=Path, default=None, help="jieba's prefix-dictionary cache folder")
    args = parser.parse_args(argv)
    settings = {**DEFAULT_SETTINGS, **json.loads(args.settings)}
    run(args.corpus, args.out, settings, args.jieba_cache)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
