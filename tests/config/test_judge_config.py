import pytest

from harness.config._yaml import read_yaml
from harness.config.judge import JudgeConfig, load_judge
from harness.errors import InputError


def judge(**changes):
    return JudgeConfig(**{"name": "j", "backend": "transformers", "model": "org/model", **changes})


def test_fingerprint_changes_with_what_changes_captions_only():
    base = judge().fingerprint
    assert judge(batch_size=32).fingerprint == base
    assert judge(samples_per_image=2, decoding={"temperature": 0.7}).fingerprint != base
    assert judge(instruction="Caption this.").fingerprint != base
    assert judge(revision="abc123").fingerprint != base
    assert judge(max_new_tokens=64).fingerprint != base
    assert judge(show_prompt=True).fingerprint != base
    assert judge(model="org/other").fingerprint != base


def test_local_model_identity_changes_when_weights_change(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"a" * 100)
    first = judge(model=str(folder)).fingerprint
    (folder / "model.safetensors").write_bytes(b"b" * 100)
    assert judge(model=str(folder)).fingerprint != first


def test_rules_between_fields():
    with pytest.raises(ValueError, match="base_url"):
        judge(backend="openai")
    with pytest.raises(ValueError, match="temperature"):
        judge(samples_per_image=3)


def test_yaml_judge_relative_model_path(tmp_path):
    (tmp_path / "weights").mkdir()
    (tmp_path / "j.yaml").write_text("name: mine\nbackend: transformers\nmodel: weights\n")
    config = load_judge(tmp_path / "j.yaml")
    assert config.model == str((tmp_path / "weights").resolve())
    (tmp_path / "bad.yaml").write_text("name: mine\nbackend: tensorflow\nmodel: x\n")
    with pytest.raises(InputError, match="line 2, key backend"):
        load_judge(tmp_path / "bad.yaml")


def test_unsafe_yaml_is_refused(tmp_path):
    (tmp_path / "j.yaml").write_text("name: !!python/name:os.system\n")
    with pytest.raises(InputError, match="language-specific tags"):
        read_yaml(tmp_path / "j.yaml")


def test_model_card_edits_do_not_change_the_identity(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"w" * 100)
    (folder / "README.md").write_text("first card")
    first = judge(model=str(folder)).fingerprint
    (folder / "README.md").write_text("a longer, edited model card")
    assert judge(model=str(folder)).fingerprint == first
    (folder / "config.json").write_text("{}")
    assert judge(model=str(folder)).fingerprint != first
