"""docs/extending.md's worked example, for real: the example package is installed into a temporary
folder with pip, its four plug-ins are found through their entry points, and a run uses all four.

The files the document shows must be the files tested here, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.run.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "data" / "plugin_example"
DOC = ROOT / "docs" / "extending.md"
PUNC = str(Path(sys.executable).parent / "punc")
NAMES = {
    "generators": "stripes",
    "judge backends": "colour-names",
    "scorers": "jaccard",
    "baselines": "pixel_spread",
}


def doc_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", DOC.read_text(), flags=re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_the_document_shows_the_example_files_as_they_are():
    shown = re.findall(r"<!-- file: (\S+) -->\n```\w+\n(.*?)```\n", DOC.read_text(), flags=re.S)
    assert {path for path, _ in shown} == {
        str(p.relative_to(ROOT))
        for p in [
            EXAMPLE / "pyproject.toml",
            *EXAMPLE.glob("punc_example/[!_]*.py"),
            *EXAMPLE.glob("demo/*.yaml"),
        ]
    }
    for path, text in shown:
        assert (ROOT / path).read_text() == text, path


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The document's `pip install` line, run on a copy (pip builds in the source folder) and offline."""
    (install,) = [c for c in doc_commands() if c.startswith("pip install")]
    work = tmp_path_factory.mktemp("plugin")
    source = shutil.copytree(EXAMPLE, work / "plugin_example", ignore=shutil.ignore_patterns("demo"))
    target = work / "site"
    args = shlex.split(install)[2:]
    args = [
        str(source) if a == "tests/data/plugin_example" else str(target) if a == "/tmp/punc-example" else a
        for a in args
    ]
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    # --no-build-isolation: build with this environment's setuptools instead of downloading one
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-build-isolation", "-q", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (target / "punc_example" / "jaccard.py").exists()
    return target


def punc(*args: str, site: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1", "NO_COLOR": "1"}
    return subprocess.run([PUNC, *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def test_installed_plugins_are_listed_under_their_kind(site):
    assert "PYTHONPATH=/tmp/punc-example punc ls" in doc_commands()
    done = punc("ls", site=site)
    assert done.returncode == 0, done.stderr
    heading = None
    found = {}
    for line in done.stdout.splitlines():
        if line.endswith(":") and not line.startswith(" "):
            heading = line[:-1]
        elif line.strip() and line.split()[0] in NAMES.values():
            found[line.split()[0]] = (heading, line.split(None, 1)[1])
    assert {name: kind for kind, name in NAMES.items()} == {name: kind for name, (kind, _) in found.items()}
    assert (
        found["colour-names"][1]
        == "Names the average colour of each image ('a mostly red image'); no model, no GPU."
    )


def test_a_run_uses_all_four_plugins(site, tmp_path):
    (command,) = [c for c in doc_commands() if " punc eval " in c]
    run = tmp_path / "run"
    args = shlex.split(command.replace("/tmp/punc-example-run", str(run)))[2:]  # after PYTHONPATH=... punc
    done = punc(*args, "-q", site=site, cwd=EXAMPLE / "demo")
    assert done.returncode == 0, done.stderr
    results = json.loads((run / "results.json").read_text())
    assert (
        results["judge"]["backend"] == "colour-names" and results["judge"]["fields"]["palette"] == "extended"
    )
    assert results["generator"]["kind"] == "stripes"
    prompts = {
        json.loads(line)["id"]: json.loads(line)["text"]
        for line in (EXAMPLE / "demo" / "prompts.jsonl").open()
    }

    store = RunStore(run)
    images = {(r["prompt_id"], r["index"]): r for r in map(json.loads, (run / "images.jsonl").open())}
    assert len(images) == 3 * len(prompts)
    for (pid, _), record in images.items():
        # the stripes generator's first band is coloured by sha256("<first word>:<seed>")
        picture = store.open_image(record["image_hash"]).convert("RGB")
        digest = hashlib.sha256(f"{prompts[pid].split()[0]}:{record['recipe']['seed']}".encode()).digest()
        assert picture.getpixel((0, 0)) == tuple(digest[:3])

    captions = {
        (r["prompt_id"], r["index"]): r["caption"] for r in map(json.loads, (run / "captions.jsonl").open())
    }
    assert len(captions) == len(images)
    assert all(re.fullmatch(r"a mostly [a-z]+ image", text) for text in captions.values())
    for row in map(json.loads, (run / "scores.jsonl").open()):
        prompt, caption = (
            set(prompts[row["prompt_id"]].split()),
            set(captions[(row["prompt_id"], row["index"])].split()),
        )
        assert row["values"]["jaccard"] == pytest.approx(
            len(prompt & caption) / len(prompt | caption), abs=1e-12
        )

    spreads = {r["prompt_id"]: r["u"] for r in map(json.loads, (run / "baselines.jsonl").open())}
    for pid in prompts:
        stack = np.stack(
            [
                np.asarray(store.open_image(images[(pid, k)]["image_hash"]).convert("RGB"), float) / 255
                for k in range(3)
            ]
        )
        assert spreads[pid] == pytest.approx(stack.std(axis=0).mean(), abs=1e-9)


def test_a_typo_in_the_backend_option_is_refused_with_file_line_and_field(site, tmp_path):
    judge = tmp_path / "colours.yaml"
    judge.write_text((EXAMPLE / "demo" / "colours.yaml").read_text().replace("palette:", "pallete:"))
    done = punc("validate", str(judge), site=site)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{judge} at line 5, key pallete: field 'pallete': expected no unknown field" in done.stderr
    assert "palette" in done.stderr.split("allowed:")[1]
    good = punc("validate", str(EXAMPLE / "demo" / "colours.yaml"), site=site)
    assert good.returncode == 0 and "judge (colour-names)" in good.stdout


def test_registration_at_run_time_without_installing(site, monkeypatch):
    """The notebook route: register a class by hand; it is listed, built and unregistered."""
    monkeypatch.syspath_prepend(str(site / "punc_example"))  # the module alone, not the installed package
    from jaccard import JaccardScorer  # type: ignore[import-not-found]

    from harness.registry import SCORERS
    from harness.scorers import build_scorer

    with SCORERS.registered("word_jaccard", JaccardScorer):
        assert SCORERS.describe()["word_jaccard"].startswith("Jaccard similarity of lower-cased word sets")
        rows = build_scorer("word_jaccard").score(["a red circle"], ["a mostly red image"])
        assert rows == [{"jaccard": 2 / 5}]  # {a, red} of {a, red, circle, mostly, image}
    assert "word_jaccard" not in SCORERS
    sys.modules.pop("jaccard", None)
