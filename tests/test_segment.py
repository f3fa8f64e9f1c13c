"""Tests of policytopics.segment (and its helpers speeches, duplicates, outline,
segment_patterns): speeches -> documents -> near-duplicates -> units.

Fixtures: small hand-written texts inline, and texts derived from the seed corpus under
tests/data/segment/ (see the README there). None of them depends on clean.py.
"""

from __future__ import annotations

import doctest
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from policytopics import duplicates, outline, segment, segment_patterns, speeches
from policytopics.config import SegmentConfig
from policytopics.duplicates import shingle_similarity
from policytopics.records import CleanedText, Document, SourceText, Unit
from policytopics.segment import (
    mark_duplicates,
    segment_corpus,
    segment_document,
    source_stem,
    split_documents,
)

DATA = Path(__file__).parent / "data" / "segment"
CFG = SegmentConfig()


def cleaned(text: str, source: str = "x.txt", metadata: dict[str, str] | None = None):
    return CleanedText(SourceText(source, text, "utf-8", metadata or {}), text, {}, len(text))


def fixture(name: str) -> CleanedText:
    return cleaned((DATA / name).read_text(encoding="utf-8"), source=name)


def doc(text: str, doc_id: str = "d") -> Document:
    return Document(doc_id, f"{doc_id}.txt", "", text)


def shape(units: list[Unit], expected: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(heading, start of text) of each unit, the start as long as the expected one."""
    return [(u.heading, u.text[: len(e[1])]) for u, e in zip(units, expected)] + [
        (u.heading, u.text) for u in units[len(expected):]]


def units_of(text: str, **settings) -> list[Unit]:
    return segment_document(doc(text), SegmentConfig(**settings))


def assert_preserves_text(document: Document, units: list[Unit]) -> None:
    """Units are ordered, non-overlapping exact slices; gaps hold only whitespace and
    removed headings, each of which is a component of the next unit's heading path."""
    text = document.text
    cursor = 0
    boundaries = []
    for unit in units:
        assert unit.text and unit.text == unit.text.strip()
        start = text.find(unit.text, cursor)
        assert start >= 0, f"unit {unit.unit_id} is not a slice after offset {cursor}"
        boundaries.append((cursor, start, unit))
        cursor = start + len(unit.text)
    boundaries.append((cursor, len(text), None))
    for gap_start, gap_end, unit in boundaries:
        gap = re.sub(r"\s+", "", text[gap_start:gap_end])
        components = unit.heading.split(" > ") if unit is not None and unit.heading else []
        for component in components:
            assert component in text
        # what is left in the gap must be made of heading components of the next unit
        while gap:
            match = next((c for c in components if gap.startswith(re.sub(r"\s+", "", c))),
                         None)
            assert match is not None, f"text lost before {unit and unit.unit_id}: {gap[:40]}"
            gap = gap[len(re.sub(r"\s+", "", match)):]


# ------------------------------------------------------------------------------------
# doc ids
# ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "stem"),
    [
        ("000_c653e3a235d9673d.txt", "000_c653e3a235d9673d"),
        ("2019/a/000_x.txt", "2019__a__000_x"),
        ("speeches.csv#3", "speeches-r3"),
        ("sub/speeches.jsonl#12", "sub__speeches-r12"),
    ],
)
def test_source_stem(source, stem):
    assert source_stem(source) == stem


# ------------------------------------------------------------------------------------
# split_documents
# ------------------------------------------------------------------------------------


def test_split_pian_collection_from_seed_000():
    docs = split_documents(fixture("seed000_collection_excerpt.txt"), CFG)
    assert [d.doc_id for d in docs] == [
        "seed000_collection_excerpt-01",
        "seed000_collection_excerpt-02",
        "seed000_collection_excerpt-03",
    ]
    # the three share a title, so each is titled by its own header line
    assert [d.title for d in docs] == [f"开发区年终工作会议领导讲话 篇{n}" for n in (1, 2, 3)]
    assert docs[0].text.startswith("同志们：")
    assert docs[1].text.startswith("一、统一思想，提高认识")
    assert docs[2].text.startswith("同志们：")
    for d in docs:  # preamble (collection title) and headers are in no document
        assert "精选3篇" not in d.text
        assert not re.search(r"篇\s*\d", d.text)
        assert d.source == "seed000_collection_excerpt.txt"


