"""Every task, judge and prompt set the repository ships must validate, so docs and examples stay true."""

from pathlib import Path

import pytest
from cli_runner import run_punc

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(
    [*ROOT.glob("tasks/**/*.yaml"), *ROOT.glob("judges/**/*.yaml"), *ROOT.glob("prompts/*.jsonl")],
    key=str,
)


def needs_network(path: Path) -> bool:
    """Suites read from the hub or a URL (tests/config/test_suites.py runs them on local fixtures)."""
    from harness.config._yaml import load_yaml_model
    from harness.config.task import TaskConfig
    from harness.prefetch import dataset_needs

    if path.relative_to(ROOT).parts[0] != "tasks" or path.suffix != ".yaml":
        return False
    return bool(dataset_needs(load_yaml_model(TaskConfig, path), path.parent))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_file_validates(path):
    code, out, err = run_punc("validate", str(path))
    if needs_network(path):  # offline here: the config must be valid and the error must say what to do
        assert code == 2 and "punc prefetch" in err and "Traceback" not in err, err
        return
    assert code == 0, err
    assert out.startswith(f"ok {path}")


def test_ls_lists_shipped_judges_and_tasks():
    code, out, _ = run_punc("ls", "judges")
    assert code == 0 and "qwen2-vl-vllm" in out
    code, out, _ = run_punc("ls", "tasks")
    assert code == 0 and "template/task.yaml" in out
    code, _, err = run_punc("ls", "nonsense")
    assert code == 2 and "'nonsense' is not one of 'tasks', 'judges', 'scorers', 'generators'" in err


def test_template_comment_command_runs_as_written(tmp_path):
    """The command in tasks/template/task.yaml's comment, run in a copy of the checkout's layout."""
    import json
    import os
    import shutil
    import subprocess
    import sys

    shutil.copytree(ROOT / "tasks" / "template", tmp_path / "tasks" / "template")
    (tmp_path / "models").symlink_to(ROOT / "models")
    text = (ROOT / "tasks" / "template" / "task.yaml").read_text()
    command = next(line for line in text.splitlines() if "cp -r tasks/template" in line).lstrip("# ").strip()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HF_HUB_OFFLINE": "1",
    }
    done = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ok tasks/my_task/task.yaml: task, 4 prompts x 2 images" in done.stdout
    results = json.loads((tmp_path / "runs" / "my_task" / "generator-long" / "results.json").read_text())
    assert results["complete"] and results["counts"]["images"] == 8
    assert results["judge"]["name"] == "world-captioner"
    assert [line.split("│")[1].strip() for line in done.stdout.splitlines() if line.startswith("│")][
        0
    ] == "none"
