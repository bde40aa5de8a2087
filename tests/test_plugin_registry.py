"""The one registry every plug-in kind uses: lazy built-ins, run-time registration, clear errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.errors import InputError, PuncError
from harness.registry import BASELINES, GENERATORS, JUDGES, REGISTRIES, SCORERS, Registry
from harness.scorers.base import TextScorer


class EchoScorer(TextScorer):
    """Scores 1 when the caption repeats the prompt exactly.

    Second paragraph, not shown by punc ls.
    """

    name = "echo"
    outputs = ("match",)

    def signature(self) -> str:
        return "echo:v1"

    def score(self, prompts, captions):
        return [{"match": float(p == c)} for p, c in zip(prompts, captions, strict=True)]


def test_unknown_name_is_an_input_error_listing_known_names():
    with pytest.raises(InputError) as caught:
        SCORERS.get("bleu")
    message = str(caught.value)
    assert message.startswith("unknown scorer 'bleu'; expected one of: rouge1, rougeL, bertscore, cosine")
    with pytest.raises(InputError, match=r"tasks/t.yaml at key baselines\[0\]: unknown baseline 'nope'"):
        BASELINES.get("nope", file="tasks/t.yaml", where="key baselines[0]")
    with pytest.raises(InputError) as caught:
        JUDGES.get("evil\nerror: forged line")
    assert "\n" not in str(caught.value) and "unknown judge backend 'evil\\nerror" in str(caught.value)


def test_registration_lists_describes_and_builds_then_unregisters():
    with SCORERS.registered("echo", EchoScorer):
        assert "echo" in SCORERS and SCORERS.names()[-1] == "echo" and not SCORERS.is_builtin("echo")
        assert SCORERS.describe()["echo"] == "Scores 1 when the caption repeats the prompt exactly."
        assert SCORERS.targets()["echo"] == f"{__name__}:EchoScorer"
        from harness.scorers import build_scorer

        assert build_scorer("echo").score(["a", "b"], ["a", "c"]) == [{"match": 1.0}, {"match": 0.0}]
        with pytest.raises(PuncError, match="already registered"):
            SCORERS.register("echo", EchoScorer)
        with pytest.raises(PuncError, match="already registered"):
            SCORERS.register("rouge1", EchoScorer)  # a built-in name cannot be taken
    assert "echo" not in SCORERS


def test_a_class_of_the_wrong_kind_is_refused():
    with GENERATORS.registered("not-a-generator", EchoScorer):
        with pytest.raises(PuncError, match="does not subclass harness.generators.base.Generator"):
            GENERATORS.get("not-a-generator")


def test_a_target_that_cannot_be_imported_is_a_clear_error():
    registry: Registry = Registry("widget", TextScorer, "punc.widgets", {"gone": "no_such_module_xyz:Thing"})
    with pytest.raises(
        PuncError, match=r"widget 'gone': no_such_module_xyz:Thing failed to load: ModuleNotFoundError"
    ):
        registry.get("gone")
    assert registry.description("gone").startswith("(cannot load:")


def test_every_built_in_loads_and_has_a_one_line_description():
    for kind, registry in REGISTRIES.items():
        for name in registry.names():
            if not registry.is_builtin(name):
                continue
            cls = registry.get(name)
            assert issubclass(cls, registry.base_class), (kind, name)
            description = registry.description(name)
            assert description and "\n" not in description and description != "(no description)", (kind, name)
            assert description == cls.__doc__.strip().splitlines()[0].strip()


def test_listing_descriptions_imports_no_plugin_module():
    """`punc ls` stays fast: descriptions are read from source, so torch and the backends stay unloaded."""
    code = (
        "import sys\n"
        "from harness.registry import REGISTRIES\n"
        "[r.describe() for r in REGISTRIES.values()]\n"
        "heavy = [m for m in ('torch', 'transformers', 'diffusers', 'httpx', 'harness.judges.transformers_backend',"
        " 'harness.generators.diffusers_pipeline', 'harness.baselines.seed_ensemble') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_judge_backends_are_registered_with_their_options():
    from harness.config.judge import JudgeConfig

    for name in JUDGES.names():
        config_class = JUDGES.get(name).config_class
        assert issubclass(config_class, JudgeConfig)
        assert config_class.model_fields["backend"].annotation.__args__ == (name,)
