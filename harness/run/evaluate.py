"""`punc eval`: generate, caption, score, aggregate; each stage does only the work not yet on disk.

The stages run on harness.run.stages (planning, resume, progress, failure recording, sharding);
results are assembled by harness.run.assemble.
"""

from __future__ import annotations

import time
from typing import Any

from harness._version import __version__
from harness.errors import storage_error
from harness.generators.identity import generator_identity
from harness.run.assemble import StageOutputs, assemble_results, open_failures, previous_judge_runtime
from harness.run.jsonl import atomic_write_json
from harness.run.noise import show_library_warnings_once
from harness.run.options import SCORE_BATCH, EvalOptions
from harness.run.overlap import CaptionFeed, overlap_wanted
from harness.run.preflight import run_preflight
from harness.run.progress import console, stage_progress
from harness.run.schema import Results, ScorerSpec
from harness.run.sharding import fold_shards, grid_position, join_processes
from harness.run.stages import Batch, Stage, StageRunner, plan_chunks
from harness.run.store import RunStore

__all__ = ["SCORE_BATCH", "EvalOptions", "Evaluation", "evaluate", "generator_identity", "plan_chunks"]

ImageKey = tuple[str, int]
CaptionKey = tuple[str, int, str, int]


def caption_item(record: dict[str, Any]) -> CaptionKey:
    """The caption-grid key of a caption or score record."""
    return (record["prompt_id"], int(record["index"]), record["image_hash"], int(record["sample_index"]))


def _quiet_library_progress() -> None:
    """Library progress bars would interleave with ours; their warnings stay."""
    import diffusers
    import transformers

    transformers.utils.logging.disable_progress_bar()
    diffusers.utils.logging.disable_progress_bar()
    show_library_warnings_once()


class GenerateWork:
    """Stage 1: a batch of (prompt, image index) items becomes stored images."""

    def __init__(self, evaluation: Evaluation, generator: Any, feed: CaptionFeed | None = None) -> None:
        self.store = evaluation.store
        self.feed = feed  # captions each committed batch while later ones are generated (overlap)
        self.config = evaluation.config
        self.prompts = {p.id: p for p in evaluation.task.prompts}
        self.generator = generator
        self.batch_size = evaluation.options.batch_size or generator.batch_size
        self.batch_invariant = generator.batch_invariant

    def process(self, chunk: list[ImageKey], todo: set[ImageKey]) -> list[tuple[ImageKey, dict[str, Any]]]:
        from harness.generators import ImageRequest

        config = self.config
        requests = [
            ImageRequest(
                prompt_id=pid,
                prompt_text=self.prompts[pid].text,
                index=k,
                seed=config.seed_for(k),
                width=config.width,
                height=config.height,
                steps=config.steps,
                guidance=config.guidance,
                negative_prompt=config.negative_prompt,
            )
            for pid, k in chunk
        ]
        finished = []
        for item in self.generator.generate(requests):
            request = item.request
            if (request.prompt_id, request.index) not in todo:
                continue
            if item.error or item.image is None:
                self.store.record_failure(
                    "generate", item.error or "no image", prompt_id=request.prompt_id, index=request.index
                )
                continue
            record = self.store.store_image(
                item.image, request.prompt_id, request.index, request.seed, item.recipe
            )
            finished.append(((request.prompt_id, request.index), record))
        return finished

    def commit(self, records: list[dict[str, Any]]) -> None:
        self.store.append_images(records)
        if self.feed is not None:
            self.feed.put(records)

    def close(self) -> None:
        self.generator.close()


class CaptionWork:
    """Stage 2: a batch of (prompt, image, hash, sample) items becomes the judge's captions."""

    def __init__(self, evaluation: Evaluation, judge: Any) -> None:
        self.store = evaluation.store
        self.texts = {p.id: p.text for p in evaluation.task.prompts}
        self.fingerprint = evaluation.options.judge.fingerprint
        self.judge = judge
        self.batch_size = evaluation.options.judge.batch_size
        self.batch_invariant = judge.batch_invariant

    def process(
        self, chunk: list[CaptionKey], todo: set[CaptionKey]
    ) -> list[tuple[CaptionKey, dict[str, Any]]]:
        from harness.judges.base import CaptionRequest

        requests = [
            CaptionRequest(
                key=f"{pid}/{k}/{image_hash}",
                image=self.store.open_image(image_hash),
                prompt_text=self.texts[pid],
                sample_index=s,
            )
            for pid, k, image_hash, s in chunk
        ]
        finished = []
        for key, result in zip(chunk, self.judge.caption(requests), strict=True):
            if key not in todo:
                continue
            pid, k, image_hash, s = key
            where = {"prompt_id": pid, "index": k, "image_hash": image_hash, "sample_index": s}
            if result.ok:
                finished.append((key, {**where, "judge": self.fingerprint, "caption": result.text}))
            else:
                self.store.record_failure("caption", result.error or "empty caption", **where)
        return finished

    def commit(self, records: list[dict[str, Any]]) -> None:
        self.store.append_captions(records)

    def close(self) -> None:
        self.judge.close()