def test_split_di_collection_from_seed_001():
    docs = split_documents(fixture("seed001_collection.txt"), CFG)
    assert [d.doc_id[-2:] for d in docs] == ["01", "02", "03", "04", "05"]
    assert [d.title for d in docs] == [  # 第四篇 and 第五篇 share a title: header lines it is
        "第一篇：某开发区环保工作年度总结",
        "第二篇：开发区工作总结",
        "第三篇：开发区去年工作总结",
        "第四篇：开发区年终工作总结",
        "第五篇：开发区年终工作总结",
    ]
    # title-repeat lines after the header are dropped (第三篇 has three of them)
    assert docs[0].text.startswith("开发区既要追求经济效益")
    assert docs[1].text.startswith("一、主要工作完成情况")
    assert docs[2].text.startswith("一年来，在省开发区管理办公室")
    assert docs[3].text.startswith("XX年是开发区")
    assert docs[4].text.startswith("2010年是开发区")
    assert all("篇：" not in d.text for d in docs)


def test_split_drops_title_repeat_glued_to_timestamp():
    text = (
        "第一篇：开发区去年工作总结\n开发区去年工作总结\n开发区去年工作总结2007-02-06 09:47:38\n"
        "开发区去年工作总结\n一年来，开发区经济稳步增长。\n"
        "第二篇：开发区工作总结\n开发区工作总结\n上半年，新签订8个项目。\n"
    )
    docs = split_documents(cleaned(text), CFG)
    assert [(d.title, d.text) for d in docs] == [
        ("开发区去年工作总结", "一年来，开发区经济稳步增长。"),
        ("开发区工作总结", "上半年，新签订8个项目。"),
    ]


def test_split_header_without_title_takes_next_line():
    text = "第一篇\n开发区工作总结\n今年工作顺利。\n第二篇\n环保工作总结\n今年环境改善。"
    docs = split_documents(cleaned(text), CFG)
    assert [(d.title, d.text) for d in docs] == [
        ("开发区工作总结", "今年工作顺利。"),
        ("环保工作总结", "今年环境改善。"),
    ]


def test_split_needs_a_numbered_run_of_two():
    # one header only, or headers out of order: not a collection
    for text in (
        "讲话稿 篇1\n同志们：今天开会。",
        "讲话 篇2\n同志们：今天开会。\n讲话 篇3\n同志们：明天开会。",
    ):
        docs = split_documents(cleaned(text, "a.txt"), CFG)
        assert len(docs) == 1 and docs[0].doc_id == "a"


def test_split_disabled_keeps_one_document():
    docs = split_documents(fixture("seed000_collection_excerpt.txt"),
                           SegmentConfig(split_speeches=False))
    assert len(docs) == 1
    assert docs[0].doc_id == "seed000_collection_excerpt"
    assert "篇2" in docs[0].text and "篇3" in docs[0].text


def test_split_copies_metadata_and_ids_from_source():
    text = "讲话 篇1\n今天开会。\n讲话 篇2\n明天开会。"
    docs = split_documents(cleaned(text, "2020/talks.csv#7", {"year": "2020"}), CFG)
    assert [d.doc_id for d in docs] == ["2020__talks-r7-01", "2020__talks-r7-02"]
    assert all(d.metadata == {"year": "2020"} and d.source == "2020/talks.csv#7" for d in docs)
    assert all(d.duplicate_of == "" for d in docs)


