"""Property-based tests (hypothesis) of cleaning and segmentation.

Properties, each on generated text:

1. cleaning is idempotent: ``clean(clean(x)) == clean(x)``, and the second pass reports
   nothing removed;
2. cleaning never raises on any ``str`` (lone surrogates, controls, NUL, combining marks,
   emoji, lines of 100,000+ characters) and returns well-formed text;
3. every removed character is accounted for in the cleaning report: ``len(x) - len(clean(x))``
   is the sum of the report's net counts, per step and per boilerplate category; plain
   Chinese prose comes back unchanged with an empty report, and on pages built from prose,
   pinyin-annotated traditional script and boilerplate lines the report names exactly what
   each rule removed; a sentence cut by a run of page markers of any kinds is joined again;
4. segmentation loses and duplicates nothing: the units are ordered, non-overlapping exact
   slices of the document text, and what lies between them is whitespace and removed
   headings, each a component of the heading path of the unit that follows it (the rule in
   the docstring of ``policytopics.segment``); no unit reaches ``max_unit_chars``.

Cleaning uses the default config's ``clean`` section and the pipeline's entry point
(``clean.clean_sources``). Every test is derandomised and uses no example database, so a run
is reproducible; ``--hypothesis-show-statistics`` prints how many examples each one ran.
"""

from __future__ import annotations

import re
from collections import Counter

import opencc
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import DEFAULT_CONFIG
from policytopics import characters, clean, segment, segment_patterns
from policytopics.config import SegmentConfig, load_config
from policytopics.records import CleanedText, Document, SourceText, Unit

CLEAN_CONFIG = load_config(DEFAULT_CONFIG).clean
RULES = clean.load_boilerplate_rules(CLEAN_CONFIG)
SEGMENT_CONFIG = load_config(DEFAULT_CONFIG).segment
T2S = opencc.OpenCC(CLEAN_CONFIG.opencc_config)

# Keys the report may hold: the steps, and one per boilerplate category.
REPORT_KEYS = {"sanitise", "strip_pinyin", "to_simplified", "drop_mojibake", "normalise"} | {
    f"boilerplate.{category}" for category in RULES.categories
}
# Net counts (characters removed minus characters written); to_simplified counts the
# characters it replaced, one for one.
NET_KEYS = REPORT_KEYS - {"to_simplified"}