class ScoreWork:
    """Stage 3, one scorer: a batch of captions becomes score lines keyed by (caption, signature)."""

    batch_invariant = False

    def __init__(self, evaluation: Evaluation, scorer: Any, signature: str, captions: dict) -> None:
        self.store = evaluation.store
        self.texts = {p.id: p.text for p in evaluation.task.prompts}
        self.fingerprint = evaluation.options.judge.fingerprint
        self.scorer = scorer
        self.signature = signature
        self.captions = captions
        self.batch_size = evaluation.options.score_batch_size

    def process(self, chunk: list[CaptionKey], todo: set[CaptionKey]) -> list[tuple[Any, dict[str, Any]]]:
        values = self.scorer.score(
            [self.texts[k[0]] for k in chunk], [self.captions[k]["caption"] for k in chunk]
        )
        return [
            (
                (k, self.signature),
                {
                    "prompt_id": k[0],
                    "index": k[1],
                    "image_hash": k[2],
                    "sample_index": k[3],
                    "judge": self.fingerprint,
                    "scorer": self.scorer.name,
                    "signature": self.signature,
                    "values": v,
                },
            )
            for k, v in zip(chunk, values, strict=True)
            if k in todo
        ]

    def commit(self, records: list[dict[str, Any]]) -> None:
        self.store.append_scores(records)

    def close(self) -> None:
        return None  # scorers stay loaded for the whole stage


