"""`punc eval`: one command from task to results.json, resumable by running it again."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli.app import app


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
    batch_size: int = typer.Option(None, "--batch-size", min=1, help="Generation batch size."),
    name: str = typer.Option(None, "--name", help="Model name shown in results and boards."),
    rescore: bool = typer.Option(False, "--rescore", help="Recompute scores; keep images and captions."),
    score_batch_size: int = typer.Option(
        256, "--score-batch-size", min=1, help="Caption-prompt pairs per scorer call."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
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
) -> None:
    """Evaluate a text-to-image model: generate K images per prompt, caption them, score, aggregate."""
    from harness.cli.summary import print_summary
    from harness.config.judge import load_judge
    from harness.config.task import load_task
    from harness.errors import PuncError
    from harness.locate import resolve_judge_path, resolve_task_path
    from harness.run.cost import Prices
    from harness.run.evaluate import EvalOptions, evaluate
    from harness.run.launch import run_processes
    from harness.run.sharding import launched_world_size

    loaded = load_task(resolve_task_path(task)).with_overrides(images_per_prompt=images_per_prompt)
    generator_spec = generator or (loaded.config.generator and loaded.resolve_path(loaded.config.generator))
    if not generator_spec:
        raise PuncError(f"{loaded.source}: the task names no generator; pass --generator")
    judge_value = judge or (loaded.config.judge and loaded.resolve_path(loaded.config.judge))
    if not judge_value:
        raise PuncError(f"{loaded.source}: the task names no judge; pass --judge")
    judge_path = resolve_judge_path(judge_value)
    judge_config = load_judge(judge_path)
    model_label = name or Path(generator_spec.rstrip("/")).name.split(":")[-1]
    out_dir = out or Path("runs") / loaded.config.name / model_label
    if num_processes > 1 and launched_world_size() == 1:
        given = {
            "--generator": generator_spec, "--judge": str(judge_path), "--out": str(out_dir),
            "--limit": limit, "--images-per-prompt": images_per_prompt, "--device": device,
            "--batch-size": batch_size, "--name": name, "--score-batch-size": score_batch_size,
            "--generator-price-per-image": generator_price, "--judge-price-per-call": judge_price,
            "--device-hour-usd": device_hour_usd,
        }  # fmt: skip
        child = ["eval", loaded.source, *(["--rescore"] if rescore else []), *(["--quiet"] if quiet else [])]
        for flag, value in given.items():
            if value is not None:
                child += [flag, str(value)]
        run_processes(num_processes, child, str(out_dir))  # the main process prints the summary
        return
    prices = Prices(
        generator_per_image_usd=generator_price,
        judge_per_call_usd=judge_price if judge_price is not None else judge_config.price_per_call_usd,
        device_hour_usd=device_hour_usd,
    )
    results = evaluate(
        EvalOptions(
            task=loaded,
            generator=generator_spec,
            judge=judge_config,
            out_dir=out_dir,
            limit=limit,
            device=device,
            batch_size=batch_size,
            rescore=rescore,
            model_name=name,
            progress=not quiet,
            score_batch_size=score_batch_size,
            prices=prices,
        )
    )
    if results is not None:  # None on every process of a multi-process launch but the main one
        print_summary(results, out_dir)