def test_single_speech_title_from_leading_lines():
    text = (
        "经济开发区20XX年计划总结\n经济开发区2014计划总结\n深化改革创新推进四大工程\n"
        "再创开发区率先发展新优势\n贯彻党的十八届三中全会精神，回顾总结开发区工作。\n"
        "一、充分肯定成绩，增强发展信心\n过去的一年，开发区发展势头良好。"
    )
    (d,) = split_documents(cleaned(text, "003.txt"), CFG)
    assert d.doc_id == "003"
    assert d.title == ("经济开发区20XX年计划总结 经济开发区2014计划总结 "
                       "深化改革创新推进四大工程 再创开发区率先发展新优势")
    assert d.text.startswith("贯彻党的十八届三中全会精神")


def test_single_speech_title_glued_before_salutation_seed_002():
    (d,) = split_documents(fixture("seed002_oneline.txt"), CFG)
    assert d.doc_id == "seed002_oneline"
    assert d.title == "高新区上半年工作总结和下半年工作部署大会领导讲话稿"
    assert d.text.startswith("同志们：这次半年工作总结会")


def test_single_speech_title_space_then_salutation_seed_004():
    (d,) = split_documents(fixture("seed004_oneline.txt"), CFG)
    assert d.title == "经济技术开发区上半年工作总结大会领导讲话稿"
    assert d.text.startswith("同志们： 经党工委、管委会研究决定")


def test_single_speech_without_title():
    for text in ("同志们：今天我们召开大会。\n一、总体情况\n经济平稳。",
                 "各位领导、同志们：今天我们召开大会。"):
        (d,) = split_documents(cleaned(text), CFG)
        assert d.title == "" and d.text == text


# ------------------------------------------------------------------------------------
# mark_duplicates
# ------------------------------------------------------------------------------------


def test_seed_001_duplicate_article_is_flagged_and_nothing_else():
    docs = mark_duplicates(split_documents(fixture("seed001_collection.txt"), CFG), CFG)
    flagged = [(d.doc_id, d.duplicate_of) for d in docs if d.duplicate_of]
    assert flagged == [("seed001_collection-05", "seed001_collection-04")]
    reason = docs[4].duplicate_reason
    assert "5-gram" in reason and ">= 0.80" in reason and "containment" in reason
    jaccard, containment = shingle_similarity(docs[3].text, docs[4].text)
    assert containment >= 0.8 > jaccard  # the second copy is truncated
    assert docs[:4] == split_documents(fixture("seed001_collection.txt"), CFG)[:4]


def test_page_break_copy_is_flagged_by_jaccard():
    docs = split_documents(fixture("seed001_collection.txt"), CFG)
    original = docs[3]
    lines = original.text.split("\n")
    paged = "\n".join(
        f"{line}\n- {i} -" if i % 7 == 0 else line for i, line in enumerate(lines)
    )
    copy = Document("copy", "copy.txt", original.title, paged.replace("XX年", "2009年", 1))
    other = docs[2]  # a different work report of the same genre
    result = mark_duplicates([original, other, copy], CFG)
    assert [d.duplicate_of for d in result] == ["", "", original.doc_id]
    assert re.fullmatch(r"char 5-gram Jaccard 0\.\d\d >= 0\.80", result[2].duplicate_reason)


def test_same_genre_speeches_are_not_duplicates():
    d002 = split_documents(fixture("seed002_oneline.txt"), CFG)[0]
    d004 = split_documents(fixture("seed004_oneline.txt"), CFG)[0]
    docs = split_documents(fixture("seed001_collection.txt"), CFG)[:4] + [d002, d004]
    result = mark_duplicates(docs, CFG)
    assert all(d.duplicate_of == "" for d in result)
    assert result == docs


def test_duplicates_point_to_the_first_kept_document():
    body = ("今年以来，开发区坚持项目立区，招商引资实现新突破，"
            "全年新引进项目六十个，完成固定资产投资一百二十亿元。") * 4
    docs = [doc(body, "a"), doc("完全不同的一篇讲话，讲的是环境保护工作。" * 5, "b"),
            doc(body + "谢谢大家！", "c"), doc(body.replace("六十", "六十一"), "e")]
    result = mark_duplicates(docs, CFG)
    assert [d.duplicate_of for d in result] == ["", "", "a", "a"]
    assert [d.doc_id for d in result] == ["a", "b", "c", "e"]
    assert result[2].text == docs[2].text and result[2].title == docs[2].title


