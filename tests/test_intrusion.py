"""Word and topic intrusion items from a small fake run folder, their scores, and answers CSVs."""

from __future__ import annotations

import csv
import json
import logging
import math
from pathlib import Path

import numpy as np
import pytest

from policytopics.intrusion import (
    KEY_COLUMNS,
    read_answers,
    score_intrusion,
    topic_intrusion_items,
    word_intrusion_items,
)
from policytopics.validation_inputs import LabelsError, RunFolderError

REPO_ROOT = Path(__file__).resolve().parents[1]

# ----------------------------------------------------------------------------- a fake run

#: The listed top 10 terms (topic_terms.csv) of the four topics. Planted overlaps:
#: "trap" is topic 0's top term and topic 1's 15th (beyond the listed 10: only model/ knows);
#: "a1" is in topic 0's top 5 and topic 2's listed top 10 (rank 8).
LISTED = {
    0: ["trap", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9"],
    1: [f"b{i}" for i in range(10)],
    2: ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "a1", "c7", "c8"],
    3: [f"d{i}" for i in range(10)],
}
VOCABULARY = ["trap", *[f"a{i}" for i in range(1, 10)], *[f"b{i}" for i in range(10)],
              *[f"c{i}" for i in range(10)], *[f"d{i}" for i in range(10)]]


def _full_ranking(topic: int) -> list[str]:
    """The topic's ranking of the whole vocabulary (what model/ holds)."""
    if topic == 1:
        head = LISTED[1] + ["c5", "c6", "c7", "c8", "trap", "c9", "d5", "d6", "d7", "d8"]
    else:
        head = list(LISTED[topic])
    return head + [term for term in VOCABULARY if term not in head]