class Evaluation:
    """One evaluation of one generator on one task with one judge, resumable at item granularity."""

    def __init__(self, options: EvalOptions) -> None:
        self.options = options
        self.full_task = options.task
        self.task = options.task.limited(options.limit)
        self.config = self.task.config
        self.ranks = join_processes(options.device)  # one process unless accelerate launched several
        self.device = self.ranks.device
        self.store = RunStore(options.out_dir, shard=self.ranks.shard_name)
        self.runner = StageRunner(
            self.store, self.ranks, self.device, options.progress and self.ranks.is_main
        )
        self.timings = self.runner.timings
        self.generator_description: dict[str, Any] | None = None
        self.judge_runtime: dict[str, str] | None = None
        self.scorer_specs: dict[str, ScorerSpec] = {}

    # -- stage 1 -----------------------------------------------------------------------------
    def _generator_kwargs(self) -> dict[str, Any]:
        """The task's generator_kwargs, with a single-file checkpoint's `config` folder relative to the task."""
        kwargs = dict(self.config.generator_kwargs)
        if isinstance(kwargs.get("config"), str):
            kwargs["config"] = self.task.resolve_path(kwargs["config"])
        return kwargs

    def _open_generator(self, feed: CaptionFeed | None = None) -> GenerateWork:
        """Loaded only when something is left to generate; checked against the task before any work."""
        from harness.generators import resolve_generator

        _quiet_library_progress()  # only now: a run with nothing to generate need not import them
        generator = resolve_generator(
            self.options.generator,
            device=self.device,
            dtype=self.options.dtype or self.config.dtype,
            batch_size=self.options.batch_size,
            **self._generator_kwargs(),
        )
        self.generator_description = generator.describe()
        try:
            generator.preflight(self.config)
        except BaseException:
            generator.close()
            raise
        return GenerateWork(self, generator, feed)

    def generation_stage(self) -> Stage:
        grid = [(p.id, k) for p in self.task.prompts for k in range(self.config.images_per_prompt)]
        return Stage(
            name="generate",
            grid=grid,
            log=self.store.images_log,
            load_done=self.store.load_images,
            fold_identity=lambda r: (r["prompt_id"], int(r["index"]), r["image_hash"]),
            fold_position=grid_position(grid, lambda r: (r["prompt_id"], int(r["index"]))),
        )

    def generate(self, feed: CaptionFeed | None = None) -> dict[ImageKey, dict[str, Any]]:
        """This task's images, in grid order; `feed` (overlap) captions each stored batch meanwhile."""

        def show_feed(bar: Any, plan: list[Batch]) -> None:
            if feed is not None:
                feed.show(bar, sum(len(todo) for _, todo in plan))

        return self.runner.run(self.generation_stage(), lambda: self._open_generator(feed), on_bar=show_feed)

    # -- stage 2 -----------------------------------------------------------------------------
    def _open_judge(self) -> CaptionWork:
        from harness.judges import build_judge

        _quiet_library_progress()
        judge = build_judge(self.options.judge, device=self.device)
        self.judge_runtime = {
            k: str(v).removeprefix("torch.")
            for k, v in judge.describe().items()
            if k in ("device", "dtype", "mode")
        }
        return CaptionWork(self, judge)

    def caption_stage(self, images: dict[ImageKey, dict[str, Any]]) -> Stage:
        judge = self.options.judge
        grid = [
            (p.id, k, images[(p.id, k)]["image_hash"], s)
            for p in self.task.prompts
            for k in range(self.config.images_per_prompt)
            if (p.id, k) in images
            for s in range(judge.samples_per_image)
        ]
        return Stage(
            name="caption",
            grid=grid,
            log=self.store.captions_log,
            load_done=lambda: self.store.load_captions(judge.fingerprint),
            fold_identity=lambda r: (*caption_item(r), r.get("judge")),
            fold_position=grid_position(grid, caption_item),
        )

    def caption_feed(self) -> CaptionFeed | None:
        """With a remote judge, a feed that captions images while later ones are still generated."""
        if not overlap_wanted(self.options.overlap, self.options.judge):
            return None
        images = self.generation_stage()
        in_grid = images.fold_position
        assert in_grid is not None
        # a killed run's leftovers, folded in the image grid's order (the caption grid is not known yet)
        self.runner.fold(
            Stage(
                name="caption",
                grid=[],
                log=self.store.captions_log,
                load_done=dict,
                fold_identity=lambda r: (*caption_item(r), r.get("judge")),
                fold_position=lambda r: (in_grid(r), int(r["sample_index"])),
            )
        )
        done = self.store.load_captions(self.options.judge.fingerprint)
        work = self._open_judge()
        if not work.batch_invariant:  # batches of a local judge depend on the whole grid
            work.close()
            return None
        return CaptionFeed(
            lambda chunk: work.commit([record for _, record in work.process(chunk, set(chunk))]),
            batch_size=work.batch_size,
            samples_per_image=self.options.judge.samples_per_image,
            skip=set(done),
            judge=work,
        )

    def caption(
        self, images: dict[ImageKey, dict[str, Any]], feed: CaptionFeed | None = None
    ) -> dict[CaptionKey, dict[str, Any]]:
        """This task's captions by the configured judge, in grid order; with `feed`, first wait for
        the captions made during generation (its judge then captions what is left)."""
        stage = self.caption_stage(images)
        if feed is None:
            return self.runner.run(stage, self._open_judge)
        started = time.perf_counter()
        outcome = feed.finish(self.runner.show_progress)  # on an error or Ctrl-C it closes the judge
        self.store.log_event("overlap", **outcome.event())
        attempted = set().union(*self.ranks.gather(outcome.attempted))
        return self.runner.run(
            stage,
            self._open_judge,
            opened=feed.judge,
            attempted=attempted,
            items_before=outcome.items,
            fold_first=False,
            started=started,
        )

    # -- stage 3 -----------------------------------------------------------------------------
    def _build_scorers(self) -> tuple[list[Any], dict[str, str], set[str]]:
        """The task's scorers, their signatures, and which of them give precision, recall and F1."""
        from harness.scorers import build_scorer

        scorers, signatures, prf_scorers = [], {}, set()
        for spec in self.config.scorers:
            params = dict(spec.params)
            if self.device and "device" not in params:
                params["device"] = self.device
            scorer = build_scorer(spec.name, **params)
            signatures[spec.name] = scorer.signature()
            self.scorer_specs[spec.name] = ScorerSpec(
                name=spec.name,
                params=dict(spec.params),
                outputs=list(scorer.outputs),
                signature=signatures[spec.name],
            )
            if set(scorer.outputs) == {"precision", "recall", "f1"}:
                prf_scorers.add(spec.name)
            scorers.append(scorer)
        return scorers, signatures, prf_scorers

    def score(
        self, captions: dict[CaptionKey, dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], dict[str, str], set]:
        """Every caption scored by every scorer: the score lines (scorer by scorer, grid order),
        the signatures, and the precision/recall scorers."""
        if self.options.rescore and self.ranks.is_main:
            kept = self.store.set_aside_scores()
            if kept:
                console.print(f"--rescore: previous scores kept as {kept.name}")
        fingerprint = self.options.judge.fingerprint
        scorers, signatures, prf_scorers = self._build_scorers()
        keys = list(captions)  # grid order from the caption stage
        scorer_place = {sig: i for i, sig in enumerate(signatures.values())}
        in_grid = grid_position(keys, caption_item)
        stage = Stage(
            name="score",
            grid=keys,
            log=self.store.scores_log,
            load_done=lambda: self.store.load_scores(fingerprint),
            fold_identity=lambda r: (*caption_item(r), r.get("judge"), r.get("signature")),
            fold_position=lambda r: (scorer_place.get(r.get("signature"), len(scorer_place)), in_grid(r)),
        )
        runner = self.runner
        runner.fold(stage)
        done = stage.load_done()
        started = time.perf_counter()
        items = 0
        with stage_progress(runner.show_progress) as bar:
            for scorer in scorers:
                work = ScoreWork(self, scorer, signatures[scorer.name], captions)
                plan: list[Batch] = runner.plan(keys, work, {k for k in keys if (k, work.signature) in done})
                task = bar.add_task(scorer.name, **runner.progress_span(len(keys), plan))
                items += runner.run_batches(scorer.name, plan, work, done, bar, task)
        runner.tally("score", items, started)
        runner.fold(stage)
        if self.ranks.sharded:
            done = stage.load_done()
        current = [done[(k, signatures[scorer.name])] for scorer in scorers for k in keys]
        self.timings["score_s"] = round(time.perf_counter() - started, 3)
        return current, signatures, prf_scorers

    # -- stage 4 (optional) --------------------------------------------------------------------
    def baselines(self, images: dict[ImageKey, dict[str, Any]]) -> dict[str, Any]:
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
            judge=self.options.judge,
            generator_spec=self.options.generator,
            device=self.device,
            progress=self.options.progress,
        )
        self.timings["baselines_s"] = round(time.perf_counter() - started, 3)
        return summary

    # -- the run -------------------------------------------------------------------------------
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

    def _open_run(self) -> None:
        """Create the run directory, or check that it measures this task with this generator."""
        identity = {
            "task_hash": self.full_task.task_hash,
            "generator": generator_identity(self.options.generator),
        }
        meta = {
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "harness_version": __version__,
            "task_source": self.full_task.source,
            "generator_spec": self.options.generator,
        }
        if self.ranks.is_main:  # the main process creates the run; the others then check its identity
            self.store.open(identity, meta)
        self.ranks.barrier()
        if not self.ranks.is_main:
            self.store.open(identity, meta)

    def _log_start(self) -> None:
        if self.ranks.is_main:
            self.store.log_event(
                "start",
                generator=self.options.generator,
                judge=self.options.judge.fingerprint,
                limit=self.options.limit,
                rescore=self.options.rescore,
                harness_version=__version__,
                processes=self.ranks.count,
            )

    def _run(self) -> Results | None:
        options = self.options
        run_preflight(options.judge, self.config, options.generator, options.device, self.full_task.source)
        self._open_run()
        total_started = time.perf_counter()
        self._log_start()
        feed = self.caption_feed()
        try:
            images = self.generate(feed)
        except BaseException:
            if feed is not None:  # Ctrl-C or an error: the caption batch in flight is finished and kept
                feed.abort()
            raise
        captions = self.caption(images, feed)
        scores, signatures, prf_scorers = self.score(captions)
        recomputed = sum(self.ranks.gather(self.runner.recomputed))
        if not self.ranks.is_main:
            return None  # the main process aggregates; this one's work is in the run's logs
        fold_shards(self.store.root, self.store.failures_log)
        fold_shards(self.store.root, self.store.events_log)
        outputs = StageOutputs(images, captions, scores, signatures, prf_scorers, self.scorer_specs)
        outputs.baselines = self.baselines(images)
        failures = open_failures(self.store, self.task, images, captions)
        self.timings["total_s"] = round(time.perf_counter() - total_started, 3)
        results = assemble_results(
            options,
            self.task,
            outputs,
            failures,
            generator_description=self.generator_description,
            judge_runtime=self.judge_runtime
            if self.judge_runtime is not None
            else previous_judge_runtime(self.store),
            timings=self.timings,
            recomputed=recomputed,
            events_log=self.store.events_log,
        )
        self._finish(results, len(failures))
        return results

    def _finish(self, results: Results, failures: int) -> None:
        atomic_write_json(self.store.results_file, results.model_dump(mode="json"))
        self.store.log_event(
            "finish", complete=results.complete, failures=failures, seconds=self.timings["total_s"]
        )
        fold_shards(self.store.root, self.store.events_log)


def evaluate(options: EvalOptions) -> Results | None:
    """Run the evaluation; under a multi-process launch, None on every process but the main one."""
    return Evaluation(options).run()