def test_threshold_is_respected():
    base = "".join(f"第{i}项工作完成投资{i * 7}亿元，同比增长{i}个百分点。" for i in range(40))
    half = base[: len(base) // 2] + "".join(
        f"另有{i}个项目正在洽谈，预计引资{i * 3}亿元。" for i in range(20))
    jaccard, containment = shingle_similarity(base, half)
    assert 0.3 < jaccard < 0.8 and containment < 0.8
    docs = [doc(base, "a"), doc(half, "b")]
    assert mark_duplicates(docs, SegmentConfig(duplicate_threshold=0.8))[1].duplicate_of == ""
    low = mark_duplicates(docs, SegmentConfig(duplicate_threshold=0.3))[1]
    assert low.duplicate_of == "a" and ">= 0.30" in low.duplicate_reason


def test_deduplicate_disabled_returns_documents_unchanged():
    docs = [doc("一模一样的讲话内容，一模一样的讲话内容。", "a"),
            doc("一模一样的讲话内容，一模一样的讲话内容。", "b")]
    assert mark_duplicates(docs, SegmentConfig(deduplicate=False)) == docs
    assert mark_duplicates(docs, CFG)[1].duplicate_of == "a"


def test_shingles_ignore_whitespace():
    assert shingle_similarity("开发区 经济\n快速发展", "开发区经济快速发展") == (1.0, 1.0)
    assert shingle_similarity("", "开发区经济") == (0.0, 0.0)


def test_duplicates_are_deterministic_across_processes():
    code = (
        "import json, pathlib\n"
        "from policytopics.config import SegmentConfig\n"
        "from policytopics.records import CleanedText, SourceText\n"
        "from policytopics.duplicates import shingle_hashes\n"
        "from policytopics.segment import split_documents, mark_duplicates\n"
        f"t = pathlib.Path({str(DATA / 'seed001_collection.txt')!r}).read_text()\n"
        "c = CleanedText(SourceText('s.txt', t, 'utf-8'), t, {}, len(t))\n"
        "docs = mark_duplicates(split_documents(c, SegmentConfig()), SegmentConfig())\n"
        "print(json.dumps([[d.duplicate_of, d.duplicate_reason] for d in docs]"
        " + [shingle_hashes(t)[:5].tolist()]))\n"
    )
    outputs = []
    for seed in ("0", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, check=True)
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1]
    assert outputs[0][4][0] == "s-04"


# ------------------------------------------------------------------------------------
# segment_document
# ------------------------------------------------------------------------------------


def test_paragraphs_become_units_with_ids_and_positions():
    text = ("今年以来，开发区经济运行总体平稳，主要指标好于预期。\n\n"
            "招商引资取得新突破，全年新引进项目六十个，总投资一百亿元。\n"
            "民生事业全面进步，新建学校两所、社区卫生服务中心三个。")
    units = segment_document(doc(text, "000_x-02"), CFG)
    assert [u.text for u in units] == text.replace("\n\n", "\n").split("\n")
    assert [u.position for u in units] == [0, 1, 2]
    assert [u.unit_id for u in units] == ["000_x-02-u0000", "000_x-02-u0001", "000_x-02-u0002"]
    assert all(u.doc_id == "000_x-02" and u.heading == "" for u in units)


def test_units_refer_to_their_documents_text_instead_of_copying_it():
    document = doc("招商引资取得新突破，全年新引进项目六十个，总投资一百亿元。\n"
                   "民生事业全面进步，新建学校两所、社区卫生服务中心三个。", "d")
    units = segment_document(document, CFG)
    assert len(units) == 2
    assert all(u.document_text is document.text for u in units)
    assert [u.n_chars for u in units] == [len(u.text) for u in units] == [29, 27]
    # equal to a unit built by hand from its text alone, and hashed alike
    by_hand = Unit("d-u0001", "d", 1, "", "民生事业全面进步，新建学校两所、社区卫生服务中心三个。")
    assert units[1] == by_hand and hash(units[1]) == hash(by_hand) and units[0] != by_hand
    assert "document_text" not in repr(units[1]) and "民生事业" in repr(units[1])


