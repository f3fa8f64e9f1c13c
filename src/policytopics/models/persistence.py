"""Saving and loading fitted LDA models: model folders, and the cache of fits.

:func:`save_model` writes a fitted :class:`~policytopics.models.lda.LdaTopicModel` to a
folder (gensim's own files, numpy arrays and a JSON of its settings; the same fit gives the
same bytes anywhere); :func:`load_model` reads it back after checking, for a folder inside a
run folder, every file against the run's manifest. :func:`fit_cache_key`,
:func:`load_cached_fit` and :func:`save_cached_fit` keep fitted models in the cache
(:class:`policytopics.cache.CacheStore`), keyed by everything a fit depends on.

In: a fitted model and a folder (or a cache store and key). Out: the model's files, or the
model read back.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
from gensim.corpora import Dictionary
from gensim.models import LdaModel
from sklearn.utils.validation import check_is_fitted

from policytopics.cache import CacheStore, fingerprint
from policytopics.checksums import verify_artifacts
from policytopics.errors import ArtifactMismatchError
from policytopics.models import lda as _lda_module
from policytopics.models import variational as _variational_module
from policytopics.models.lda import LdaTopicModel, topic_term_from_state
from policytopics.provenance import environment_versions, source_hash

__all__ = ["fit_cache_key", "load_cached_fit", "load_model", "save_cached_fit", "save_model"]

logger = logging.getLogger("policytopics")

_SETTINGS_FILE = "settings.json"
_MODEL_FILE = "lda.gensim"
_DICTIONARY_FILE = "dictionary.gensim"
_DOC_TOPIC_FILE = "doc_topic.npy"
_COUNTS_FILE = "topic_term_counts.npy"
_FORMAT_VERSION = 1
#: Attributes gensim's save leaves on an object (removed so that a second save is identical).
_GENSIM_SAVE_MARKS = ("__numpys", "__scipys", "__ignoreds", "__recursive_saveloads")
_FIT_CACHE_FORMAT = 2
#: The code a fit depends on: a change to any of them is a new fit.
_FIT_SOURCES = (__file__, _lda_module.__file__, _variational_module.__file__)


def save_model(model: LdaTopicModel, folder: str | Path) -> Path:
    """Write the fitted model to ``folder`` (created if needed).

    Files: ``lda.gensim*`` (gensim's ``LdaModel.save``), ``dictionary.gensim``,
    ``doc_topic.npy``, ``topic_term_counts.npy`` and ``settings.json`` (the parameters
    and the keyword/theme attributes). The same fit saved twice, anywhere, gives the same
    bytes (gensim's lifecycle logs, which hold dates and paths, are switched off). gensim
    files are pickles: load only folders you trust.

    Returns
    -------
    Path
        The folder.

    Examples
    --------
    >>> model = LdaTopicModel(2, passes=2, no_above=1.0).fit([["规划", "土地"], ["企业", "产业"]] * 5)
    >>> folder = save_model(model, tmp_path / "lda")  # doctest: +SKIP
    >>> load_model(folder).num_topics  # doctest: +SKIP
    2
    """
    check_is_fitted(model, "model_")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # ignore=() makes gensim use its fixed list ['state', 'dispatcher', 'id2word'] (the
    # same attributes as the default) instead of a set, whose order varies with the hash seed
    model.model_.save(str(folder / _MODEL_FILE), ignore=())
    model.dictionary_.save(str(folder / _DICTIONARY_FILE))
    # gensim's save leaves its bookkeeping attributes on the dictionary, which the next
    # save would pickle into lda.gensim.id2word: remove them, so a second save is identical
    for name in _GENSIM_SAVE_MARKS:
        model.dictionary_.__dict__.pop(name, None)
    np.save(folder / _DOC_TOPIC_FILE, model.doc_topic_, allow_pickle=False)
    np.save(folder / _COUNTS_FILE, model.topic_term_counts_, allow_pickle=False)
    params = model.get_params()
    if params["seed_keywords"] is not None:
        params["seed_keywords"] = {theme: list(words) for theme, words in params["seed_keywords"].items()}
    settings = {
        "format_version": _FORMAT_VERSION,
        "params": params,
        "topic_theme": model.topic_theme_,
        "seed_keywords_used": model.seed_keywords_used_,
        "seed_keywords_missing": model.seed_keywords_missing_,
    }
    (folder / _SETTINGS_FILE).write_text(json.dumps(settings, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return folder

def load_model(folder: str | Path, *, check_manifest: bool | None = None) -> LdaTopicModel:
    """Read a model written by :func:`save_model`; ``transform`` gives the same bytes as before.

    A model saved with a run lives in the run folder's ``model/``, and the run's
    ``manifest.json`` records the SHA-256 of each of its files. Before anything is
    unpickled, every file of the folder is checked against those hashes
    (:func:`policytopics.checksums.verify_artifacts`): a model or dictionary file replaced
    by one of another run, a file the manifest does not list, or a listed file that is
    missing is an error, not a silently mixed model. Whatever the folder, the model, its
    dictionary and its matrices must then agree in their numbers of topics and terms.

    Parameters
    ----------
    folder : str or Path
        The model folder (e.g. ``results/default/model``), or a run folder holding one
        in ``model/``.
    check_manifest : bool, optional
        Check the files against the run's ``manifest.json`` (in the folder above).
        ``None`` (the default) checks whenever the folder is part of a run folder (the
        folder above holds ``manifest.json`` or ``config.resolved.yaml``); ``True``
        requires a manifest; ``False`` skips the check (cache entries, which carry their
        own checksums, and folders written by :func:`save_model` alone).

    Returns
    -------
    LdaTopicModel
        The fitted model.

    Raises
    ------
    ArtifactMismatchError
        If the files do not belong to the run their manifest describes (naming the
        files), the manifest is missing from a run folder, or the model, dictionary and
        matrices disagree.
    FileNotFoundError
        If the folder holds no saved model.

    Examples
    --------
    >>> model = load_model("results/default/model")  # doctest: +SKIP
    """
    folder = Path(folder)
    if not (folder / _SETTINGS_FILE).is_file() and (folder / "model" / _SETTINGS_FILE).is_file():
        folder = folder / "model"  # a run folder
    settings_path = folder / _SETTINGS_FILE
    if not settings_path.is_file():
        raise FileNotFoundError(f"{folder}: no {_SETTINGS_FILE}, not a saved LdaTopicModel")
    run_dir = folder.resolve().parent
    if check_manifest is None:
        check_manifest = (run_dir / "manifest.json").is_file() or (run_dir / "config.resolved.yaml").is_file()
    if check_manifest:
        verify_artifacts(run_dir, folder.resolve().name)
    settings = json.loads(settings_path.read_text(encoding="utf-8"))
    if settings.get("format_version") != _FORMAT_VERSION:
        raise ValueError(f"{settings_path}: unsupported format_version {settings.get('format_version')!r}")
    model = LdaTopicModel(**settings["params"])
    model.model_ = LdaModel.load(str(folder / _MODEL_FILE))
    model.dictionary_ = Dictionary.load(str(folder / _DICTIONARY_FILE))
    num_terms = len(model.dictionary_)
    model.vocabulary_ = [model.dictionary_[i] for i in range(num_terms)]
    model.term_frequency_ = np.array([model.dictionary_.cfs.get(i, 0) for i in range(num_terms)], dtype=np.int64)
    model.topic_theme_ = settings["topic_theme"]
    model.seed_keywords_used_ = settings["seed_keywords_used"]
    model.seed_keywords_missing_ = settings["seed_keywords_missing"]
    model.doc_topic_ = np.load(folder / _DOC_TOPIC_FILE, allow_pickle=False)
    model.topic_term_counts_ = np.load(folder / _COUNTS_FILE, allow_pickle=False)
    _check_loaded(model, folder)
    model.topic_term_ = topic_term_from_state(model.model_)
    return model

def _check_loaded(model: LdaTopicModel, folder: Path) -> None:
    """Raise ``ArtifactMismatchError`` unless the loaded parts describe one model."""
    num_topics, num_terms = int(model.model_.num_topics), int(model.model_.num_terms)
    problems = []
    if num_topics != model.num_topics:
        problems.append(f"{_MODEL_FILE} has {num_topics} topics, {_SETTINGS_FILE} {model.num_topics}")
    if len(model.dictionary_) != num_terms:
        problems.append(f"{_DICTIONARY_FILE} has {len(model.dictionary_)} terms, {_MODEL_FILE} {num_terms}")
    id2word = getattr(model.model_, "id2word", None)
    if id2word is not None and dict(id2word.token2id) != dict(model.dictionary_.token2id):
        problems.append(f"{_DICTIONARY_FILE} holds other terms than the vocabulary saved with {_MODEL_FILE}")
    if len(model.topic_theme_) != num_topics:
        problems.append(f"{_SETTINGS_FILE} names {len(model.topic_theme_)} topic themes for {num_topics} topics")
    if model.doc_topic_.ndim != 2 or model.doc_topic_.shape[1] != num_topics:
        problems.append(f"{_DOC_TOPIC_FILE} has shape {model.doc_topic_.shape}, not (units, {num_topics})")
    if model.topic_term_counts_.shape != (num_topics, num_terms):
        problems.append(f"{_COUNTS_FILE} has shape {model.topic_term_counts_.shape}, not ({num_topics}, {num_terms})")
    if problems:
        raise ArtifactMismatchError(f"{folder}: the saved model's files do not belong together: " + "; ".join(problems))




def fit_cache_key(model: LdaTopicModel, features_key: str) -> str:
    """The cache key of fitting the (unfitted) ``model`` on the features of ``features_key``.

    A hash of the features' key (itself a hash of the token lists and the ``features``
    settings), every parameter of the model (number of topics, seed, priors, training
    settings, the guided keywords in theme order and ``seed_weight``), the versions of gensim,
    numpy and scipy, and the code that fits and stores it (:data:`_FIT_SOURCES`: ``lda.py``,
    ``variational.py`` and this module): a cached fit is only ever used for exactly the fit it
    stands for.

    Parameters
    ----------
    model : LdaTopicModel
        The model to fit (only its parameters are read).
    features_key : str
        :func:`policytopics.features.features_key` of the units it is fitted on.

    Returns
    -------
    str
        A 64-character hex SHA-256.

    Examples
    --------
    >>> a = fit_cache_key(LdaTopicModel(8, random_state=1), "f" * 64)
    >>> a == fit_cache_key(LdaTopicModel(8, random_state=2), "f" * 64)
    False
    """
    params = model.get_params()
    keywords = params.pop("seed_keywords")
    # theme order is topic order: keywords as ordered pairs, not a mapping (whose keys are sorted)
    params["seed_keywords"] = None if keywords is None else [[theme, list(words)] for theme, words in keywords.items()]
    return fingerprint(
        "lda-fit", _FIT_CACHE_FORMAT, features_key, params,
        environment_versions("gensim", "numpy", "scipy"), [source_hash(path) for path in _FIT_SOURCES],
    )


def load_cached_fit(store: CacheStore, key: str) -> LdaTopicModel | None:
    """The fitted model stored under ``key`` (checksums verified), or ``None``.

    A model read back gives the same arrays, terms and saved bytes as the fit that was stored.

    Parameters
    ----------
    store : CacheStore
        The cache of fitted models.
    key : str
        The fit's cache key (:func:`fit_cache_key`).

    Returns
    -------
    LdaTopicModel or None
        The fitted model; ``None`` when there is no valid entry under ``key`` (a corrupt
        entry is deleted) or the entry cannot be read (a warning is logged), so that the
        caller fits the model again.

    Examples
    --------
    >>> import tempfile
    >>> store = CacheStore(tempfile.mkdtemp(), "lda")
    >>> load_cached_fit(store, "0" * 64) is None
    True
    >>> model = LdaTopicModel(2, passes=2, no_above=1.0).fit([["规划", "土地"], ["企业", "产业"]] * 5)
    >>> save_cached_fit(store, "k1", model)
    >>> bool((load_cached_fit(store, "k1").doc_topic_ == model.doc_topic_).all())
    True
    """
    entry = store.get(key)
    if entry is None:
        return None
    try:
        return load_model(entry, check_manifest=False)  # checksummed by the store
    except Exception as error:  # noqa: BLE001 - checksummed, so only an incompatible format
        logger.warning("cache: fitted model %s could not be read (%s); refitting", key[:12], error)
        return None


def save_cached_fit(store: CacheStore, key: str, model: LdaTopicModel) -> None:
    """Store a fitted model under ``key`` (see :func:`save_model`).

    Parameters
    ----------
    store : CacheStore
        The cache of fitted models.
    key : str
        The fit's cache key (:func:`fit_cache_key`); an entry of that key is replaced.
    model : LdaTopicModel
        A fitted model.

    Returns
    -------
    None

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``model`` is not fitted.

    Examples
    --------
    >>> import tempfile
    >>> store = CacheStore(tempfile.mkdtemp(), "lda")
    >>> model = LdaTopicModel(2, passes=2, no_above=1.0).fit([["规划", "土地"], ["企业", "产业"]] * 5)
    >>> save_cached_fit(store, "k1", model)
    >>> load_cached_fit(store, "k1").num_topics
    2
    """
    store.put(key, lambda folder: save_model(model, folder))