THEMES = ["investment", "planning", "cadre", "economy", "reform"]
#: unit_id -> (theme label of the run, shares in THEMES order).
UNITS = {
    "d1-u0000": ("investment", [0.60, 0.20, 0.10, 0.06, 0.04]),
    "d1-u0001": ("planning", [0.05, 0.50, 0.05, 0.30, 0.10]),
    "d1-u0002": ("none", [0.20, 0.20, 0.20, 0.20, 0.20]),
    "d1-u0003": ("mixed", [0.30, 0.30, 0.20, 0.10, 0.10]),
    "d2-u0000": ("cadre", [0.01, 0.02, 0.90, 0.03, 0.04]),
    "d2-u0001": ("economy", [0.10, 0.15, 0.02, 0.70, 0.03]),
    "d2-u0002": ("reform", [0.0, 0.12, 0.08, 0.10, 0.70]),
    "d2-u0003": ("investment", [0.92, 0.02, 0.02, 0.02, 0.02]),
}
ASSIGNED = [unit_id for unit_id, (theme, _) in UNITS.items() if theme in THEMES]


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _write_codebook(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["version: 1", "themes:"]
    for theme in THEMES:
        lines += [
            f"  - id: {theme}",
            f"    label_zh: 标签{theme}",
            f"    label_en: {theme.title()}",
            f"    description: Passages about {theme}.",
            f"    keywords: [{theme}词一, {theme}词二]",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_run(root: Path, *, with_model: bool = False, codebook_entry: str | None = None) -> Path:
    """A run folder ``root/results/fake`` with the files intrusion items read (formats of results/default)."""
    run_dir = root / "results" / "fake"
    run_dir.mkdir(parents=True)
    codebook = root / "configs" / "themes" / "fake.yaml"
    _write_codebook(codebook)
    entry = codebook_entry if codebook_entry is not None else str(codebook)
    (run_dir / "config.resolved.yaml").write_text(
        f"seed: 7\nthemes:\n  codebook: {entry}\n  ids: null\n  min_theme_mass: 0.4\n", encoding="utf-8"
    )
    _write_csv(
        run_dir / "topics.csv",
        ["topic", "theme", "seeded", "share", "top_terms", "relevance_terms", "frex_terms", "c_npmi", "c_v", "u_mass"],
        [
            {"topic": topic, "theme": (THEMES[topic] if topic < 3 else "unassigned"), "seeded": "true",
             "share": "0.250000", "top_terms": " ".join(terms), "relevance_terms": " ".join(terms),
             "frex_terms": " ".join(terms), "c_npmi": "0.1", "c_v": "0.5", "u_mass": "-1.0"}
            for topic, terms in LISTED.items()
        ],
    )
    _write_csv(
        run_dir / "topic_terms.csv",
        ["topic", "rank", "term", "weight"],
        [
            {"topic": topic, "rank": rank, "term": term, "weight": f"{0.2 / rank:.6f}"}
            for topic, terms in LISTED.items()
            for rank, term in enumerate(terms, start=1)
        ],
    )
    share_columns = [f"theme_{theme}" for theme in THEMES]
    bounds = [f"theme_{name}_{bound}" for name in [*THEMES, "unassigned"] for bound in ("low", "high")]
    columns = ["unit_id", "doc_id", "position", "heading", "text", "n_chars", *share_columns, "theme_unassigned",
               *bounds, "theme", "theme_mass"]
    rows = []
    for unit_id, (theme, shares) in UNITS.items():
        row = {"unit_id": unit_id, "doc_id": unit_id.split("-")[0], "position": int(unit_id[-4:]), "heading": "",
               "text": f"第{unit_id}段，文字。\n第二行", "n_chars": 12, "theme": theme, "theme_mass": "0.800000",
               "theme_unassigned": "0.000000"}
        row.update({column: f"{share:.6f}" for column, share in zip(share_columns, shares, strict=True)})
        row.update({column: "0.000000" for column in bounds})
        rows.append(row)
    _write_csv(run_dir / "units.csv", columns, rows)
    if with_model:
        from gensim.corpora import Dictionary

        model = run_dir / "model"
        model.mkdir()
        dictionary = Dictionary([VOCABULARY])
        counts = np.zeros((len(LISTED), len(dictionary)))
        for topic in LISTED:
            for rank, term in enumerate(_full_ranking(topic)):
                counts[topic, dictionary.token2id[term]] = 10.0 * (len(VOCABULARY) - rank)
        np.save(model / "topic_term_counts.npy", counts)
        dictionary.save(str(model / "dictionary.gensim"))
    return run_dir


@pytest.fixture
def run_dir(tmp_path):
    return write_run(tmp_path)


def _intruders(run_dir: Path, topic: int, seeds: int = 200) -> set[str]:
    """Every intruder drawn for ``topic`` over ``seeds`` seeds (each of 15 candidates is missed
    with probability (14/15)^200 < 1e-5; the seeds are fixed, so the result is too)."""
    return {
        row["intruder"]
        for seed in range(seeds)
        for row in word_intrusion_items(run_dir, random_state=seed)[1]
        if row["topic"] == str(topic)
    }


def _hand_pool(topic: int, excluded: set[str], n_shown: int = 5) -> set[str]:
    return {term for other, terms in LISTED.items() if other != topic for term in terms[:n_shown]} - excluded


# ----------------------------------------------------------------------------- word intrusion


def test_word_items_show_top_terms_and_one_intruder_from_another_topic(run_dir):
    for seed in range(25):
        items, key = word_intrusion_items(run_dir, random_state=seed)
        assert [row["topic"] for row in key] == ["0", "1", "2", "3"]
        assert [item["item_id"] for item in items] == ["w001", "w002", "w003", "w004"]
        for item, row in zip(items, key, strict=True):
            topic = int(row["topic"])
            words = item["words"]
            assert item["kind"] == row["kind"] == "word_intrusion"
            assert len(words) == 6 and len(set(words)) == 6
            assert row["candidates"] == " ".join(words)
            assert row["intruder"] in words
            assert set(words) - {row["intruder"]} == set(LISTED[topic][:5])
            assert row["intruder"] not in LISTED[topic]  # all the run lists of this topic
            assert any(row["intruder"] in LISTED[other][:5] for other in LISTED if other != topic)
            assert row["shares"] == ""
    # a1 is high in topic 0 but listed (rank 8) in topic 2: never topic 2's intruder
    assert _intruders(run_dir, 2) == _hand_pool(2, set(LISTED[2]))
    assert "a1" not in _hand_pool(2, set(LISTED[2])) and "trap" in _hand_pool(2, set(LISTED[2]))


def test_word_items_are_seeded_and_shuffled(run_dir):
    first = word_intrusion_items(run_dir, n_per_topic=2, random_state=11)
    again = word_intrusion_items(run_dir, n_per_topic=2, random_state=11)
    assert first == again
    others = [word_intrusion_items(run_dir, n_per_topic=2, random_state=seed) for seed in range(12, 17)]
    assert any(other != first for other in others)
    # the intruder's position varies: not always appended after the top terms
    positions = {
        item["words"].index(row["intruder"])
        for seed in range(30)
        for item, row in zip(*word_intrusion_items(run_dir, random_state=seed), strict=True)
    }
    assert len(positions) > 3


def test_word_items_per_topic_have_distinct_intruders(run_dir):
    items, key = word_intrusion_items(run_dir, n_per_topic=3, n_words=4, random_state=5)
    assert len(items) == 12
    for topic in LISTED:
        rows = [row for row in key if row["topic"] == str(topic)]
        assert len(rows) == 3 and len({row["intruder"] for row in rows}) == 3
    for item, row in zip(items, key, strict=True):
        assert len(set(item["words"])) == 4
        assert set(item["words"]) - {row["intruder"]} == set(LISTED[int(row["topic"])][:3])


def test_model_folder_keeps_intruders_out_of_the_topics_top_20(tmp_path, caplog):
    plain = write_run(tmp_path / "plain")
    modelled = write_run(tmp_path / "modelled", with_model=True)
    # without model/, only the listed 10 terms can be excluded (and a warning says so): trap is possible
    with caplog.at_level(logging.WARNING, logger="policytopics"):
        word_intrusion_items(plain, random_state=0)
    assert "top 20" in caplog.text
    assert _intruders(plain, 1) == _hand_pool(1, set(LISTED[1]))
    assert "trap" in _hand_pool(1, set(LISTED[1]))
    # with model/, trap (topic 1's 15th term) is excluded, and nothing in any topic's top 20 is chosen
    expected = _hand_pool(1, set(_full_ranking(1)[:20]))
    assert expected == _hand_pool(1, set(LISTED[1])) - {"trap"}
    assert _intruders(modelled, 1) == expected
    for seed in range(20):
        _, key = word_intrusion_items(modelled, random_state=seed)
        for row in key:
            assert row["intruder"] not in _full_ranking(int(row["topic"]))[:20]


def test_word_items_errors(run_dir):
    with pytest.raises(RunFolderError, match="fewer than the 11"):
        word_intrusion_items(run_dir, n_words=12, exclude_top=20)
    with pytest.raises(ValueError, match="n_per_topic"):
        word_intrusion_items(run_dir, n_per_topic=50)
    (run_dir / "topic_terms.csv").unlink()
    with pytest.raises(RunFolderError, match="topic_terms.csv"):
        word_intrusion_items(run_dir)


# ----------------------------------------------------------------------------- topic intrusion


def test_topic_items_show_top_three_themes_and_a_low_share_intruder(run_dir):
    for seed in range(25):
        items, key = topic_intrusion_items(run_dir, len(ASSIGNED), random_state=seed)
        assert sorted(row["topic"] for row in key) == sorted(ASSIGNED)  # never a none or mixed unit
        for item, row in zip(items, key, strict=True):
            theme, shares = UNITS[row["topic"]]
            ids = [option["id"] for option in item["options"]]
            assert item["kind"] == row["kind"] == "topic_intrusion"
            assert item["text"] == f"第{row['topic']}段，文字。\n第二行"
            assert len(set(ids)) == 4 and row["candidates"] == " ".join(ids)
            assert [option["label"] for option in item["options"]] == [f"标签{i}" for i in ids]
            by_share = sorted(range(5), key=lambda index: (-shares[index], index))
            top3 = {THEMES[index] for index in by_share[:3]}
            assert set(ids) - {row["intruder"]} == top3 and row["intruder"] not in top3
            assert row["shares"].split() == [f"{shares[THEMES.index(i)]:.6f}" for i in ids]
            intruder_share = shares[THEMES.index(row["intruder"])]
            assert intruder_share == min(shares[index] for index in by_share[3:])  # the lowest (or tied)
            assert intruder_share <= shares[by_share[2]]
    # planted: d1-u0000's lowest outside the top 3 is reform (0.04 < economy 0.06); d1-u0001's
    # lower half is investment and cadre, tied at 0.05 (both drawn over seeds)
    intruders: dict[str, set[str]] = {}
    for seed in range(25):
        for row in topic_intrusion_items(run_dir, len(ASSIGNED), random_state=seed)[1]:
            intruders.setdefault(row["topic"], set()).add(row["intruder"])
    assert intruders["d1-u0000"] == {"reform"}
    assert intruders["d1-u0001"] == {"investment", "cadre"}
    assert intruders["d2-u0002"] == {"investment"}


def test_topic_items_are_seeded_sampled_and_keep_the_key_out(run_dir):
    items, key = topic_intrusion_items(run_dir, 3, random_state=4)
    assert (items, key) == topic_intrusion_items(run_dir, 3, random_state=4)
    samples = {tuple(row["topic"] for row in topic_intrusion_items(run_dir, 3, random_state=s)[1]) for s in range(10)}
    assert len(samples) > 1
    assert [item["item_id"] for item in items] == ["t001", "t002", "t003"]
    for item in items + word_intrusion_items(run_dir, random_state=4)[0]:
        assert set(item) <= {"item_id", "kind", "text", "options", "words"}
        for option in item.get("options", []):
            assert set(option) == {"id", "label"}
    text = json.dumps(items, ensure_ascii=False)
    for row in key:
        assert row["shares"] not in text and row["topic"] not in text.replace(f"第{row['topic']}段", "")
    with pytest.raises(ValueError, match="between 1 and 6"):
        topic_intrusion_items(run_dir, 7)


def test_topic_items_find_a_relative_codebook_from_the_run_folder(tmp_path, monkeypatch):
    run_dir = write_run(tmp_path, codebook_entry="configs/themes/fake.yaml")
    monkeypatch.chdir(tmp_path / "results")  # not the project folder: found from results/fake/../..
    items, _ = topic_intrusion_items(run_dir, 2, random_state=0)
    assert len(items) == 2
    (run_dir / "summary.json").write_text(json.dumps({"themes": THEMES[:4]}), encoding="utf-8")
    with pytest.raises(RunFolderError, match="the run used investment planning cadre economy"):
        topic_intrusion_items(run_dir, 2)
    (run_dir / "summary.json").write_text(json.dumps({"themes": THEMES}), encoding="utf-8")
    assert topic_intrusion_items(run_dir, 2, random_state=0)[0] == items
    (tmp_path / "configs" / "themes" / "fake.yaml").unlink()
    with pytest.raises(RunFolderError, match="codebook"):
        topic_intrusion_items(run_dir, 2)


# ----------------------------------------------------------------------------- scores


def _perfect(key):
    return [{"item_id": row["item_id"], "kind": row["kind"], "answer": row["intruder"]} for row in key]


def test_perfect_coder_scores_precision_one_and_log_odds_zero(run_dir):
    word_items, word_key = word_intrusion_items(run_dir, n_per_topic=2, random_state=1)
    _, topic_key = topic_intrusion_items(run_dir, 6, random_state=1)
    scores = score_intrusion(word_key + topic_key, _perfect(word_key + topic_key))
    words = scores["word_intrusion"]
    assert words["model_precision"] == 1.0 and words["n_items"] == words["n_answered"] == 8
    assert words["missing"] == []
    assert words["by_topic"] == {
        str(topic): {"n_items": 2, "n_answered": 2, "n_answers": 2, "model_precision": 1.0} for topic in LISTED
    }
    topics = scores["topic_intrusion"]
    assert topics["mean_log_odds"] == 0.0 and topics["n_answered"] == 6
    assert all(entry["log_odds"] == 0.0 for entry in topics["by_item"].values())


def test_highest_share_coder_gets_the_hand_log_odds(run_dir):
    _, key = topic_intrusion_items(run_dir, 6, random_state=2)
    answers, hand = [], {}
    for row in key:
        shares = dict(zip(row["candidates"].split(), map(float, row["shares"].split()), strict=True))
        top = max(shares, key=shares.get)
        answers.append({"item_id": row["item_id"], "kind": "topic_intrusion", "answer": top})
        hand[row["item_id"]] = math.log(max(shares[row["intruder"]], 1e-6)) - math.log(shares[top])
    scores = score_intrusion(key, answers)["topic_intrusion"]
    for item_id, value in hand.items():
        assert value < 0
        assert scores["by_item"][item_id]["log_odds"] == pytest.approx(value)
    assert scores["mean_log_odds"] == pytest.approx(sum(hand.values()) / len(hand))
    # by hand, the planted unit d1-u0000: intruder reform 0.04, top investment 0.60
    fixed = [{"item_id": "t001", "kind": "topic_intrusion", "topic": "d1-u0000", "intruder": "reform",
              "candidates": "cadre reform investment planning", "shares": "0.100000 0.040000 0.600000 0.200000"}]
    result = score_intrusion(fixed, [{"item_id": "t001", "kind": "topic_intrusion", "answer": "investment"}])
    assert result["topic_intrusion"]["mean_log_odds"] == pytest.approx(math.log(0.04 / 0.60))
    result = score_intrusion(fixed, [{"item_id": "t001", "kind": "topic_intrusion", "answer": "planning"}])
    assert result["topic_intrusion"]["by_item"]["t001"]["log_odds"] == pytest.approx(math.log(0.2))


def test_missing_answers_are_missing_not_wrong_and_coders_pool(run_dir):
    _, key = word_intrusion_items(run_dir, n_per_topic=2, random_state=6)
    wrong = next(word for word in key[1]["candidates"].split() if word != key[1]["intruder"])
    answers = [
        {"item_id": key[0]["item_id"], "kind": "word_intrusion", "answer": key[0]["intruder"]},
        {"item_id": key[1]["item_id"], "kind": "word_intrusion", "answer": wrong},
        {"item_id": key[2]["item_id"], "kind": "word_intrusion", "answer": ""},  # left empty
        {"item_id": "s001", "kind": "passage", "answer": "planning"},  # passages are not scored here
    ]
    scores = score_intrusion(key, answers)["word_intrusion"]
    assert scores["n_items"] == 8 and scores["n_answered"] == 2
    assert scores["missing"] == [row["item_id"] for row in key[2:]]
    assert scores["model_precision"] == 0.5
    assert scores["by_topic"]["0"] == {"n_items": 2, "n_answered": 2, "n_answers": 2, "model_precision": 0.5}
    assert scores["by_topic"]["1"] == {"n_items": 2, "n_answered": 0, "n_answers": 0, "model_precision": None}
    # two coders: on item 0 one right, one wrong; coder b also answers item 1 rightly
    wrong0 = next(word for word in key[0]["candidates"].split() if word != key[0]["intruder"])
    pooled = score_intrusion(key, {"a": answers, "b": [
        {"item_id": key[0]["item_id"], "kind": "word_intrusion", "answer": wrong0},
        {"item_id": key[1]["item_id"], "kind": "word_intrusion", "answer": key[1]["intruder"]},
    ]})
    assert pooled["n_coders"] == 2
    assert pooled["word_intrusion"]["by_topic"]["0"]["model_precision"] == 0.5
    assert pooled["word_intrusion"]["by_topic"]["0"]["n_answers"] == 4
    assert pooled["word_intrusion"]["model_precision"] == 0.5  # mean of items 0 (1/2) and 1 (1/2)
    # nothing answered: missing everywhere, no score
    empty = score_intrusion(key, [])
    assert empty["word_intrusion"]["model_precision"] is None and len(empty["word_intrusion"]["missing"]) == 8


def test_invalid_answers_raise_naming_the_item(run_dir):
    _, key = word_intrusion_items(run_dir, random_state=0)
    with pytest.raises(ValueError, match="w002.*not one of its candidates"):
        score_intrusion(key, [{"item_id": "w002", "kind": "word_intrusion", "answer": "nonsense"}])
    with pytest.raises(ValueError, match="w999"):
        score_intrusion(key, [{"item_id": "w999", "kind": "word_intrusion", "answer": "a1"}])
    with pytest.raises(ValueError, match="w001 is answered twice"):
        row = {"item_id": "w001", "kind": "word_intrusion", "answer": key[0]["intruder"]}
        score_intrusion(key, [row, row])
    _, topic_key = topic_intrusion_items(run_dir, 2, random_state=0)
    with pytest.raises(ValueError, match="t002"):
        score_intrusion(topic_key, [{"item_id": "t002", "kind": "topic_intrusion", "answer": "none"}])


def test_key_and_answers_round_trip_through_csv(run_dir, tmp_path):
    _, word_key = word_intrusion_items(run_dir, random_state=8)
    _, topic_key = topic_intrusion_items(run_dir, 4, random_state=8)
    key = word_key + topic_key
    key_path = tmp_path / "intrusion_key.csv"
    _write_csv(key_path, list(KEY_COLUMNS), key)
    with open(key_path, encoding="utf-8", newline="") as handle:
        read_key = list(csv.DictReader(handle))
    assert read_key == key
    answers_path = tmp_path / "answers.csv"
    answers = [dict(row, second="", note='a "quoted", note\nover lines') for row in _perfect(key)]
    _write_csv(answers_path, ["item_id", "kind", "answer", "second", "note"], answers)
    read = read_answers(answers_path)
    assert read == answers
    assert score_intrusion(read_key, read) == score_intrusion(key, _perfect(key))


# ----------------------------------------------------------------------------- answers CSV


def test_read_answers_formats_and_errors(tmp_path):
    new = tmp_path / "new.csv"
    new.write_text(
        "item_id,kind,answer,second,note\n"
        's001,passage,planning,economy,"roads, land"\n'
        "w001,word_intrusion,土地,,\n"
        "t001,topic_intrusion,cadre,,\n"
        "s002,passage,,,\n",
        encoding="utf-8",
    )
    rows = read_answers(new)
    assert [(r["item_id"], r["kind"], r["answer"], r["second"], r["note"]) for r in rows] == [
        ("s001", "passage", "planning", "economy", "roads, land"),
        ("w001", "word_intrusion", "土地", "", ""),
        ("t001", "topic_intrusion", "cadre", "", ""),
        ("s002", "passage", "", "", ""),
    ]
    legacy = tmp_path / "legacy.csv"
    legacy.write_text("\ufeffsample_id,theme,second,note\ns001,none,industry,farms\ns002,planning,,\n", encoding="utf-8")
    assert read_answers(legacy) == [
        {"item_id": "s001", "kind": "passage", "answer": "none", "second": "industry", "note": "farms"},
        {"item_id": "s002", "kind": "passage", "answer": "planning", "second": "", "note": ""},
    ]
    real = read_answers(REPO_ROOT / "validation" / "city-2024" / "coding" / "coder_a.csv")
    assert len(real) == 240 and {row["kind"] for row in real} == {"passage"}
    assert real[0]["item_id"] == "s001" and real[0]["answer"] == "none"

    cases = {
        "item_id,kind,second,note\ns001,passage,,\n": "missing columns answer",
        "sample_id,second,note\ns001,,\n": "missing columns theme",
        "id,theme\ns001,none\n": "missing columns item_id",
        "item_id,kind,answer\ns001,passage,none\ns001,passage,planning\n": "s001 is answered again",
        "sample_id,theme\ns001,none\ns001,none\n": "s001 is answered again",
        "item_id,kind,answer\ns001,essay,none\n": "kind 'essay'",
        "item_id,kind,answer\n,passage,none\n": "empty item id",
    }
    for number, (text, message) in enumerate(cases.items()):
        path = tmp_path / f"bad{number}.csv"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(LabelsError, match=message):
            read_answers(path)
    assert issubclass(LabelsError, ValueError)
    with pytest.raises(LabelsError, match="not found"):
        read_answers(tmp_path / "absent.csv")