@pytest.mark.parametrize("start, end", [(-1, 3), (2, 1), (0, 99)])
def test_a_unit_span_outside_its_text_is_refused(start, end):
    with pytest.raises(ValueError, match="outside its text"):
        Unit("d-u0000", "d", 0, "", "推进招商引资。", start, end)


def test_heading_paths_nest_and_reset():
    text = (
        "同志们，下面我讲三点意见，请大家认真抓好落实。\n"
        "一、充分肯定成绩，增强发展信心\n"
        "过去的一年，开发区经济社会发展取得了显著成绩。\n"
        "（一）抓项目，调结构、壮实力、上水平，构建现代产业体系。今年项目工作的目标是引进亿元以上项目三十个。\n"
        "1、科技创新实现新突破。我们全面启动了人才港和科技港建设。\n"
        "2、产业发展再上新台阶。全年实现规模以上工业产值一千亿元。\n"
        "（二）保民生。继续巩固深化创建活动成果，提高公共服务水平。\n"
        "二、抓住三个重点，就是要集中力量上项目、保民生、抓规划\n"
        "志当存高远，厚积而薄发，要伏下身子一步一个脚印地干事业。\n"
        "（一）抓规划。合理利用有限的公共资源，严禁各类违反规划行为。"
    )
    units = units_of(text)
    expected = [
        ("", "同志们，下面我讲"),
        ("一、充分肯定成绩，增强发展信心", "过去的一年，开发"),
        ("一、充分肯定成绩，增强发展信心 > （一）抓项目，调结构、壮实力、上水平，构建现代产业体系",
         "（一）抓项目，调结"),
        ("一、充分肯定成绩，增强发展信心 > （一）抓项目，调结构、壮实力、上水平，构建现代产业体系"
         " > 1、科技创新实现新突破", "1、科技创新实现新"),
        ("一、充分肯定成绩，增强发展信心 > （一）抓项目，调结构、壮实力、上水平，构建现代产业体系"
         " > 2、产业发展再上新台阶", "2、产业发展再上新"),
        ("一、充分肯定成绩，增强发展信心 > （二）保民生", "（二）保民生。继续"),
        ("二、抓住三个重点，就是要集中力量上项目、保民生、抓规划", "志当存高远，厚积而"),
        ("二、抓住三个重点，就是要集中力量上项目、保民生、抓规划 > （一）抓规划", "（一）抓规划。合理"),
    ]
    assert shape(units, expected) == expected
    # the standalone heading lines are no units of their own
    assert all(not u.text.startswith(("一、", "二、")) for u in units)
    assert_preserves_text(doc(text), units)


def test_half_width_markers_and_inner_points_at_line_start():
    text = (
        "一、工作总结\n"
        "(一)尽全力帮扶企业应对危机\n"
        "一是建立帮扶企业机制。成立应对金融危机领导小组，深入重点企业走访调研。\n"
        "二是出台并落实多项扶持措施。建立开发区绿色审批通道，加快了项目审批进度。\n"
        "一系列政策措施极大地增强了企业在开发区加快发展的信心和决心。\n"
        "(二)全方位促进项目落地建设\n"
        "1.加大项目引进力度。瞄准高端产业、龙头项目，加强项目信息搜集。"
    )
    headings = [u.heading for u in units_of(text)]
    assert headings == [
        "一、工作总结 > (一)尽全力帮扶企业应对危机 > 一是建立帮扶企业机制",
        "一、工作总结 > (一)尽全力帮扶企业应对危机 > 二是出台并落实多项扶持措施",
        "一、工作总结 > (一)尽全力帮扶企业应对危机",  # a new paragraph closes 二是
        "一、工作总结 > (二)全方位促进项目落地建设 > 1.加大项目引进力度",
    ]