def fast(examples: int, *health_checks: HealthCheck):
    """Reproducible settings: derandomised, no database, no deadline."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(health_checks),
    )


def clean_one(text: str) -> tuple[str, dict[str, int]]:
    """Clean ``text`` as the pipeline does (``clean_sources`` with the default settings)."""
    (cleaned,) = clean.clean_sources([SourceText("x.txt", text, "utf-8")], CLEAN_CONFIG, RULES)
    return cleaned.text, cleaned.removed


# --- character pools -------------------------------------------------------------------------

_RULE_TEXT = "".join(
    (rule.pattern.pattern if rule.pattern else "")
    + (rule.start.pattern if rule.start else "")
    + (rule.item.pattern if rule.item else "")
    + (rule.next.pattern if rule.next else "")
    + "".join(rule.words)
    for rule in RULES.rules
)
_URO = [chr(code) for code in range(0x4E00, 0xA000)]
_URO_T2S = T2S.convert("\n".join(_URO)).split("\n")
# Simplified characters that OpenCC leaves alone and that no boilerplate rule spells out:
# prose made of them (and Chinese punctuation) matches no cleaning rule.
PROSE_CHARS = [c for c, s in zip(_URO, _URO_T2S) if c == s and c not in _RULE_TEXT]
assert len(PROSE_CHARS) > 15000

prose_char = st.sampled_from(PROSE_CHARS)
any_han = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
rare_han = st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF)  # Extension B
TRADITIONAL = "開發區經濟會議這們來時實現關於進動產業環檢務設應戰際體係歲"

# (traditional character, its pinyin annotation, simplified character)
ANNOTATED = [
    ("開", "kāi", "开"), ("發", "fā", "发"), ("區", "qū", "区"), ("經", "jīng", "经"),
    ("濟", "jì", "济"), ("會", "huì", "会"), ("議", "yì", "议"), ("時", "shí", "时"),
    ("實", "shí", "实"), ("現", "xiàn", "现"), ("們", "men", "们"), ("業", "yè", "业"),
    ("產", "chǎn", "产"), ("動", "dòng", "动"), ("進", "jìn", "进"), ("關", "guān", "关"),
]

# A line of boilerplate and the category that removes it (each line alone on its line).
BOILERPLATE_LINES = [
    ("首页 > 范文大全 > 演讲稿 > 发言稿", "breadcrumb"),
    ("当前位置：首页 > 范文 > 正文", "breadcrumb"),
    ("最新中文字幕 精品国产 在线观看", "spam"),
    ("百家乐 博彩 娱乐城", "spam"),
    ("发布时间:2023-04-18", "date"),
    ("时间：2023-04-22 来源：本站", "date"),
    ("2007-02-06 09:47:38", "date"),
    ("开发区年终工作会议领导讲话_第1页", "preview"),
    ("已阅读5页，还剩12页未读", "preview"),
    ("展开阅读全文", "preview"),
    ("ID:1758295", "docsite"),
    ("大小:25.59KB", "docsite"),
    ("页数:13页", "docsite"),
    ("格式:DOCX", "docsite"),
    ("开发区工作总结.docx", "docsite"),
    ("网站客服:400123456", "docsite"),
    ("资源描述：", "docsite"),
    ("2023 经济技术 开发区 上半年 工作总结 大会 领导", "docsite"),
    ("下载文档 | 分享 | 收藏", "widget"),
    ("返回顶部", "widget"),
    ("版权说明：本文档由用户提供并上传", "notice"),
    ("此文档下载收益归作者所有", "notice"),
    ("★工作总结频道为大家整理的开发区工作总结，供大家参考。", "notice"),
    ("更多精彩内容请查看本站工作总结频道。", "notice"),
    ("评论", "comments"),
    ("发表评论(12)", "comments"),
    ("0/150", "comments"),
    ("暂无评论", "comments"),
    ("- 3 -", "page_marker"),
    ("—12—", "page_marker"),
    ("第2页 共3页", "page_marker"),
    ("Page 3 of 22", "page_marker"),
]
# A tail that removes everything from its first line on.
TAILS = [
    ("相关内容：\n• 开发区工作总结\n• 开发区领导讲话", "related"),
    ("你可能关注的文档\n开发区年终总结范文", "related"),
    ("猜你喜欢：", "related"),
]
PINYIN_PIECES = ["(kāi)", "（fā）", "(qū)", "(men)", "?yún)", "r(shí)", "^(qū)", "(yè)", "(shí)",
                 "(一)", "(GDP)", "(a)", "(kāi)(kāi)"]
GARBLE_PIECES = [clean.GARBLE_MARK, "\ue423", "щ", "ぷ", "ㄅ", "α", "⑵", "é", "??", "?!", "?",
                 "╗", "﹐", "Ⅳ", "の", "・"]
MISC_PIECES = ["20xx年", "XX年", "20*年", "２０xx", "ＧＤＰ", "０", "ISO14000", "110kv", "1,000",
               "09:47", "CAD,CAXA", "同志们：", "〝", "〞", "\u3000", "\xa0", "\u200b", "\ufeff",
               "\u2028", "\x85", "\x00", "\x1b", "\u202e", "\u0301", "\U0001f600", "\ud800",
               "\udfff"]
PUNCTUATION = list("，。、；：！？“”‘’（）《》【】…—,.;:!?()\"' \t")
LINE_BREAKS = ["\n", "\n", "\n\n", "\n\n\n", "\r\n", "\r", " \n", "\n  "]

# Pieces of one line: text, punctuation, pinyin and garble.
inline_fragment = st.one_of(
    st.text(prose_char, min_size=1, max_size=12),
    any_han,
    rare_han,
    st.sampled_from(TRADITIONAL),
    st.sampled_from(PUNCTUATION),
    st.characters(codec="ascii", exclude_characters="\n\r\x0b\x0c\x1c\x1d\x1e"),
    st.sampled_from(PINYIN_PIECES),
    st.sampled_from(GARBLE_PIECES),
)
fragment = st.one_of(
    inline_fragment,
    st.characters(codec="ascii"),
    st.sampled_from(LINE_BREAKS),
    st.sampled_from([f"\n{line}\n" for line, _ in BOILERPLATE_LINES + TAILS]),
    st.sampled_from([line for line, _ in BOILERPLATE_LINES]),
    st.sampled_from(MISC_PIECES),
)
# Web-scraped-looking text: fragments that make the rules fire, mixed with random text.
messy_text = st.lists(fragment, max_size=50).map("".join)
# Any str at all: every code point, lone surrogates included.
any_unicode = st.text(st.characters(exclude_categories=[]), max_size=60)
hostile_unicode = st.lists(
    st.one_of(
        st.characters(categories=["Cs"]),  # lone surrogates
        st.characters(categories=["Cc", "Cf", "Zl", "Zp"]),  # controls, NUL, format chars
        st.characters(categories=["Mn", "Me", "Mc"]),  # combining marks
        st.characters(categories=["Zs"]),  # space separators
        st.characters(min_codepoint=0x1F000, max_codepoint=0x1FAFF),  # emoji
        st.characters(min_codepoint=0xE000, max_codepoint=0xF8FF),  # private use
        st.characters(exclude_categories=[]),
        fragment,
    ),
    max_size=60,
).map("".join)


def assert_well_formed(text: str) -> None:
    """What the cleaning driver promises about any output."""
    assert isinstance(text, str)
    text.encode("utf-8")  # no lone surrogates: writable as UTF-8
    assert not characters.SURROGATE_RE.search(text)
    assert not characters.INVISIBLE_RE.search(text), characters.INVISIBLE_RE.search(text)
    assert not characters.LINE_BREAK_RE.search(text)
    assert "\t" not in text and "\n\n\n" not in text
    assert text == text.strip("\n") and all(line == line.strip() for line in text.split("\n"))
    assert not re.search(r"[^\S \n]", text) and "  " not in text  # whitespace: " " and "\n"


# --- 1. idempotence ---------------------------------------------------------------------------


@fast(400)
@given(st.one_of(messy_text, hostile_unicode))
@example("首頁(yè) > 范文\n開(kāi)發(fā)區(qū)")
def test_cleaning_is_idempotent(text):
    once, _ = clean_one(text)
    twice, removed = clean_one(once)
    assert twice == once
    assert not any(removed.values()), removed


# --- 2. never raises --------------------------------------------------------------------------


@fast(300)
@given(st.one_of(any_unicode, hostile_unicode))
@example("\x00\ud800\udfff\u0301\U0001f600\r\n\u2028")
@example("\u1680今年\u2003\u1680经济。\u1680")  # the Ogham space mark was no space to normalise
def test_cleaning_never_raises_and_returns_well_formed_text(text):
    cleaned, removed = clean_one(text)
    assert_well_formed(cleaned)
    assert set(removed) <= REPORT_KEYS
    assert all(isinstance(value, int) for value in removed.values())


LONG = 100_000

# Pieces that once made a step quadratic in the length of a line (a run of one script, of
# brackets, of ASCII marks in Latin context), and mixed fragments.
long_piece = st.one_of(
    st.sampled_from(["ぷ", "щ", "α", "⑵", "()", "(", "a,", "hello world, ", "中(", "?中"]),
    st.lists(inline_fragment, min_size=1, max_size=8).map("".join),
)


@fast(4)
@given(long_piece.map(lambda piece: piece * (LONG // len(piece) + 1)))
@example("开发区经济运行平稳，" * 6_000 + "ぷ" * 20_000 + "a,b;" * 10_000 + "()" * 10_000)  # took hours
def test_cleaning_a_line_of_100k_characters_never_raises(text):
    assert len(text) >= LONG
    cleaned, removed = clean_one(text)
    assert_well_formed(cleaned)
    assert len(text) - len(cleaned) == sum(removed.get(key, 0) for key in NET_KEYS)
    assert clean_one(cleaned)[0] == cleaned


# --- 3. accounting ----------------------------------------------------------------------------


@fast(400)
@given(st.one_of(messy_text, hostile_unicode))
@example("abc\n- 1 -\ndef")  # a page break inside English: glued back with a space
@example("XX年")  # normalise writes 20XX年: a negative net count
def test_the_report_accounts_for_every_removed_character(text):
    cleaned, removed = clean_one(text)
    assert set(removed) <= REPORT_KEYS
    assert len(text) - len(cleaned) == sum(removed.get(key, 0) for key in NET_KEYS)
    # Only normalise writes more than it removes (20XX年 for XX年); every other step removes.
    assert all(value >= 0 for key, value in removed.items() if key != "normalise"), removed
    assert removed.get("to_simplified", 0) <= len(text)
    if not any(removed.values()):
        # Nothing reported: only normalise's one-for-one rewrites (widths, Chinese
        # punctuation, 20xx -> 20XX) may have happened.
        assert len(cleaned) == len(text) and cleaned == clean.normalise(text)


@st.composite
def prose_sentences(draw, min_size: int = 1, max_size: int = 4) -> str:
    """Chinese sentences of characters that no cleaning rule looks at."""
    sentences = []
    for _ in range(draw(st.integers(min_size, max_size))):
        clauses = draw(st.lists(st.text(prose_char, min_size=1, max_size=10), min_size=1,
                                max_size=4))
        sentence = draw(st.sampled_from("，、；：")).join(clauses)
        if draw(st.booleans()):
            sentence = draw(st.sampled_from(["“{}”", "《{}》", "（{}）", "【{}】"])).format(
                sentence)
        sentences.append(sentence + draw(st.sampled_from("。。。！？…")))
    return "".join(sentences)


prose = st.lists(prose_sentences(), min_size=1, max_size=6).flatmap(
    lambda paragraphs: st.sampled_from(["\n", "\n\n"]).map(lambda sep: sep.join(paragraphs))
)


@fast(300)
@given(prose)
def test_plain_prose_comes_back_unchanged(text):
    cleaned, removed = clean_one(text)
    assert cleaned == text
    assert not any(removed.values()), removed


@st.composite
def annotated_words(draw) -> tuple[str, str, int, int]:
    """(raw, simplified, annotation characters, traditional characters) of a run of
    traditional characters, each annotated with its pinyin, mixed with prose characters."""
    raw, simplified, annotation, traditional = [], [], 0, 0
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            char, reading, simple = draw(st.sampled_from(ANNOTATED))
            bracket = draw(st.sampled_from(["({})", "（{}）"])).format(reading)
            raw.append(char + bracket)
            simplified.append(simple)
            annotation += len(bracket)
            traditional += 1
        else:
            char = draw(prose_char)
            raw.append(char)
            simplified.append(char)
    return "".join(raw), "".join(simplified), annotation, traditional


@st.composite
def pages(draw) -> tuple[str, str, Counter[str]]:
    """A scraped page: prose lines, annotated traditional lines and boilerplate lines, with
    the text cleaning must give and the report it must write."""
    lines, kept = [], []
    expected: Counter[str] = Counter()
    for _ in range(draw(st.integers(1, 10))):
        kind = draw(st.sampled_from(["prose", "prose", "annotated", "boilerplate"]))
        if kind == "prose":
            line = draw(prose_sentences())
            lines.append(line)
            kept.append(line)
        elif kind == "annotated":
            words = [draw(annotated_words()) for _ in range(draw(st.integers(1, 3)))]
            ending = draw(prose_sentences())  # ends the line with a sentence end
            lines.append("，".join(raw for raw, _, _, _ in words) + "，" + ending)
            kept.append("，".join(simple for _, simple, _, _ in words) + "，" + ending)
            expected["strip_pinyin"] += sum(count for _, _, count, _ in words)
            expected["to_simplified"] += sum(count for _, _, _, count in words)
        else:
            line, category = draw(st.sampled_from(BOILERPLATE_LINES))
            lines.append(line)
            expected[f"boilerplate.{category}"] += len(line) + 1  # the line and its break
    if not kept:
        line = draw(prose_sentences())
        lines.append(line)
        kept.append(line)
    if draw(st.booleans()):
        tail, category = draw(st.sampled_from(TAILS))
        lines.append(tail)
        expected[f"boilerplate.{category}"] += len(tail) + 1
    return "\n".join(lines), "\n".join(kept), expected


@fast(300)
@given(pages())
@example(("開(kāi)發(fā)區(qū)，会议。\n首页 > 范文大全 > 演讲稿\n这是一句话。",
          "开发区，会议。\n这是一句话。",
          Counter({"strip_pinyin": 13, "to_simplified": 3, "boilerplate.breadcrumb": 16})))
# Found by this test: a marker next to a marker of another rule was glued into the text.
@example(("第2页 共3页\n- 3 -\n丁。", "丁。", Counter({"boilerplate.page_marker": 14})))
def test_the_report_names_what_each_rule_removed(page):
    raw, expected_text, expected_report = page
    cleaned, removed = clean_one(raw)
    assert cleaned == expected_text
    assert {key: value for key, value in removed.items() if value} == dict(+expected_report)


PAGE_MARKERS = ["- 3 -", "—12—", "－5－", "第2页 共3页", "第 7 页/共 9 页", "Page 3 of 22"]
# No "第": a line starting 第…章 would be a heading, across which pages are not joined.
clause = st.text(prose_char.filter(lambda char: char != "第"), min_size=1, max_size=20)


@fast(150)
@given(clause, st.lists(st.tuples(st.sampled_from(["\n", "\n\n"]), st.sampled_from(PAGE_MARKERS)),
                        min_size=1, max_size=4), clause)
@example("累", [("\n", "第2页 共3页"), ("\n", "- 3 -")], "计入区企业")
def test_a_sentence_cut_by_page_markers_is_joined_again(before, markers, after):
    raw = before + "".join(gap + marker for gap, marker in markers) + "\n" + after + "。"
    cleaned, removed = clean_one(raw)
    assert cleaned == before + after + "。"
    reported = {key: value for key, value in removed.items() if value}
    assert reported == {"boilerplate.page_marker": len(raw) - len(cleaned)}


# --- 4. segmentation --------------------------------------------------------------------------

_CN_NUMERALS = "一二三四五六七八九十"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"
# Outline markers by kind, as a function of their number (1-10).
MARKERS = {
    "cn_dun": lambda n: f"{_CN_NUMERALS[n - 1]}、",
    "cn_paren": lambda n: f"（{_CN_NUMERALS[n - 1]}）",
    "cn_paren_half": lambda n: f"({_CN_NUMERALS[n - 1]})",
    "num": lambda n: f"{n}、",
    "num_dot": lambda n: f"{n}.",
    "num_paren": lambda n: f"（{n}）",
    "ordinal_shi": lambda n: f"{_CN_NUMERALS[n - 1]}是",
    "ordinal_di": lambda n: f"第{_CN_NUMERALS[n - 1]}，",
    "circled": lambda n: _CIRCLED[n - 1],
}
heading_text = st.text(prose_char, min_size=2, max_size=14)


@st.composite
def outline_documents(draw) -> str:
    """A speech with outline headings, points, paragraphs, run-on lines and long paragraphs."""
    numbers: Counter[str] = Counter()

    def marker() -> str:
        kind = draw(st.sampled_from(sorted(MARKERS)))
        if draw(st.integers(0, 5)) == 0:  # a restart or a jump in the numbering
            numbers[kind] = draw(st.integers(0, 9))
        numbers[kind] = numbers[kind] % 10 + 1
        return MARKERS[kind](numbers[kind])

    blocks = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(
            ["heading", "heading", "inline", "paragraph", "paragraph", "points", "run_on",
             "long", "broken"]))
        if kind == "heading":  # a standalone heading line
            block = marker() + draw(heading_text)
        elif kind == "inline":  # a heading and its body on one line
            glue = draw(st.sampled_from(["。", "：", "", "，"]))
            block = marker() + draw(heading_text) + glue + draw(prose_sentences())
        elif kind == "paragraph":
            block = draw(prose_sentences())
        elif kind == "points":  # inner points inside running text
            block = draw(prose_sentences(max_size=1)) + "".join(
                marker() + draw(prose_sentences(max_size=2)) for _ in range(draw(st.integers(1, 4))))
        elif kind == "run_on":  # several headings and bodies glued on one line
            block = "".join(marker() + draw(heading_text) + draw(st.sampled_from(["", "。"]))
                            + draw(st.one_of(st.just(""), prose_sentences()))
                            for _ in range(draw(st.integers(2, 4))))
        elif kind == "long":  # beyond max_unit_chars: sentences, one clause run, or no marks
            piece = draw(st.one_of(prose_sentences(), st.text(prose_char, min_size=5, max_size=30)
                                   .map(lambda clause: clause + "，"),
                                   st.text(prose_char, min_size=5, max_size=30)))
            block = draw(st.sampled_from(["", marker()])) + piece * draw(st.integers(5, 120))
        else:  # a sentence cut by a page break: the next line continues it
            block = draw(prose_sentences()).rstrip("。！？…") + "\n" + draw(prose_sentences())
        indent = draw(st.sampled_from(["", "", " ", "\u3000\u3000"]))
        blocks.append(indent + block)
    separators = [draw(st.sampled_from(["\n", "\n", "\n\n", " \n"])) for _ in blocks]
    return "".join(sep + block for sep, block in zip(separators, blocks))


segment_configs = st.one_of(
    st.builds(SegmentConfig, max_unit_chars=st.integers(50, 400),
              min_unit_chars=st.integers(0, 40)),
    st.just(SEGMENT_CONFIG),
)


def _decomposes(gap: str, components: list[str]) -> bool:
    """Is ``gap`` whitespace and an ordered selection of ``components``, each verbatim?"""
    reachable = {(0, 0)}  # (position in gap, components still available from this index)
    seen = set()
    while reachable:
        position, first = reachable.pop()
        if (position, first) in seen:
            continue
        seen.add((position, first))
        while position < len(gap) and gap[position].isspace():
            position += 1
        if position == len(gap):
            return True
        for index in range(first, len(components)):
            if gap.startswith(components[index], position):
                reachable.add((position + len(components[index]), index + 1))
    return False


def assert_units_preserve_text(text: str, units: list[Unit], max_chars: int) -> None:
    """The text-preservation rule of ``policytopics.segment``, checked exactly.

    Units carry no offsets and a short unit can also occur inside a heading before it, so
    every placement of the units that satisfies the rule is followed (the set of offsets
    where the text read so far can end), not only the first match.
    """
    ends = {0}  # where the units placed so far can end
    for position, unit in enumerate(units):
        assert unit.position == position and unit.unit_id == f"{unit.doc_id}-u{position:04d}"
        assert unit.text and not unit.text[0].isspace() and not unit.text[-1].isspace()
        assert len(unit.text) < max_chars, (len(unit.text), max_chars)
        components = unit.heading.split(" > ") if unit.heading else []
        budget = sum(map(len, components))  # a gap holds at most these characters
        placed = set()
        for cursor in ends:
            start = text.find(unit.text, cursor)
            while start >= 0 and len(segment_patterns.squash(text[cursor:start])) <= budget:
                if _decomposes(text[cursor:start], components) and all(
                    text.rfind(component, 0, start + len(component)) >= 0  # at or before it
                    for component in components
                ):
                    placed.add(start + len(unit.text))
                start = text.find(unit.text, start + 1)
        assert placed, (f"unit {position} {unit.text[:30]!r} (heading {unit.heading!r}) is not "
                        f"a slice after offsets {sorted(ends)[:5]} with only whitespace and its "
                        "headings before it")
        ends = placed
    assert any(not text[end:].strip() for end in ends), (
        f"text lost after the last unit: {text[min(ends):][:60]!r}")


@fast(400, HealthCheck.too_slow)
@given(outline_documents(), segment_configs)
@example("一、甲方面的情况\n二、乙方面的情况\n今年经济运行平稳，主要指标好于预期。", SEGMENT_CONFIG)
@example("今年经济运行平稳，主要指标好于预期。\n三、结束语", SEGMENT_CONFIG)
@example("一、总体情况（一）项目建设今年经济运行平稳。（二）民生保障今年经济运行平稳。", SEGMENT_CONFIG)
@example("①丁丁\n丁。一、丁。\n丁。", SEGMENT_CONFIG)  # the last unit also occurs in the heading
def test_units_are_the_document_text_without_loss_or_overlap(text, config):
    units = segment.segment_document(Document("d", "d.txt", "", text), config)
    assert_units_preserve_text(text, units, config.max_unit_chars)


def assert_documents_preserve_text(cleaned: str, documents: list[Document]) -> None:
    """Documents are ordered, non-overlapping slices of the cleaned text; a single speech is
    the whole text after its title."""
    cursor, starts = 0, []
    for document in documents:
        assert document.text == document.text.strip(segment_patterns.SPACE)
        assert document.text or len(documents) == 1  # empty speeches of a collection go
        start = cleaned.find(document.text, cursor)
        assert start >= 0, f"{document.doc_id} is not a slice after offset {cursor}"
        starts.append(start)
        cursor = start + len(document.text)
    if len(documents) == 1:
        assert not cleaned[cursor:].strip(segment_patterns.SPACE)
        head = cleaned[: starts[0]] if documents[0].text else cleaned
        assert segment_patterns.squash(head) == segment_patterns.squash(documents[0].title)


@fast(150, HealthCheck.too_slow)
@given(st.one_of(messy_text, hostile_unicode, pages().map(lambda page: page[0]), outline_documents()))
def test_cleaned_pages_segment_without_loss(text):
    cleaned_text, _ = clean_one(text)
    cleaned = CleanedText(SourceText("x.txt", text, "utf-8"), cleaned_text, {}, len(text))
    documents = segment.split_documents(cleaned, SEGMENT_CONFIG)
    assert_documents_preserve_text(cleaned_text, documents)
    for document in documents:
        if " > " in document.text:  # heading paths could not be split into their parts
            continue
        units = segment.segment_document(document, SEGMENT_CONFIG)
        assert_units_preserve_text(document.text, units, SEGMENT_CONFIG.max_unit_chars)
