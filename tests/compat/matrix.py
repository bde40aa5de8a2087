"""The compatibility matrix: every architecture through the installed `punc eval`, and its Markdown table.

Shared by tests/compat/test_matrix.py (which runs it and checks docs/compatibility.md against it) and
scripts/make_compatibility.py (which writes docs/compatibility.md).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

import tiny_judges  # noqa: E402
from tiny_generators import GENERATORS  # noqa: E402
from tiny_judges import build_tiny_captioner  # noqa: E402

PROMPTS = ["a red cat on a field", "two blue boats on a river"]
NEGATIVE = "blurry ugly"
PUNC = str(Path(sys.executable).with_name("punc"))


@dataclass
class Outcome:
    """What one `punc eval` run did: exit code, the first error line, and results.json when written."""

    code: int
    message: str
    results: dict | None

    @property
    def ok(self) -> bool:
        return self.code == 0 and self.results is not None and self.results["complete"]


def write_inputs(root: Path) -> tuple[Path, Path]:
    """A two-prompt set and a tiny captioner judge (the judge is not under test here)."""
    root.mkdir(parents=True, exist_ok=True)
    prompts = root / "prompts.jsonl"
    prompts.write_text(
        "\n".join(json.dumps({"id": f"p{i}", "text": t}) for i, t in enumerate(PROMPTS)) + "\n"
    )
    build_tiny_captioner(root / "captioner")
    judge = root / "judge.yaml"
    judge.write_text(
        "name: tinycap\nbackend: transformers\nmodel: captioner\nmax_new_tokens: 6\nbatch_size: 8\n"
    )
    return prompts, judge


def write_task(root: Path, name: str, side: int, generator_kwargs: dict, negative: bool) -> Path:
    lines = [
        f"name: {name}",
        "prompts: prompts.jsonl",
        "images_per_prompt: 1",
        "steps: 2",
        f"width: {side}",
        f"height: {side}",
        "scorers: [rougeL]",
        "bootstrap_samples: 0",
        f"generator_kwargs: {json.dumps(generator_kwargs)}",
    ]
    if negative:
        lines += [f"negative_prompt: {NEGATIVE}", "guidance: 5.0"]
    task = root / f"{name}.yaml"
    task.write_text("\n".join(lines) + "\n")
    return task


def run_eval(task: Path, generator: Path, judge: Path, out: Path, subprocess_cli: bool = False) -> Outcome:
    """`punc eval` as a user runs it: the installed executable (subprocess_cli) or its `main` in-process.

    In-process saves one torch/diffusers import per run (about ten seconds each on CI); the test suite
    runs the installed executable for a sample of rows so exit codes and messages are checked as users
    see them.
    """
    argv = ["eval", str(task), "-g", str(generator), "-j", str(judge), "-o", str(out), "-q"]
    if subprocess_cli:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        proc = subprocess.run([PUNC, *argv], capture_output=True, text=True, env=env, timeout=600)
        code, stderr = proc.returncode, proc.stderr
    else:
        from cli_runner import run_punc

        code, _, stderr = run_punc(*argv)
    results_file = out / "results.json"
    results = json.loads(results_file.read_text()) if code == 0 and results_file.exists() else None
    errors = [
        line.removeprefix("error:").strip() for line in stderr.splitlines() if line.startswith("error:")
    ]
    return Outcome(code, "\n".join(line for line in errors if line), results)


def run_generator_matrix(root: Path) -> dict[str, dict[str, Outcome]]:
    """Each architecture with a plain task and a negative-prompt task (guidance 5)."""
    _, judge = write_inputs(root)
    found: dict[str, dict[str, Outcome]] = {}
    for index, (arch, (build, kwargs, side)) in enumerate(GENERATORS.items()):
        model = build(root / "models" / f"gen{index}", 0)
        found[arch] = {}
        for negative in (False, True):
            variant = "negative" if negative else "plain"
            task = write_task(root, f"gen{index}-{variant}", side, kwargs, negative)
            outcome = run_eval(task, model, judge, root / "runs" / f"gen{index}-{variant}")
            outcome.message = outcome.message.replace(f"{root}/", "")
            found[arch][variant] = outcome
    return found


@dataclass(frozen=True)
class JudgeCase:
    """A judge architecture: its tiny builder, the judge YAML's extra lines, and what should happen."""

    builder: str
    model_class: str
    yaml: str = ""
    expect: str = "works"


JUDGES: dict[str, JudgeCase] = {
    "VisionEncoderDecoder": JudgeCase("build_tiny_captioner", "VisionEncoderDecoderModel"),
    "BLIP": JudgeCase("build_tiny_blip", "BlipForConditionalGeneration"),
    "BLIP-2": JudgeCase("build_tiny_blip2", "Blip2ForConditionalGeneration"),
    "GIT": JudgeCase("build_tiny_git", "GitForCausalLM"),
    "PaliGemma": JudgeCase(
        "build_tiny_paligemma", "PaliGemmaForConditionalGeneration", "instruction: caption en"
    ),
    "LLaVA": JudgeCase("build_tiny_chat_vlm", "LlavaForConditionalGeneration"),
    "LLaVA-NeXT": JudgeCase("build_tiny_llava_next", "LlavaNextForConditionalGeneration"),
    "Gemma3": JudgeCase("build_tiny_gemma3", "Gemma3ForConditionalGeneration"),
    "Idefics3": JudgeCase("build_tiny_idefics3", "Idefics3ForConditionalGeneration"),
    "Qwen2-VL": JudgeCase(
        "build_tiny_qwen2vl",
        "Qwen2VLForConditionalGeneration",
        expect="works" if importlib.util.find_spec("torchvision") else "pip install 'punc-harness[vlm]'",
    ),
}