def test_false_markers_are_not_headings():
    text = (
        "一、经济运行情况\n"
        "2.9倍的增长来自新项目投产，全年完成投资一百亿元，是上年的两倍多。\n"
        "1-6月累计实现技工贸总收入805亿元，同比增长百分之十二。\n"
        "10.44个百分点的差距说明我们的投资增速高于全市平均水平。\n"
        "3亿元以上项目共有十二个，其中工业项目九个、服务业项目三个。\n"
        "2023.4.18召开了项目推进会，一、二季度共开工项目二十个。\n"
        "这是开发区唯一的选择，其中之一是加快项目建设，统一思想是前提。"
    )
    units = units_of(text)
    assert len(units) == 6
    assert {u.heading for u in units} == {"一、经济运行情况"}
    assert units[0].text.startswith("2.9倍")


def test_lone_inner_point_in_running_text_is_not_cut_nor_heading():
    text = ("（一）要全力以赴保增长。当前要推动经济回暖，必须发挥超常力度，一是激活存量，"
            "加大两帮两促工作力度，强化要素供给和金融服务。")
    units = units_of(text)
    assert len(units) == 1
    assert units[0].heading == "（一）要全力以赴保增长"


def test_markers_in_running_text_must_continue_a_run():
    # one long line with sections inside it (a speech stored as one line)
    text = (
        "同志们：下面讲两点意见。一、关于项目建设。今年新开工项目二十个，完成投资五十亿元。"
        "一是项目数量创历史新高，这是全区上下共同努力的结果。"
        "(一)工业项目。新开工工业项目十二个，总投资三十亿元。"
        "3、要抓好安全生产，确保不发生重大事故。4、要抓好环境保护，确保达标排放。"
        "二、关于民生工作。新建学校两所，改造老旧小区十个，群众满意度明显提高。"
    )
    units = units_of(text)
    expected = [
        ("", "同志们："),
        # a lone 一是 inside running text: neither a cut nor a heading
        ("一、关于项目建设", "一、关于项目建设。今年新开工项目二十个，完成投资五十亿元。一是项目数量"),
        # 3、 and 4、 do not start at 1: not outline markers
        ("一、关于项目建设 > (一)工业项目", "(一)工业项目。新开工工业项目十二个，总投资三十亿元。3、"),
        ("二、关于民生工作", "二、关于民生工作。"),
    ]
    assert shape(units, expected) == expected
    assert len(units) == 4
    assert_preserves_text(doc(text), units)


def test_inline_heading_glued_to_body_and_bare_headings():
    text = (
        "同志们：下面，我先讲三点意见。一、上半年工作基本情况(一)经济运行态势企稳回升。"
        "上半年，工业经济自二季度开始降幅逐月收窄，1-6月实现总收入805亿元。"
        "(二)产业聚集效应持续增强。招商引资工作加大力度，新引进项目三十个。"
        "二、当前的困难和问题上半年，各级各部门作了大量工作，取得了明显成效。"
        "首先来自于外部：一是宏观经济形势不容乐观，市场需求持续疲软。"
        "二是区域经济竞争愈演愈烈，其他园区增速都比我们快。"
        "三、下半年工作思路与措施下半年，我们要紧咬全年目标任务不放松。"
        "(一)要千方百计优环境。一是优化城市综合环境，推进美丽园区三年行动计划。"
        "二是优化社会民生环境，加强和创新社会管理。"
    )
    units = units_of(text)
    expected = [
        ("", "同志们：下面，我先"),
        ("一、上半年工作基本情况 > (一)经济运行态势企稳回升", "(一)经济运行态势企"),
        ("一、上半年工作基本情况 > (二)产业聚集效应持续增强", "(二)产业聚集效应持"),
        ("二、当前的困难和问题", "二、当前的困难和问题"),
        ("二、当前的困难和问题", "一是宏观经济形势不"),
        ("二、当前的困难和问题", "二是区域经济竞争愈"),
        ("三、下半年工作思路与措施", "三、下半年工作思路"),
        # (一) has no body before 一是: the heading is not cut off from its first point
        ("三、下半年工作思路与措施 > (一)要千方百计优环境", "(一)要千方百计优环"),
        ("三、下半年工作思路与措施 > (一)要千方百计优环境", "二是优化社会民生环"),
    ]
    assert shape(units, expected) == expected
    assert_preserves_text(doc(text), units)


