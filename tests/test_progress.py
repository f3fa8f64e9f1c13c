"""Progress bars: silent off a terminal, drawn where asked, and the sweep's bar counts each fit once."""

from __future__ import annotations

import functools
import io
import re

import pytest

from conftest import DEFAULT_CONFIG, SEEDS
from policytopics.clean import clean_sources
from policytopics.config import CleanConfig, FeaturesConfig, load_config
from policytopics.features import corpus_features
from policytopics.models.cluster import TfidfKMeans
from policytopics.models.lda import make_model
from policytopics.progress import PROGRESS_ENV, progress_bar, progress_callback
from policytopics.records import SourceText
from policytopics.sweep import FitPool, sweep
import model_fixtures


planted = model_fixtures.planted  # the planted-themes corpus (a fixture of the model tests)


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def automatic(monkeypatch):
    """Every test starts with the automatic setting (no POLICYTOPICS_PROGRESS)."""
    monkeypatch.delenv(PROGRESS_ENV, raising=False)


# ---------------------------------------------------------------- the helper


def test_a_bar_is_silent_when_the_stream_is_not_a_terminal():
    stream = io.StringIO()
    with progress_bar(10, "tokenise", "unit", stream=stream) as bar:
        bar.update(4)
        bar.update(6)
    assert bar.disable
    assert stream.getvalue() == ""


def test_a_bar_is_drawn_on_a_terminal():
    stream = Terminal()
    with progress_bar(10, "tokenise", "unit", stream=stream) as bar:
        bar.update(10)
        bar.refresh()
        assert "tokenise" in stream.getvalue() and "10/10" in stream.getvalue()


def test_a_forced_bar_writes_to_its_stream_and_reaches_its_total():
    stream = io.StringIO()  # not a terminal: shown only because it is forced on
    with progress_bar(5, "LDA fits", "fit", enabled=True, stream=stream) as bar:
        for _ in range(5):
            bar.update(1)
        bar.refresh()
        shown = stream.getvalue()
    assert bar.n == bar.total == 5
    assert "LDA fits" in shown and "5/5" in shown


@pytest.mark.parametrize("setting, stream_type, shown", [
    ("0", Terminal, False),   # forced off, even on a terminal (CI that fakes a TTY, tests)
    ("off", Terminal, False),
    ("1", io.StringIO, True),  # forced on, even into a pipe
    ("", Terminal, True),     # unset or empty: automatic
    ("", io.StringIO, False),
])
def test_the_environment_forces_bars_off_or_on(monkeypatch, setting, stream_type, shown):
    monkeypatch.setenv(PROGRESS_ENV, setting)
    stream = stream_type()
    with progress_bar(3, "clean", "text", stream=stream) as bar:
        bar.update(3)
    assert (stream.getvalue() != "") is shown


def test_an_explicit_setting_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv(PROGRESS_ENV, "1")
    stream = Terminal()
    with progress_bar(3, "clean", "text", enabled=False, stream=stream) as bar:
        bar.update(3)
    assert stream.getvalue() == ""


def test_the_callback_sets_the_total_and_moves_the_bar_to_done():
    bar = progress_bar(None, "ingest", "file", enabled=True, stream=io.StringIO())
    report = progress_callback(bar)
    report(1, 3, "a.txt")
    report(3, 3, "c.txt")
    report(3, 3, "c.txt")  # the same count again moves nothing
    assert (bar.n, bar.total) == (3, 3)
    bar.close()


# ---------------------------------------------------------------- the sweep's fits


def _factory():
    return functools.partial(make_model, passes=1, iterations=20)


def _fits_bar():
    return progress_bar(None, "LDA fits", "fit", enabled=True, stream=io.StringIO())


def test_the_sweep_bar_counts_every_worker_fit_once(planted, tmp_path):
    tasks = [(3, 1), (3, 2), (4, 1)]
    features = corpus_features(planted, FeaturesConfig(no_below=2, no_above=0.5), tmp_path)
    bar = _fits_bar()
    with FitPool(planted, features, _factory(), tasks, workers=2, cache_dir=tmp_path, progress=bar) as pool:
        assert pool.cached == 0 and bar.total == 3
        [pool.result(*task) for task in tasks]
        assert pool.fitted == 3
        assert bar.n == 3  # each fit once, though workers' callbacks and the wait both count
    assert bar.n == 3


