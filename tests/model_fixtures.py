"""Planted corpora and fitted models shared by the tests of the model modules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from policytopics.models.lda import LdaTopicModel

DATA = Path(__file__).parent / "data" / "models"

# The provisional codebook keywords (theme -> keywords), as the project lists them.
CODEBOOK = {
    "investment": ["招商引资", "招商", "项目建设", "投资", "招大引强", "项目落地", "到位资金", "签约"],
    "livelihood": ["民生", "就业", "教育", "医疗", "社会保障", "安置房", "群众", "民生工程"],
    "planning": ["规划", "土地", "基础设施", "路网", "征地拆迁", "城市", "道路", "空间"],
    "cadre": ["干部", "干部队伍建设", "作风建设", "党风廉政建设", "领导班子", "党建", "廉政", "四风"],
    "industry": ["产业", "科技", "创新", "人才", "高新技术", "企业"],
    "environment": ["环保", "生态", "环境保护", "节能减排", "污染", "绿化"],
    "reform": ["改革", "体制", "机制", "营商环境", "放管服", "审批"],
    "economy": ["经济", "财政收入", "地区生产总值", "固定资产投资", "工业增加值", "增长"],
}


@pytest.fixture(scope="module")
def planted():
    rows = [json.loads(line) for line in (DATA / "planted_themes.jsonl").read_text(encoding="utf-8").splitlines()]
    return [row["tokens"] for row in rows]


@pytest.fixture(scope="module")
def plain(planted):
    """Plain LDA with one topic per planted theme."""
    return LdaTopicModel(4, passes=10, random_state=4).fit(planted)


@pytest.fixture(scope="module")
def planted_labelled():
    rows = [json.loads(line) for line in (DATA / "planted_themes.jsonl").read_text(encoding="utf-8").splitlines()]
    keywords = json.loads((DATA / "planted_keywords.json").read_text(encoding="utf-8"))
    return [row["tokens"] for row in rows], np.array([row["label"] for row in rows]), keywords


@pytest.fixture(scope="module")
def guided(planted_labelled):
    tokens, _, keywords = planted_labelled
    return LdaTopicModel(6, seed_keywords=keywords, passes=10, random_state=0).fit(tokens)