@pytest.mark.parametrize("name", ["seed002_oneline.txt", "seed004_oneline.txt"])
def test_one_line_speeches_are_cut_into_many_units(name):
    (document,) = split_documents(fixture(name), CFG)
    assert "\n" not in document.text and len(document.text) > 4000
    units = segment_document(document, CFG)
    assert len(units) >= 15
    assert max(u.n_chars for u in units) < CFG.max_unit_chars
    assert min(u.n_chars for u in units) >= CFG.min_unit_chars
    assert_preserves_text(document, units)


def test_one_line_seed_002_headings():
    (document,) = split_documents(fixture("seed002_oneline.txt"), CFG)
    headings = [u.heading for u in segment_document(document, CFG)]
    assert headings[0] == ""
    assert headings[1] == "一、上半年工作基本情况 > (一)经济运行态势企稳回升"
    assert "一、上半年工作基本情况 > (七)基础工作和队伍建设得到夯实" in headings
    assert "二、当前的困难和问题" in headings
    assert "三、下半年工作思路与措施 > (二)要争分夺秒促建设" in headings
    assert not any("1-6月" in h or "一是" in h for h in headings)


def test_one_line_seed_004_headings_and_false_markers():
    (document,) = split_documents(fixture("seed004_oneline.txt"), CFG)
    units = segment_document(document, CFG)
    assert {u.heading for u in units} == {
        "",
        "一、关于对上半年工作的客观评价",
        "二、进一步解放思想，扩大开放，推动开发区的持续健康开展",
    }
    assert any("2.9倍" in u.text for u in units)
    assert not any(u.text.startswith(("9倍", "8倍", "1倍")) for u in units)


def test_long_unit_cut_at_inner_points_then_sentences():
    points = "".join(
        f"{n}是{'加快推进重点项目建设，' * 3}确保项目按期投产见效。{'强化服务保障，优化营商环境。' * 28}"
        for n in "一二三四"
    )
    text = "（一）要争分夺秒促建设。项目建设是生命线。" + points
    assert len(text) > 1500
    units = units_of(text)
    assert all(u.n_chars < 1500 for u in units)
    assert [u.text[:2] for u in units] == ["（一", "一是", "二是", "三是", "四是"]
    assert {u.heading for u in units} == {"（一）要争分夺秒促建设"}
    small = units_of(text, max_unit_chars=100, min_unit_chars=0)
    assert all(u.n_chars < 100 for u in small)
    assert all(u.text.endswith("。") for u in small)  # cut at sentence ends
    assert_preserves_text(doc(text), small)


def test_long_sentence_cut_at_commas_then_hard():
    clauses = "，".join(f"第{i}个项目完成投资" for i in range(200)) + "。"
    units = units_of(clauses, max_unit_chars=120, min_unit_chars=0)
    assert len(units) > 1 and all(u.n_chars < 120 for u in units)
    assert all(u.text.endswith(("，", "。")) for u in units)
    no_punct = "开发区" * 600
    hard = units_of(no_punct, max_unit_chars=100, min_unit_chars=0)
    assert all(u.n_chars < 100 for u in hard)
    assert "".join(u.text for u in hard) == no_punct


def test_no_unit_reaches_max_in_any_fixture():
    for name in sorted(DATA.glob("*.txt")):
        for max_chars in (50, 300, 1500):
            config = SegmentConfig(max_unit_chars=max_chars, min_unit_chars=10)
            for document in split_documents(fixture(name.name), config):
                units = segment_document(document, config)
                assert units
                assert max(u.n_chars for u in units) < max_chars
                assert_preserves_text(document, units)