def test_the_sweep_bar_counts_cached_fits_at_once_and_the_rest_as_they_are_fitted(planted, tmp_path):
    factory = _factory()
    sweep(planted, [3], [1, 2], factory, workers=1, cache_dir=tmp_path)  # two of the four fits cached
    features = corpus_features(planted, FeaturesConfig(no_below=2, no_above=0.5), tmp_path)
    tasks = [(3, 1), (3, 2), (4, 1), (4, 2)]
    bar = _fits_bar()
    with FitPool(planted, features, factory, tasks, workers=1, cache_dir=tmp_path, progress=bar) as pool:
        assert pool.cached == 2
        assert bar.n == 2  # before any fit: the cached ones are done
        [pool.result(*task) for task in tasks]
        assert pool.fitted == 2
        assert bar.n == bar.total == 4
        pool.model(4, 2)  # reading a model back is no new fit
    assert bar.n == 4
    bar = _fits_bar()
    with FitPool(planted, features, factory, tasks, workers=2, cache_dir=tmp_path, progress=bar) as pool:
        assert pool.cached == 4 and bar.n == 4  # all read: no worker, the bar full at once
        pool.result(4, 2)
    assert bar.n == 4


def test_the_sweep_rows_do_not_depend_on_the_bar(planted, tmp_path, monkeypatch):
    factory = _factory()
    monkeypatch.setenv(PROGRESS_ENV, "0")
    hidden = sweep(planted, [3], [1, 2], factory, workers=1)
    monkeypatch.setenv(PROGRESS_ENV, "1")
    shown = sweep(planted, [3], [1, 2], factory, workers=1)
    assert hidden == shown


# ---------------------------------------------------------------- other stages


def test_the_clustering_shows_a_bar_over_k_only_when_verbose(planted, capsys, monkeypatch):
    monkeypatch.setenv(PROGRESS_ENV, "1")  # even forced on, an estimator is quiet by default
    quiet = TfidfKMeans(k_range=(2, 4), random_state=0, n_init=1).fit(planted)
    assert "k-means" not in capsys.readouterr().err
    verbose = TfidfKMeans(k_range=(2, 4), random_state=0, n_init=1, verbose=True).fit(planted)
    assert "k-means" in capsys.readouterr().err
    assert verbose.labels_.tolist() == quiet.labels_.tolist()
    assert verbose.silhouette_ == quiet.silhouette_


def test_cleaning_reports_each_text():
    sources = [SourceText(source=f"{i}.txt", text="開發區招商", encoding="utf-8") for i in range(3)]
    calls = []
    cleaned = clean_sources(sources, CleanConfig(), progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert cleaned == clean_sources(sources, CleanConfig())


def test_the_corpus_stages_draw_bars_and_give_the_same_records(tmp_path, capsys, monkeypatch):
    from policytopics.pipeline import prepare_corpus

    # without the corpus cache, so that the second call runs the stages again (a cached rerun
    # reads the records back and has no cleaning or segmenting to show)
    config = load_config(DEFAULT_CONFIG, [f"corpus.path={SEEDS}", f"cache.dir={tmp_path}", "cache.enabled=false"])
    monkeypatch.setenv(PROGRESS_ENV, "0")
    hidden = prepare_corpus(config, {})
    quiet = capsys.readouterr().err  # log lines may be there (a handler of another test), bars may not
    assert not re.search(r"\d+/\d+ \[", quiet), quiet  # tqdm's "5/5 [00:00<00:00, ...]"
    monkeypatch.setenv(PROGRESS_ENV, "1")
    shown = prepare_corpus(config, {})
    drawn = capsys.readouterr().err
    assert all(stage in drawn for stage in ("ingest", "clean", "segment"))
    assert re.search(r"\d+/\d+ \[", drawn), drawn
    assert shown == hidden
