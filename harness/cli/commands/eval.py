"""`punc eval`: one command from task to results.json, resumable by running it again."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from harness.cli.app import app
from harness.threads import THREADS_ENV

if TYPE_CHECKING:
    from harness.run.schema import Results


class Dtype(StrEnum):
    auto = "auto"
    float32 = "float32"
    float16 = "float16"
    bfloat16 = "bfloat16"


@app.command("eval")
def eval_command(
    task: str = typer.Argument(None, help="Task YAML path or name in tasks/ (default: the embedded world)."),
    generator: str = typer.Option(
        None,
        "--generator",
        "-g",
        help="Diffusers hub id or folder, pre-made images (folder or JSONL), or KIND:ARG.",
    ),
    judge: str = typer.Option(None, "--judge", "-j", help="Judge YAML path or name in judges/."),
    out: Path = typer.Option(None, "--out", "-o", help="Run directory (default runs/TASK/MODEL)."),
    limit: int = typer.Option(None, "--limit", min=1, help="Only the first N prompts of each shift."),
    images_per_prompt: int = typer.Option(None, "--images-per-prompt", "-k", min=1, help="Override K."),
    device: str = typer.Option(None, "--device", help="cpu, cuda, cuda:1, mps (default: best available)."),
    dtype: Dtype = typer.Option(
        None,
        "--dtype",
        help="Generator weights dtype (overrides the task's dtype; default: float32 on CPU, bf16/fp16 on GPUs).",
    ),
    batch_size: int = typer.Option(None, "--batch-size", min=1, help="Generation batch size."),
    name: str = typer.Option(None, "--name", help="Model name shown in results and boards."),
    rescore: bool = typer.Option(False, "--rescore", help="Recompute scores; keep images and captions."),
    score_batch_size: int = typer.Option(
        256, "--score-batch-size", min=1, help="Caption-prompt pairs per scorer call."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    allow_failures: bool = typer.Option(
        False, "--allow-failures", help="Exit 0 even when some items failed (they are listed)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
    threads: int = typer.Option(
        None,
        "--threads",
        min=1,
        help=f"torch CPU threads (default: ${THREADS_ENV}, else the CPUs this process may use).",
    ),
    num_processes: int = typer.Option(
        1,
        "--num-processes",
        min=1,
        help="Processes sharing the work through accelerate: one per GPU, or splitting the CPU cores.",
    ),
    generator_price: float = typer.Option(
        None, "--generator-price-per-image", min=0, help="US dollars per generated image (API generators)."
    ),
    judge_price: float = typer.Option(
        None, "--judge-price-per-call", min=0, help="US dollars per caption call (overrides the judge YAML)."
    ),
    device_hour_usd: float = typer.Option(
        None, "--device-hour-usd", min=0, help="US dollars per process-hour of this machine's devices."
    ),
    overlap: bool = typer.Option(
        None,
        "--overlap/--no-overlap",
        help="Caption images while later ones are generated (default: on for remote judges, backend openai).",
    ),
) -> None:
    """Evaluate a text-to-image model: generate K images per prompt, caption them, score, aggregate.

    Exit code 0: all work done; 1: finished with failed items (listed; --allow-failures makes it 0);
    2: bad input or usage; 130: interrupted (finished work is kept; run the same command to resume).
    """
    from harness.cli.summary import print_summary
    from harness.errors import Interrupted
    from harness.run.cost import Prices
    from harness.run.evaluate import EvalOptions, evaluate
    from harness.run.launch import run_processes
    from harness.run.options import resolve_inputs
    from harness.run.overlap import overlap_wanted
    from harness.run.progress import console
    from harness.run.sharding import launched_world_size
    from harness.threads import apply_threads, resolve_threads

    inputs = resolve_inputs(
        task,
        generator,
        judge,
        out,
        name,
        images_per_prompt,
        generator_hint="--generator",
        judge_hint="--judge",
    )
    loaded, generator_spec, judge_path, judge_config = (
        inputs.task,
        inputs.generator,
        inputs.judge_path,
        inputs.judge,
    )
    overlap_wanted(overlap, judge_config)  # --overlap with a local judge is a usage error, before any work
    out_dir = inputs.out_dir
    thread_count, thread_source = resolve_threads(threads)
    if num_processes > 1 and launched_world_size() == 1:
        given = {
            "--generator": generator_spec, "--judge": str(judge_path), "--out": str(out_dir),
            "--limit": limit, "--images-per-prompt": images_per_prompt, "--device": device,
            "--dtype": dtype.value if dtype else None,
            "--batch-size": batch_size, "--name": name, "--score-batch-size": score_batch_size,
            "--generator-price-per-image": generator_price, "--judge-price-per-call": judge_price,
            "--device-hour-usd": device_hour_usd,
        }  # fmt: skip
        child = ["eval", loaded.source, *(["--rescore"] if rescore else []), *(["--quiet"] if quiet else [])]
        if overlap is not None:
            child.append("--overlap" if overlap else "--no-overlap")
        for flag, value in given.items():
            if value is not None:
                child += [flag, str(value)]
        child.append("--allow-failures")  # the ranks report failures in results; this process judges them
        try:
            run_processes(num_processes, child, str(out_dir))
        except KeyboardInterrupt:
            raise Interrupted(kept_items(out_dir)) from None
        return exit_for_failures(load_results_file(out_dir), allow_failures)  # rank 0 printed the summary
    if launched_world_size() == 1:
        apply_threads(thread_count)
        console.print(f"torch threads: {thread_count} ({thread_source})")
    prices = Prices(
        generator_per_image_usd=generator_price,
        judge_per_call_usd=judge_price if judge_price is not None else judge_config.price_per_call_usd,
        device_hour_usd=device_hour_usd,
    )
    try:
        results = evaluate(
            EvalOptions(
                task=loaded,
                generator=generator_spec,
                judge=judge_config,
                out_dir=out_dir,
                limit=limit,
                device=device,
                dtype=dtype.value if dtype else None,
                batch_size=batch_size,
                rescore=rescore,
                model_name=name,
                progress=not quiet,
                score_batch_size=score_batch_size,
                prices=prices,
                overlap=overlap,
            )
        )
    except KeyboardInterrupt:
        raise Interrupted(kept_items(out_dir)) from None
    if results is None:  # a rank of a multi-process launch other than the main one
        return
    print_summary(results, out_dir, as_json=as_json)
    exit_for_failures(results, allow_failures)


def exit_for_failures(results: Results, allow_failures: bool) -> None:
    """Exit code 1 when items failed, unless the user accepts them."""
    from harness.run.progress import console

    failed = failed_items(results)
    if failed and not allow_failures:
        console.print(
            f"exit code 1: {failed} item(s) failed (listed above); re-run to retry them, "
            "or pass --allow-failures to accept them"
        )
        raise typer.Exit(1)


def load_results_file(out_dir: Path) -> Results:
    """The results.json the main rank of a multi-process run wrote."""
    from harness.run.reader import load_results

    return load_results(out_dir)


def kept_items(out_dir: Path) -> int:
    """Finished items on disk (images, captions, scores): what a resumed run will not redo."""
    from harness.run.store import RunLayout

    layout = RunLayout(out_dir)
    total = 0
    for path in (layout.images_log, layout.captions_log, layout.scores_log):
        try:
            with open(path, "rb") as handle:
                total += sum(1 for line in handle if line.strip())
        except OSError:
            continue
    return total


def failed_items(results: Results) -> int:
    """Items the run could not make: recorded failures, or fewer images/captions than expected."""
    counts = results.counts
    missing = max(
        counts.failed_images + counts.failed_captions,
        counts.expected_images - counts.images,
        counts.expected_captions - counts.captions,
    )
    return max(missing, len(results.failures))
