"""Tests of config.py: schema, YAML loading, overrides, error messages."""

from __future__ import annotations

import pytest
import yaml

from policytopics.config import Config, ConfigError, config_from_dict, load_config, parse_override

from conftest import DEFAULT_CONFIG


def test_default_config_file_matches_schema_defaults():
    # The shipped YAML lists every setting; it must validate and agree with the schema.
    loaded = load_config(DEFAULT_CONFIG)
    assert loaded == Config()
    shipped_keys = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    assert shipped_keys == Config().model_dump(mode="json")


def test_unknown_key_is_named_with_its_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("segment:\n  max_unit_char: 800\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert "unknown key 'segment.max_unit_char'" in str(error.value)
    assert str(path) in str(error.value)


def test_wrong_type_is_named(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("seed: twelve\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"key 'seed'.*integer"):
        load_config(path)


@pytest.mark.parametrize(
    "text, key",
    [("segment: {duplicate_threshold: 1.5}", "segment.duplicate_threshold"),
     ("segment: {max_unit_chars: 10}", "segment.max_unit_chars"),
     ("name: '../escape'", "name")],
)
def test_impossible_values_are_rejected(tmp_path, text, key):
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=f"key '{key}'"):
        load_config(path)


def test_invalid_yaml_and_non_mapping(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("corpus: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(listing)


def test_yaml_is_loaded_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("name: !!python/object/apply:os.system ['echo hi']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)


def test_missing_file():
    with pytest.raises(ConfigError, match="config file not found"):
        load_config("no/such/config.yaml")


def test_overrides_are_typed_and_nested(tmp_path):
    config = load_config(DEFAULT_CONFIG, ["segment.max_unit_chars=800", "clean.strip_pinyin=false", "name=trial"])
    assert config.segment.max_unit_chars == 800
    assert config.clean.strip_pinyin is False
    assert config.name == "trial"
    assert parse_override("corpus.encodings=[utf-8, big5]") == (["corpus", "encodings"], ["utf-8", "big5"])


def test_bad_override_names_the_override():
    with pytest.raises(ConfigError, match="expected key.path=value"):
        load_config(DEFAULT_CONFIG, ["segment.max_unit_chars"])
    with pytest.raises(ConfigError, match=r"with --set seed=-1.*key 'seed'"):
        load_config(DEFAULT_CONFIG, ["seed=-1"])


def test_resolved_yaml_round_trips():
    config = config_from_dict({"name": "trial", "segment": {"max_unit_chars": 900}})
    assert config_from_dict(yaml.safe_load(config.to_yaml())) == config


def test_every_field_is_described():
    def walk(model):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
            annotation = field.annotation
            if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
                walk(annotation)

    walk(Config)


# --------------------------------------------------------------------------------------
# Every bad config through the command line: exit code 2, one line naming the key and file
# --------------------------------------------------------------------------------------

BAD_CONFIGS = [
    # (case, config text or bytes, --set overrides, fragments the one line must hold)
    ("yaml-syntax", "corpus: [unclosed\n", [], ["not valid YAML", "line 2, column 1"]),
    ("yaml-tab", "seed:\t1\n", [], ["not valid YAML", "line 1", "'\\t'"]),
    ("yaml-python-apply", "name: !!python/object/apply:os.system ['echo hi']\n", [],
     ["line 1, column 7", "!!python/object/apply:os.system is refused", "loaded safely"]),
    ("yaml-python-object", "seed: !!python/object:builtins.int 3\n", [], ["!!python/object:builtins.int is refused"]),
    ("yaml-duplicate-key", "seed: 1\nlda: {passes: 2}\nseed: 2\n", [], ["key 'seed' is given twice (lines 1 and 3)"]),
    ("not-utf8", b"name: \xff\xfe\n", [], ["not UTF-8", "byte 6"]),
    ("not-a-mapping", "- a\n- b\n", [], ["expected a mapping of settings, got list"]),
    ("unknown-key", "segment:\n  max_unit_char: 800\n", [], ["unknown key 'segment.max_unit_char'"]),
    ("unknown-section", "models: {k: 3}\n", [], ["unknown key 'models'"]),
    ("section-not-a-mapping", "lda: 3\n", [], ["key 'lda'", "(got 3)"]),
    ("seed-text", "seed: twelve\n", [], ["key 'seed'", "valid integer", "'twelve'"]),
    ("seed-fraction", "seed: 1.5\n", [], ["key 'seed'", "valid integer", "1.5"]),
    ("seed-boolean", "seed: true\n", [], ["key 'seed'", "valid integer", "True"]),
    ("seed-quoted", "seed: '12'\n", [], ["key 'seed'", "valid integer", "'12'"]),
    ("seed-negative", "seed: -1\n", [], ["key 'seed'", "greater than or equal to 0"]),
    ("passes-negative", "lda:\n  passes: -3\n", [], ["key 'lda.passes'", "greater than or equal to 1"]),
    ("iterations-zero", "lda:\n  iterations: 0\n", [], ["key 'lda.iterations'"]),
    ("alpha-negative", "lda:\n  alpha: -0.5\n", [], ["key 'lda.alpha'", "a number above 0"]),
    ("alpha-unknown", "lda:\n  alpha: flat\n", [], ["key 'lda.alpha'", "'symmetric'", "'flat'"]),
    ("method-unknown", "lda:\n  method: supervised\n", [], ["key 'lda.method'", "'guided' or 'mapped'"]),
    ("no-above-over-1", "features:\n  no_above: 1.5\n", [], ["key 'features.no_above'", "less than or equal to 1"]),
    ("no-above-zero", "features:\n  no_above: 0\n", [], ["key 'features.no_above'", "greater than 0"]),
    ("no-below-zero", "features:\n  no_below: 0\n", [], ["key 'features.no_below'"]),
    ("topics-one", "lda:\n  num_topics: 1\n", [], ["key 'lda.num_topics'"]),
    ("sweep-empty", "selection:\n  num_topics: []\n", [], ["key 'selection.num_topics'", "at least 1 item"]),
    ("sweep-k-one", "selection:\n  num_topics: [8, 1]\n", [], ["key 'selection.num_topics.1'", "greater than or equal to 2"]),
    ("k-range-reversed", "cluster:\n  k_range: [12, 4]\n", [], ["key 'cluster.k_range'", "min <= max"]),
    ("k-range-one", "cluster:\n  k_range: [1, 4]\n", [], ["key 'cluster.k_range.0'", "greater than or equal to 2"]),
    ("k-range-length", "cluster:\n  k_range: [4]\n", [], ["key 'cluster.k_range'"]),
    ("min-unit-above-max", "segment:\n  min_unit_chars: 2000\n", [],
     ["key 'segment.min_unit_chars'", "less than segment.max_unit_chars (1500)"]),
    ("max-unit-tiny", "segment: {max_unit_chars: 10}\n", [], ["key 'segment.max_unit_chars'"]),
    ("duplicate-threshold", "segment: {duplicate_threshold: 1.5}\n", [], ["key 'segment.duplicate_threshold'"]),
    ("encodings-empty", "corpus:\n  encodings: []\n", [], ["key 'corpus.encodings'", "at least 1 item"]),
    ("encodings-unknown", "corpus:\n  encodings: [utf-8, klingon]\n", [], ["key 'corpus.encodings'", "unknown encoding 'klingon'"]),
    ("opencc-unknown", "clean:\n  opencc_config: t2x\n", [], ["key 'clean.opencc_config'", "unknown OpenCC profile 't2x'", "t2s"]),
    ("boolean-text", "clean:\n  strip_pinyin: maybe\n", [], ["key 'clean.strip_pinyin'", "valid boolean"]),
    ("theme-ids-empty", "themes:\n  ids: []\n", [], ["key 'themes.ids'", "at least 1 item"]),
    ("min-share-over-1", "themes:\n  min_share: 2\n", [], ["key 'themes.min_share'"]),
    ("name-escapes", "name: '../escape'\n", [], ["key 'name'"]),
    ("boilerplate-missing", "clean:\n  boilerplate_files: [no/such/rules.yaml]\n", [],
     ["key 'clean.boilerplate_files'", "file not found: no/such/rules.yaml"]),
    ("override-wrong-type", "", ["lda.passes=many"], ["(with --set lda.passes=many)", "key 'lda.passes'"]),
    ("override-impossible", "", ["seed=-1"], ["(with --set seed=-1)", "key 'seed'"]),
    ("override-unknown-key", "", ["lda.num_topic=9"], ["unknown key 'lda.num_topic'"]),
    ("override-not-key-value", "", ["lda.passes"], ["override 'lda.passes': expected key.path=value"]),
    ("override-into-a-value", "", ["seed.value=3"], ["(with --set seed.value=3): key 'seed'", "valid integer"]),
    ("override-below-a-value", "seed: 3\n", ["seed.value=3"], ["override 'seed.value=3': 'seed' is not a section"]),
]


@pytest.mark.parametrize(("text", "overrides", "fragments"), [case[1:] for case in BAD_CONFIGS],
                         ids=[case[0] for case in BAD_CONFIGS])
def test_bad_config_gives_one_line_naming_the_key_and_the_file(tmp_path, capsys, text, overrides, fragments):
    from policytopics.cli import main

    path = tmp_path / "bad.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    arguments = ["check", str(path)] + [item for override in overrides for item in ("--set", override)]
    code = main(arguments)
    captured = capsys.readouterr()
    assert code == 2, captured
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    line = lines[0]
    assert line.startswith("error: ") and "Traceback" not in line
    if not line.startswith("error: override '"):  # a malformed --set is named by itself
        assert str(path) in line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