def test_short_units_merge_into_following_or_preceding_of_same_section():
    text = (
        "同志们：\n"
        "今天我们召开全区工作会议，总结去年工作，部署今年任务。\n"
        "一、工作回顾\n"
        "全年经济运行平稳，主要指标好于预期，民生事业全面进步。\n"
        "谢谢大家。"
    )
    units = units_of(text, min_unit_chars=20)
    assert [u.text for u in units] == [
        "同志们：\n今天我们召开全区工作会议，总结去年工作，部署今年任务。",
        "全年经济运行平稳，主要指标好于预期，民生事业全面进步。\n谢谢大家。",
    ]
    assert [u.heading for u in units] == ["", "一、工作回顾"]
    unmerged = units_of(text, min_unit_chars=0)
    assert [u.text for u in unmerged][0] == "同志们：\n今天我们召开全区工作会议，总结去年工作，部署今年任务。"
    assert len(units_of(text.replace("同志们：", "同志们。"), min_unit_chars=0)) == 4


def test_page_break_continuation_joins_broken_sentence():
    text = ("二是加强区域品牌推广。精心组织参加科博会、京港洽谈\n"
            "会等境内外招商推介活动，成功签约21个项目，总投资额184亿元。\n"
            "三是加快重点产业项目建设进度。实施产业项目全程推进、全程督办责任制。")
    units = units_of(text, min_unit_chars=0)
    assert len(units) == 2
    assert units[0].text.endswith("总投资额184亿元。")


def test_empty_document_has_no_units():
    assert segment_document(doc(""), CFG) == []
    assert segment_document(doc("\n \n"), CFG) == []


# ------------------------------------------------------------------------------------
# segment_corpus
# ------------------------------------------------------------------------------------


def test_segment_corpus_skips_duplicates():
    corpus = [fixture("seed001_collection.txt"), fixture("seed004_oneline.txt")]
    documents, units = segment_corpus(corpus, CFG)
    assert len(documents) == 6
    with_units = {u.doc_id for u in units}
    assert "seed001_collection-05" not in with_units
    assert with_units == {d.doc_id for d in documents if not d.duplicate_of}
    assert len({u.unit_id for u in units}) == len(units)
    assert segment_corpus(corpus, CFG) == (documents, units)


def test_circled_numbers_are_inner_points():
    # Regression: "①".isdigit() is True, so the ordinal parser once crashed on the city reports.
    text = ("三、主要任务\n加快产业升级，重点抓好三件事：①培育先进制造业集群，推动产业链延链补链。"
            "②发展现代服务业，提升物流和金融服务能力。③推进数字化转型，建设智能工厂。\n")
    document = doc(text)
    units = segment_document(document, SegmentConfig(max_unit_chars=60, min_unit_chars=0))
    assert units and all(unit.heading.startswith("三、主要任务") for unit in units)
    assert any(unit.text.startswith("②") for unit in units)
    assert_preserves_text(document, units)


def test_distinct_titles_are_kept_as_found():
    text = "第一篇：环保工作总结\n环保工作取得新进展。\n第二篇：招商工作总结\n招商引资取得新突破。\n"
    assert [d.title for d in split_documents(cleaned(text), CFG)] == ["环保工作总结", "招商工作总结"]


# ------------------------------------------------------------------------------------
# module layout
# ------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", [segment, segment_patterns, speeches, duplicates, outline])
def test_module_docstring_examples_hold(module):
    assert doctest.testmod(module).failed == 0


def test_the_stage_module_still_offers_what_others_import():
    # pipeline.py imports the stage functions from policytopics.segment
    for name in segment.__all__:
        assert callable(getattr(segment, name)), name


def test_unit_pieces_are_the_units_of_segment_document():
    text = (DATA / "seed002_oneline.txt").read_text(encoding="utf-8")
    pieces = outline.unit_pieces(text, CFG.max_unit_chars, CFG.min_unit_chars)
    units = segment_document(doc(text), CFG)
    assert [(p.start, p.end) for p in pieces] == [(u.start, u.end) for u in units]
