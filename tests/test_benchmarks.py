"""The benchmark scripts run end to end on a tiny input (timings are never asserted)."""

from __future__ import annotations

import importlib.util
import sys

from conftest import REPO_ROOT


def load(name):
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_tokenize_benchmark_runs_on_a_tiny_corpus(tmp_path):
    bench = load("bench_tokenize")
    assert bench.main(["--megabytes", "0.3", "--out", str(tmp_path)]) == 0
    table = (tmp_path / "tokenize.md").read_text(encoding="utf-8")
    assert "| cached |" in table and "cold, 1 worker" in table
    rows = (tmp_path / "tokenize.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("run,workers,units,characters")
    cached = rows[-1].split(",")
    assert cached[0] == "cached" and cached[5] == "0"  # nothing tokenised the second time


def test_repeated_texts_are_unique_and_reach_the_size():
    bench = load("bench_tokenize")
    texts = bench.repeated_texts(["招商引资", "民生工程"], 0.001)
    assert len(set(texts)) == len(texts)
    assert sum(len(t.encode("utf-8")) for t in texts) >= 1000


# -- bench_pipeline ------------------------------------------------------------------------------

_THEME_SENTENCES = [
    "开发区坚持招商引资，引进重大项目，优化营商环境，推动企业投资落地，招大引强取得新突破。",
    "我们持续改善民生，推进教育医疗养老服务，扩大就业，加强社会保障，提高居民收入水平。",
    "加强规划引领，统筹土地利用和基础设施建设，完善园区路网、供水供电和功能配套。",
    "全面加强干部队伍建设，严格落实党风廉政建设责任，改进工作作风，提升领导班子能力。",
    "推进生态环境保护，治理大气污染和水污染，发展绿色低碳产业，建设生态文明示范园区。",
    "深化体制机制改革，推进简政放权和放管服改革，激发市场主体活力，提高政务服务效率。",
    "做强主导产业，壮大产业集群，延伸产业链，推动产业升级和特色产业发展。",
    "全年地区生产总值增长百分之六，规模以上工业增加值稳步提高，经济总量迈上新台阶。",
]


def _tiny_corpus(folder):
    """Three short reports of eight paragraphs, every theme of the codebook present."""
    folder.mkdir()
    n = len(_THEME_SENTENCES)
    for report in range(3):
        paragraphs = [
            _THEME_SENTENCES[(report + i) % n] + _THEME_SENTENCES[(report + 3 * i + 1) % n] for i in range(8)
        ]
        (folder / f"城市{report}.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return folder


def test_pipeline_benchmark_runs_ours_and_the_reference_on_a_tiny_corpus(tmp_path):
    import csv

    bench = load("bench_pipeline")
    corpus = _tiny_corpus(tmp_path / "corpus")
    out = tmp_path / "out"
    argv = ["--quick", "--corpora", "scaled", "--scales", "1", "2", "--city", str(corpus),
            "--out", str(out), "--work", str(tmp_path / "work")]
    assert bench.main(argv) == 0

    with open(out / "pipeline.csv", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == bench.CSV_COLUMNS
        rows = list(reader)
    assert {(r["corpus"], r["pipeline"]) for r in rows} == {
        ("city-x1", "ours"), ("city-x1", "reference"), ("city-x2", "ours"), ("city-x2", "reference"),
    }
    assert {r["status"] for r in rows} == {"ok"}
    stages = {(c, p): {r["stage"] for r in rows if (r["corpus"], r["pipeline"]) == (c, p)}
              for c, p in {(r["corpus"], r["pipeline"]) for r in rows}}
    assert {"ingest", "clean", "segment", "tokenize", "model", "artifacts", "model/lda", "total", "wall"} <= stages[("city-x1", "ours")]
    assert {"ingest", "segment", "tokenize", "dictionary_bow", "lda", "tfidf_kmeans", "total", "wall"} <= stages[("city-x1", "reference")]
    wall = {(r["corpus"], r["pipeline"]): r for r in rows if r["stage"] == "wall"}
    for pipeline in ("ours", "reference"):
        # near-duplicate removal is off: twice the copies, twice the units
        assert int(wall[("city-x2", pipeline)]["units"]) == 2 * int(wall[("city-x1", pipeline)]["units"]) > 0
        assert float(wall[("city-x1", pipeline)]["peak_rss_main_mb"]) > 0
        assert float(wall[("city-x1", pipeline)]["peak_pss_tree_mb"]) > 0
    table = (out / "pipeline.md").read_text(encoding="utf-8")
    assert "| city-x2 |" in table and "ours / reference" in table and "Python" in table


def test_pipeline_benchmark_report_has_the_rerun_and_the_targets():
    bench = load("bench_pipeline")

    def measurement(pipeline, timings, wall, peak, corpus="city"):
        m = bench.Measurement(corpus, 1, pipeline, "", 6.8)
        m.wall = wall
        m.samples = [(0.0, int(peak * 1e6), int(peak * 1e6), int(peak * 1e6))]
        if pipeline == "reference":
            m.result = {"timings": timings, "marks": {}, "units": 9000, "peak_rss_mb": peak}
        else:
            m.result = {"timings": timings, "sections": {"model/lda": timings["model"] / 2}, "marks": [],
                        "started": 0.0, "imported": 1.0, "units": 8848, "peak_rss_mb": peak}
        return m

    ours = {"ingest": 1, "clean": 4, "segment": 1, "tokenize": 40, "model": 50, "artifacts": 4}
    rerun = {**ours, "tokenize": 1, "model": 10}
    reference = {"ingest": 1, "segment": 1, "tokenize": 150, "lda": 60, "tfidf_kmeans": 20, "artifacts": 1}
    rows = [row for m in (measurement("ours", ours, 101, 900), measurement("ours-rerun", rerun, 22, 800),
                          measurement("reference", reference, 234, 600),
                          measurement("ours", ours, 110, 2600, corpus="province"),
                          measurement("reference", reference, 240, 600, corpus="province"))
            for row in bench.rows_of(m, "abc1234")]
    header = {"machine": "2 cores", "commit": "abc1234", "dirty": "clean", "command": "x", "date": "today", "load": "1.0"}
    table = bench.markdown(rows, header)
    assert "## city: rerun with one model setting changed" in table and "lda.alpha=asymmetric" in table
    assert "ours-rerun (`lda.alpha=asymmetric`): **0.21**" in table  # 21 / 100 seconds of stages
    assert "## province: cold run per stage" in table
    assert "city, default config: cold run 101.0 s against the reference's 234.0 s (wall) = 0.43x" in table
    assert "(target at most 0.5x: met)" in table and "province, default config: cold run 110.0 s" in table
    assert "= 0.46x the reference's time (target at most 0.5x: met)" in table
    assert "province: peak PSS of the process tree 2,600 MB (target at most 2,500 MB: not met)" in table
    assert "city rerun with only `lda.alpha=asymmetric`: 22.0 s = 22% of the cold run (wall; target at most 35%: met)" in table
