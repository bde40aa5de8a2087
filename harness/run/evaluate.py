"""`punc eval`: generate, caption, score, aggregate; each stage does only the work not yet on disk."""

from __future__ import annotations

import platform
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from harness._version import __version__
from harness.config.judge import JudgeConfig
from harness.config.task import LoadedTask
from harness.errors import storage_error
from harness.fingerprint import local_model_identity
from harness.run.aggregate import grouped, prompt_results, summarize
from harness.run.cost import Prices, StageTally, run_cost
from harness.run.jsonl import atomic_write_json, read_jsonl
from harness.run.noise import show_library_warnings_once
from harness.run.preflight import run_preflight
from harness.run.progress import console, stage_progress
from harness.run.records import FailureLine, read_records
from harness.run.schema import Failure, Results
from harness.run.sharding import device_label, fold_shards, grid_position, join_processes
from harness.run.store import RunStore

SCORE_BATCH = 256
TRACKED_LIBRARIES = (
    "torch",
    "diffusers",
    "transformers",
    "sentence-transformers",
    "rouge-score",
    "bert-score",
    "vllm",
    "numpy",
    "pydantic",
)


@dataclass
class EvalOptions:
    task: LoadedTask
    generator: str
    judge: JudgeConfig
    out_dir: Path
    limit: int | None = None
    device: str | None = None
    dtype: str | None = None
    batch_size: int | None = None
    rescore: bool = False
    model_name: str | None = None
    progress: bool = True
    score_batch_size: int = SCORE_BATCH
    prices: Prices | None = None


def generator_identity(spec: str) -> str:
    """What a run directory is tied to: a model's spec plus, for local model folders, a content identity.

    Pre-made images are tied to their source path only: fixing a broken file must not orphan the run
    (each image's own sha256 is in its recipe).
    """
    from harness.generators import IMPORTERS, split_spec

    kind, argument = split_spec(spec)
    if kind == "premade" or kind in IMPORTERS:
        return f"{kind}:{Path(argument).resolve()}"
    local = local_model_identity(argument) if Path(argument).exists() else None
    return f"{kind}:{Path(argument).name}@{local}" if local else f"{kind}:{argument}"


def plan_chunks(
    grid: list[Any], size: int, done: Any, batch_invariant: bool = False
) -> list[tuple[list[Any], set[Any]]]:
    """Batches of work still to do, as (batch, unfinished items of it).

    Batched kernels round differently for different batch compositions, so for local models a resumed
    run must batch exactly like an uninterrupted one: batches are fixed over the whole work grid, and a
    batch with some finished items is recomputed whole (only its unfinished items are stored).
    Batch-invariant backends (a remote judge, pre-made images) get only the unfinished items.
    """
    if batch_invariant:
        todo = [key for key in grid if key not in done]
        return [(todo[i : i + size], set(todo[i : i + size])) for i in range(0, len(todo), size)]
    plan = []
    for start in range(0, len(grid), size):
        chunk = grid[start : start + size]
        todo = {key for key in chunk if key not in done}
        if todo:
            plan.append((chunk, todo))
    return plan


def caption_item(record: dict[str, Any]) -> tuple[str, int, str, int]:
    """The caption-grid key of a caption or score record."""
    return (record["prompt_id"], int(record["index"]), record["image_hash"], int(record["sample_index"]))


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "punc-harness": __version__}
    for name in TRACKED_LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _quiet_library_progress() -> None:
    """Library progress bars would interleave with ours; their warnings stay."""
    import diffusers
    import transformers

    transformers.utils.logging.disable_progress_bar()
    diffusers.utils.logging.disable_progress_bar()
    show_library_warnings_once()