def write_premade_images(root: Path) -> Path:
    """Pre-made images (one per prompt) so that judge rows test the judge only."""
    from PIL import Image

    folder = root / "images"
    for index, image in enumerate(tiny_judges.make_images(len(PROMPTS), size=32)):
        (folder / f"p{index}").mkdir(parents=True, exist_ok=True)
        Image.Image.save(image, folder / f"p{index}" / "0.png")
    return folder


def run_judge_matrix(root: Path) -> dict[str, Outcome]:
    """Each judge architecture in `auto` mode captions the same pre-made images through `punc eval`."""
    write_inputs(root)
    images = write_premade_images(root)
    task = write_task(root, "judges", 32, {}, negative=False)
    found: dict[str, Outcome] = {}
    for index, (arch, case) in enumerate(JUDGES.items()):
        getattr(tiny_judges, case.builder)(root / f"judge{index}")
        judge = root / f"judge{index}.yaml"
        judge.write_text(
            f"name: judge{index}\nbackend: transformers\nmodel: judge{index}\nmax_new_tokens: 6\n"
            f"batch_size: 8\nmode: auto\n{case.yaml}\n"
        )
        outcome = run_eval(task, images, judge, root / "runs" / f"judge{index}")
        outcome.message = outcome.message.replace(f"{root}/", "")  # the page must not show temp paths
        found[arch] = outcome
    return found


def judge_table(found: dict[str, Outcome]) -> str:
    rows = ["| Architecture | Model class | Mode picked by `auto` | Result |", "|---|---|---|---|"]
    for arch, outcome in found.items():
        case = JUDGES[arch]
        mode = (outcome.results or {}).get("judge", {}).get("mode", "—")
        if case.yaml:
            mode += f" (judge YAML: `{case.yaml}`)"
        rows.append(f"| {arch} | `{case.model_class}` | {mode} | {_cell(outcome)} |")
    return "\n".join(rows)


JUDGES_HEADER = """## Judges

Each judge captions the same two pre-made images through `punc eval` with `mode: auto`. Captioners
(VisionEncoderDecoder, BLIP, BLIP-2, GIT) take no instruction; PaliGemma is a prefix captioner and gets the
judge's `instruction` as its text prefix (use a PaliGemma task prefix such as `caption en`); chat VLMs get the
instruction as a user turn through their chat template. Qwen2-VL's processor needs torchvision (its video
processor), which does not load with the CPU torch build used here: without it the judge stops with the
message shown (`pip install 'punc-harness[vlm]'` adds torchvision and num2words).

"""


def _recipe(outcome: Outcome) -> dict:
    return outcome.results["generation_recipe"] if outcome.results else {}


def _cell(outcome: Outcome) -> str:
    if outcome.ok:
        applied = _recipe(outcome).get("applied", {})
        parts = ["works"]
        if applied.get("guidance_argument") and applied["guidance_argument"] != "guidance_scale":
            parts.append(f"guidance → `{applied['guidance_argument']}`")
        if applied.get("negative_prompt") == " ":
            parts.append("blank negative prompt sent to enable CFG")
        return "; ".join(parts)
    lines = outcome.message.splitlines()
    reason = next((line for line in lines if "negative_prompt:" in line or "guidance:" in line), None)
    return f"refused (exit {outcome.code}): {reason or (lines[0] if lines else '')}"


def generator_table(found: dict[str, dict[str, Outcome]]) -> str:
    rows = [
        "| Architecture | Pipeline class | Guidance is | Plain task | Negative prompt + guidance 5 | Tiny-model kwargs |",
        "|---|---|---|---|---|---|",
    ]
    for arch, outcomes in found.items():
        plain = outcomes["plain"]
        recipe = _recipe(plain)
        pipeline = (plain.results or {}).get("generator", {}).get("pipeline_class", "?")
        meaning = recipe.get("applied", {}).get("guidance_meaning", "—")
        kwargs = GENERATORS[arch][1]
        rows.append(
            f"| {arch} | `{pipeline}` | {meaning} | {_cell(plain)} | {_cell(outcomes['negative'])} | "
            f"{'`' + json.dumps(kwargs) + '`' if kwargs else '—'} |"
        )
    return "\n".join(rows)


HEADER = """# Compatibility

Generated by `scripts/make_compatibility.py` from the compatibility matrix that the test suite runs
(`tests/compat/test_matrix.py` fails when this page no longer matches what the matrix does). Every row is a
tiny random-weight model of the real architecture, built offline from a config (as diffusers' and
transformers' own test suites do), run through the installed `punc eval` exactly as a user would.
Diffusers {diffusers}, transformers {transformers}.

"Refused" means `punc eval` stops before the first image with exit code 2 and the message shown, instead of
making images that ignore the task's setting (set `unsupported_settings: warn` in the task to run anyway;
the settings not applied are then listed in the recipe's `not_applied`).

## Generators

Each architecture runs a plain task (2 steps, 32×32, no guidance set) and a task with
`negative_prompt` and `guidance: 5.0`. "Guidance is" says what the task's `guidance` becomes in that
pipeline, read from its call signature and components (see `harness/generators/call_fitting.py`).

"""


def render_page(generators: dict[str, dict[str, Outcome]], judges: dict[str, Outcome]) -> str:
    import diffusers
    import transformers

    head = HEADER.format(diffusers=diffusers.__version__, transformers=transformers.__version__)
    return head + generator_table(generators) + "\n\n" + JUDGES_HEADER + judge_table(judges) + "\n"
