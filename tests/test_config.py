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