class Evaluation:
    """One evaluation of one generator on one task with one judge, resumable at item granularity."""

    def __init__(self, options: EvalOptions) -> None:
        self.o = options
        self.full_task = options.task
        self.task = options.task.limited(options.limit)
        self.config = self.task.config
        self.ranks = join_processes(options.device)  # one process unless accelerate launched several
        self.device = self.ranks.device
        self.store = RunStore(options.out_dir, shard=self.ranks.shard_name)
        self.show_progress = options.progress and self.ranks.is_main
        self.timings: dict[str, float] = {}
        self.recomputed = 0  # finished items recomputed to keep batches identical after a resume
        self.generator_description: dict[str, Any] | None = None
        self.judge_runtime: dict[str, str] | None = None

    def _note_recompute(self, stage: str, count: int) -> None:
        if count:
            self.recomputed += count
            self.store.log_event("recompute", stage=stage, finished_items=count)

    def _fold(self, log: Path, identity: Any = None, position: Any = None) -> None:
        """Fold the processes' shard logs (and a killed run's leftovers) into `log`; everyone waits for it."""
        self.ranks.barrier()
        if self.ranks.is_main:
            fold_shards(self.store.root, log, identity, position)
        self.ranks.barrier()

    def _progress_span(self, grid_size: int, plan: list[tuple[list[Any], set[Any]]]) -> dict[str, int]:
        """A bar over the whole grid for one process; over its own share when several work."""
        todo = sum(len(t) for _, t in plan)
        if self.ranks.sharded:
            return {"total": todo}
        return {"total": grid_size, "completed": grid_size - todo}

    def _tally(self, stage: str, items: int, calls: int, started: float) -> None:
        """Every process reports its work on a stage; the main process logs the stage's throughput."""
        mine = StageTally(items, calls, time.perf_counter() - started, device_label(self.device))
        everyone = self.ranks.gather(mine)
        if self.ranks.is_main:
            self.store.log_event("stage", stage=stage, **StageTally.combine(everyone))

    def _generator_kwargs(self) -> dict[str, Any]:
        """The task's generator_kwargs, with a single-file checkpoint's `config` folder relative to the task."""
        kwargs = dict(self.config.generator_kwargs)
        if isinstance(kwargs.get("config"), str):
            kwargs["config"] = self.task.resolve_path(kwargs["config"])
        return kwargs

    # -- stage 1 -----------------------------------------------------------------------------
    def generate(self) -> dict[tuple[str, int], dict[str, Any]]:
        from harness.generators import ImageRequest, resolve_generator

        c = self.config
        prompts = {p.id: p for p in self.task.prompts}
        grid = [(p.id, k) for p in self.task.prompts for k in range(c.images_per_prompt)]
        fold = (
            self.store.images_log,
            lambda r: (r["prompt_id"], int(r["index"]), r["image_hash"]),
            grid_position(grid, lambda r: (r["prompt_id"], int(r["index"]))),
        )
        self._fold(*fold)
        done = self.store.load_images()
        started = time.perf_counter()
        items = 0
        if any(key not in done for key in grid):
            _quiet_library_progress()  # only now: a run with nothing to generate need not import them
            generator = resolve_generator(
                self.o.generator,
                device=self.device,
                dtype=self.o.dtype or c.dtype,
                batch_size=self.o.batch_size,
                **self._generator_kwargs(),
            )
            self.generator_description = generator.describe()
            try:
                generator.preflight(c)
            except BaseException:
                generator.close()
                raise
            plan = self.ranks.mine(
                plan_chunks(grid, self.o.batch_size or generator.batch_size, done, generator.batch_invariant)
            )
            with stage_progress(self.show_progress) as bar:
                task = bar.add_task("generate", **self._progress_span(len(grid), plan))
                try:
                    for chunk, todo in plan:
                        self._note_recompute("generate", len(chunk) - len(todo))
                        requests = [
                            ImageRequest(
                                prompt_id=pid,
                                prompt_text=prompts[pid].text,
                                index=k,
                                seed=c.seed_for(k),
                                width=c.width,
                                height=c.height,
                                steps=c.steps,
                                guidance=c.guidance,
                                negative_prompt=c.negative_prompt,
                            )
                            for pid, k in chunk
                        ]
                        records = []
                        for item in generator.generate(requests):
                            r = item.request
                            if (r.prompt_id, r.index) not in todo:
                                continue
                            if item.error or item.image is None:
                                self.store.record_failure(
                                    "generate", item.error or "no image", prompt_id=r.prompt_id, index=r.index
                                )
                                continue
                            record = self.store.store_image(
                                item.image, r.prompt_id, r.index, r.seed, item.recipe
                            )
                            records.append(record)
                            done[(r.prompt_id, r.index)] = record
                        self.store.append_images(records)
                        items += len(chunk)
                        bar.advance(task, len(todo))
                finally:
                    generator.close()
        self._tally("generate", items, items, started)
        self._fold(*fold)
        if self.ranks.sharded:
            done = self.store.load_images()
        self.timings["generate_s"] = round(time.perf_counter() - started, 3)
        return {key: done[key] for key in grid if key in done}  # this task's images only, in grid order

    # -- stage 2 -----------------------------------------------------------------------------
    def caption(self, images: dict[tuple[str, int], dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
        from harness.judges import build_judge
        from harness.judges.base import CaptionRequest

        judge_cfg = self.o.judge
        fp = judge_cfg.fingerprint
        texts = {p.id: p.text for p in self.task.prompts}
        grid = [
            (p.id, k, images[(p.id, k)]["image_hash"], s)
            for p in self.task.prompts
            for k in range(self.config.images_per_prompt)
            if (p.id, k) in images
            for s in range(judge_cfg.samples_per_image)
        ]
        fold = (
            self.store.captions_log,
            lambda r: (*caption_item(r), r.get("judge")),
            grid_position(grid, caption_item),
        )
        self._fold(*fold)
        done = self.store.load_captions(fp)
        started = time.perf_counter()
        items = 0
        if any(key not in done for key in grid):
            _quiet_library_progress()
            judge = build_judge(judge_cfg, device=self.device)
            self.judge_runtime = {
                k: str(v).removeprefix("torch.")
                for k, v in judge.describe().items()
                if k in ("device", "dtype", "mode")
            }
            plan = self.ranks.mine(plan_chunks(grid, judge_cfg.batch_size, done, judge.batch_invariant))
            with stage_progress(self.show_progress) as bar:
                task = bar.add_task("caption", **self._progress_span(len(grid), plan))
                try:
                    for chunk, todo in plan:
                        self._note_recompute("caption", len(chunk) - len(todo))
                        requests = [
                            CaptionRequest(
                                key=f"{pid}/{k}/{image_hash}",
                                image=self.store.open_image(image_hash),
                                prompt_text=texts[pid],
                                sample_index=s,
                            )
                            for pid, k, image_hash, s in chunk
                        ]
                        records = []
                        for key, result in zip(chunk, judge.caption(requests), strict=True):
                            if key not in todo:
                                continue
                            pid, k, image_hash, s = key
                            where = {
                                "prompt_id": pid,
                                "index": k,
                                "image_hash": image_hash,
                                "sample_index": s,
                            }
                            if result.ok:
                                record = {**where, "judge": fp, "caption": result.text}
                                records.append(record)
                                done[key] = record
                            else:
                                self.store.record_failure("caption", result.error or "empty caption", **where)
                        self.store.append_captions(records)
                        items += len(chunk)
                        bar.advance(task, len(todo))
                finally:
                    judge.close()
        self._tally("caption", items, items, started)
        self._fold(*fold)
        if self.ranks.sharded:
            done = self.store.load_captions(fp)
        self.timings["caption_s"] = round(time.perf_counter() - started, 3)
        return {key: done[key] for key in grid if key in done}

    # -- stage 3 -----------------------------------------------------------------------------
    def score(
        self, captions: dict[tuple, dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], dict[str, str], set]:
        from harness.scorers import build_scorer

        if self.o.rescore and self.ranks.is_main:
            kept = self.store.set_aside_scores()
            if kept:
                console.print(f"--rescore: previous scores kept as {kept.name}")
        fp = self.o.judge.fingerprint
        texts = {p.id: p.text for p in self.task.prompts}
        signatures: dict[str, str] = {}
        prf: set[str] = set()
        current: list[dict[str, Any]] = []
        started = time.perf_counter()
        scorers = []
        for spec in self.config.scorers:
            params = dict(spec.params)
            if self.device and "device" not in params:
                params["device"] = self.device
            scorer = build_scorer(spec.name, **params)
            signatures[spec.name] = scorer.signature()
            if set(scorer.outputs) == {"precision", "recall", "f1"}:
                prf.add(spec.name)
            scorers.append(scorer)
        keys = list(captions)  # grid order from the caption stage
        scorer_place = {sig: i for i, sig in enumerate(signatures.values())}
        in_grid = grid_position(keys, caption_item)
        fold = (
            self.store.scores_log,
            lambda r: (*caption_item(r), r.get("judge"), r.get("signature")),
            lambda r: (scorer_place.get(r.get("signature"), len(scorer_place)), in_grid(r)),
        )
        self._fold(*fold)
        done = self.store.load_scores(fp)
        items = 0
        with stage_progress(self.show_progress) as bar:
            for scorer in scorers:
                sig = signatures[scorer.name]
                done_keys = {k for k in keys if (k, sig) in done}
                plan = self.ranks.mine(plan_chunks(keys, self.o.score_batch_size, done_keys))
                task = bar.add_task(scorer.name, **self._progress_span(len(keys), plan))
                for chunk, todo in plan:
                    self._note_recompute(scorer.name, len(chunk) - len(todo))
                    values = scorer.score(
                        [texts[k[0]] for k in chunk], [captions[k]["caption"] for k in chunk]
                    )
                    records = [
                        {
                            "prompt_id": k[0],
                            "index": k[1],
                            "image_hash": k[2],
                            "sample_index": k[3],
                            "judge": fp,
                            "scorer": scorer.name,
                            "signature": sig,
                            "values": v,
                        }
                        for k, v in zip(chunk, values, strict=True)
                        if k in todo
                    ]
                    self.store.append_scores(records)
                    done.update(
                        {
                            ((r["prompt_id"], r["index"], r["image_hash"], r["sample_index"]), sig): r
                            for r in records
                        }
                    )
                    items += len(chunk)
                    bar.advance(task, len(todo))
        self._tally("score", items, items, started)
        self._fold(*fold)
        if self.ranks.sharded:
            done = self.store.load_scores(fp)
        for scorer in scorers:
            current.extend(done[(k, signatures[scorer.name])] for k in keys)
        self.timings["score_s"] = round(time.perf_counter() - started, 3)
        return current, signatures, prf

    # -- stage 4 (optional) --------------------------------------------------------------------
    def baselines(self, images: dict[tuple[str, int], dict[str, Any]]) -> dict[str, Any]:
        """Image-space baselines named by the task; they write baselines.jsonl in the run directory."""
        if not self.config.baselines:
            return {}
        from harness.baselines import run_baselines

        started = time.perf_counter()
        summary = run_baselines(
            store=self.store,
            prompts=self.task.prompts,
            images=images,
            specs=self.config.baselines,
            judge=self.o.judge,
            generator_spec=self.o.generator,
            device=self.device,
            progress=self.o.progress,
        )
        self.timings["baselines_s"] = round(time.perf_counter() - started, 3)
        return summary

    # -- stage 5 -----------------------------------------------------------------------------
    def _open_failures(self, images: dict, captions: dict) -> list[Failure]:
        """Failures of items still missing now; an item that later succeeded is not a failure."""
        latest: dict[tuple, dict[str, Any]] = {}
        for record in read_records(self.store.failures_log, FailureLine):
            if record.get("stage") == "generate":
                key = ("generate", record.get("prompt_id"), record.get("index"))
                if (record.get("prompt_id"), record.get("index")) in images:
                    continue
            elif record.get("stage") == "caption":
                ck = (
                    record.get("prompt_id"),
                    record.get("index"),
                    record.get("image_hash"),
                    record.get("sample_index"),
                )
                if ck in captions or (record.get("prompt_id"), record.get("index")) not in images:
                    continue
                key = ("caption", *ck)
            else:
                continue
            latest[key] = record
        pids = {p.id for p in self.task.prompts}
        return [
            Failure(
                **{
                    k: r.get(k)
                    for k in ("stage", "prompt_id", "index", "sample_index", "image_hash", "error")
                }
            )
            for r in latest.values()
            if r.get("prompt_id") in pids
        ]

    def _judge_runtime(self) -> dict[str, str]:
        """Where the judge ran and in which dtype; from the last run when every caption was on disk."""
        if self.judge_runtime is not None:
            return self.judge_runtime
        try:
            import json

            previous = json.loads(self.store.results_file.read_text())["judge"]
        except (OSError, ValueError, KeyError, TypeError):
            return {}
        return {k: previous[k] for k in ("device", "dtype", "mode") if k in previous}

    def run(self) -> Results | None:
        """The results on the main process; None on the others (they only share the stages' work).

        The main process holds the run directory's lock (the ranks it shares the work with write
        only their own shard files); a failing disk is a user error, not a traceback."""
        try:
            if self.ranks.is_main:
                with self.store.lock():
                    return self._run()
            return self._run()
        except OSError as exc:
            raise storage_error(exc) from None
        finally:
            self.ranks.close()

    def _run(self) -> Results | None:
        run_preflight(self.o.judge, self.config, self.o.generator, self.o.device, self.full_task.source)
        c = self.config
        identity = {"task_hash": self.full_task.task_hash, "generator": generator_identity(self.o.generator)}
        meta = {
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "harness_version": __version__,
            "task_source": self.full_task.source,
            "generator_spec": self.o.generator,
        }
        if self.ranks.is_main:  # the main process creates the run; the others then check its identity
            self.store.open(identity, meta)
        self.ranks.barrier()
        if not self.ranks.is_main:
            self.store.open(identity, meta)
        total_started = time.perf_counter()
        if self.ranks.is_main:
            self.store.log_event(
                "start",
                generator=self.o.generator,
                judge=self.o.judge.fingerprint,
                limit=self.o.limit,
                rescore=self.o.rescore,
                harness_version=__version__,
                processes=self.ranks.count,
            )
        images = self.generate()
        captions = self.caption(images)
        scores, signatures, prf = self.score(captions)
        self.recomputed = sum(self.ranks.gather(self.recomputed))
        if not self.ranks.is_main:
            return None  # the main process aggregates; this one's work is in the run's logs
        fold_shards(self.store.root, self.store.failures_log)
        fold_shards(self.store.root, self.store.events_log)
        baselines = self.baselines(images)

        failures = self._open_failures(images, captions)
        failed_by_prompt: dict[str, int] = defaultdict(int)
        for failure in failures:
            failed_by_prompt[failure.prompt_id or ""] += 1
        image_counts: dict[str, int] = defaultdict(int)
        for pid, _ in images:
            image_counts[pid] += 1
        per_prompt = prompt_results(self.task.prompts, scores, prf, image_counts, failed_by_prompt)
        n_boot, seed = c.bootstrap_samples, c.seed
        expected_images = len(self.task.prompts) * c.images_per_prompt  # of the --limit'ed task
        expected_captions = expected_images * self.o.judge.samples_per_image
        complete = (
            len(self.task.prompts) == len(self.full_task.prompts)
            and len(images) == expected_images
            and len(captions) == expected_captions
            and len(scores) == expected_captions * len(signatures)
        )
        first_recipe = next(iter(images.values()), {}).get("recipe", {})
        generator = self.generator_description or {
            k: first_recipe.get(k)
            for k in ("kind", "model", "revision", "pipeline_class", "source", "single_file")
        }
        generator = {**{k: v for k, v in generator.items() if v is not None}, "spec": self.o.generator}
        recipe_keys = (
            "scheduler",
            "steps",
            "guidance",
            "width",
            "height",
            "dtype",
            "device",
            "negative_prompt",
            "applied",
            "pipeline_defaults",
            "notes",
            "not_applied",
        )
        self.timings["total_s"] = round(time.perf_counter() - total_started, 3)
        results = Results(
            harness_version=__version__,
            created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            model_name=self.o.model_name or str(generator.get("model") or Path(self.o.generator).name),
            complete=complete,
            task={
                "name": c.name,
                "version": c.version,
                "hash": self.full_task.task_hash,
                "source": self.full_task.source,
                "limit": self.o.limit,
                "resolved": c.model_dump(mode="json"),
            },
            prompts={
                "files": self.full_task.prompt_files,
                "hash": self.full_task.prompts_hash,
                "count": len(self.full_task.prompts),
                "evaluated": len(self.task.prompts),
            },
            generator=generator,
            generation_recipe={
                **{k: first_recipe.get(k) for k in recipe_keys if k in first_recipe},
                "images_per_prompt": c.images_per_prompt,
                "seeds": [c.seed_for(k) for k in range(c.images_per_prompt)],
                "versions": first_recipe.get("versions"),
            },
            judge={
                "name": self.o.judge.name,
                "fingerprint": self.o.judge.fingerprint,
                "backend": self.o.judge.backend,
                "samples_per_image": self.o.judge.samples_per_image,
                "fields": self.o.judge.fingerprint_fields(),
                **self._judge_runtime(),
            },
            scorers=signatures,
            primary_scorer=c.resolved_primary_scorer(sorted(prf)),
            image_policy={"format": "png", "mode": "RGB", "resize": None, "judge_sees": "stored PNG"},
            counts={
                "prompts": len(self.task.prompts),
                "images": len(images),
                "captions": len(captions),
                "scores": len(scores),
                "expected_images": expected_images,
                "expected_captions": expected_captions,
                "failed_images": sum(f.stage == "generate" for f in failures),
                "failed_captions": sum(f.stage == "caption" for f in failures),
                "recomputed_for_batch_stability": self.recomputed,
            },
            overall=summarize(per_prompt, n_boot, seed),
            by_shift=grouped(per_prompt, "shift", n_boot, seed),
            by_category=grouped(per_prompt, "category", n_boot, seed),
            per_prompt=per_prompt,
            failures=failures,
            versions=_versions(),
            git_commit=_git_commit(),
            timings=self.timings,
            cost=run_cost(read_jsonl(self.store.events_log), self.o.prices or Prices()),
            baselines=baselines,
            bootstrap={
                "samples": n_boot,
                "seed": seed,
                "confidence": 0.95,
                "method": "percentile, over prompts",
            },
        )
        atomic_write_json(self.store.results_file, results.model_dump(mode="json"))
        self.store.log_event(
            "finish", complete=complete, failures=len(failures), seconds=self.timings["total_s"]
        )
        fold_shards(self.store.root, self.store.events_log)
        return results


def evaluate(options: EvalOptions) -> Results | None:
    """Run the evaluation; under a multi-process launch, None on every process but the main one."""
    return Evaluation(options).run()
