"""Image-space uncertainty baselines (spec section 4), run beside PUNC on the same stored images.

Task YAML:

    baselines:
      - seed_ensemble                       # 1 − mean pairwise cosine of image features
      - seed_ensemble_ssim                  # the same with SSIM
      - feature_entropy                     # Gaussian entropy of features (seed-ensemble stand-in)
      - {name: reconstruction, params: {levels: [0.2, 0.4, 0.6, 0.8], steps: 4}}
      - {name: inpainting, params: {steps: 8}}
      - {name: generative_uncertainty, params: {samples: 6, noises: 2}}   # Jazbec et al., last-layer Laplace
      - {name: generator_ensemble, params: {members: [DIR, DIR, DIR]}}   # deep generative ensemble
      - {name: diffusion_classifier, params: {pairs: 16}}                # Li et al., log-odds of the prompt

Each spec's `name` is the baseline's name in results; `params.kind` may pick the method when the
name is a custom label (e.g. two reconstruction variants). Values go to RUN_DIR/baselines.jsonl,
one line per (prompt, baseline signature): {"prompt_id", "baseline", "signature", "u", "cost",
"components"}; lines already there are not recomputed.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from harness.baselines.base import Baseline, Outcome, Resources
from harness.errors import PuncError
from harness.registry import BASELINES
from harness.run.store import RunLayout

BASELINES_FILE = RunLayout.BASELINES


def available_baselines() -> list[str]:
    return BASELINES.names()


def build_baseline(
    name: str, params: dict[str, Any] | None = None, resources: Resources | None = None
) -> Baseline:
    """The baseline `params.kind` (default: `name`) names, built by its `from_params`."""
    params = dict(params or {})
    kind = params.pop("kind", name)
    return BASELINES.get(kind).from_params(resources or Resources(), params)


def read_baselines(root: Any) -> list[dict[str, Any]]:
    from harness.run.reader import RunReader

    return RunReader(root).baselines()


def run_baselines(
    store: Any,
    prompts: Sequence[Any],
    images: dict[tuple[str, int], dict[str, Any]],
    specs: Sequence[Any],
    generator_spec: str | None,
    device: str | None = None,
    progress: bool = True,
    judge: Any = None,
) -> dict[str, dict[str, Any]]:
    """Compute every baseline for every prompt with images; resumable per (prompt_id, signature).

    Returns {name: {"signature", "cost": {"network_passes_per_prompt", "seconds_per_prompt"}}},
    the cost averaged over this signature's lines in baselines.jsonl.
    """
    from harness.run.sharding import Ranks
    from harness.run.stages import Stage, StageRunner

    resources = Resources(generator_spec, device, judge)
    built: list[tuple[str, Baseline]] = []
    for spec in specs:
        built.append((spec.name, build_baseline(spec.name, spec.params, resources)))
    names = [name for name, _ in built]
    if len(set(names)) != len(names):
        raise PuncError(f"baselines: each name at most once (got {names}); use params.kind for variants")

    by_prompt: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for (pid, index), record in images.items():
        by_prompt[pid].append((index, record["image_hash"]))
    texts = {p.id: p.text for p in prompts}
    order = [p.id for p in prompts if p.id in by_prompt]
    runner = StageRunner(store, Ranks(device=device), device, progress)  # the main process only
    signatures: dict[str, str] = {}
    computed: dict[str, dict[str, dict[str, Any]]] = {}
    try:
        for name, baseline in built:
            # signatures one at a time: a baseline that cannot start (a missing model) stops the
            # stage only after the ones before it are computed and saved
            sig = signatures[name] = baseline.signature()
            work = BaselineWork(name, baseline, sig, store, texts, by_prompt)
            stage = Stage(
                name=f"baseline {name}",
                grid=order,
                log=store.baselines_log,
                load_done=lambda sig=sig: {
                    pid: r for (pid, s), r in store.load_baselines().items() if s == sig
                },
            )
            computed[name] = runner.run(stage, work.opened)
    finally:
        resources.close()
    summary: dict[str, dict[str, Any]] = {}
    for name, sig in signatures.items():
        lines = list(computed.get(name, {}).values())
        summary[name] = {"signature": sig, "cost": mean_cost(lines), "n_prompts": len(lines)}
    return summary


class BaselineWork:
    """The baselines stage for one baseline on the stage runner: a batch is one prompt's K images."""

    batch_size = 1
    batch_invariant = True  # each prompt is scored on its own (the contract tests check it)

    def __init__(
        self,
        name: str,
        baseline: Baseline,
        signature: str,
        store: Any,
        texts: dict[str, str],
        by_prompt: dict[str, list[tuple[int, str]]],
    ) -> None:
        self.name, self.baseline, self.signature = name, baseline, signature
        self.store, self.texts, self.by_prompt = store, texts, by_prompt

    def opened(self) -> BaselineWork:
        """Load the baseline's models only when some prompt is left to score."""
        self.baseline.prepare()
        return self

    def process(self, chunk: list[str], todo: set[str]) -> list[tuple[str, dict[str, Any]]]:
        finished = []
        for pid in chunk:
            if pid not in todo:
                continue
            pictures = [self.store.open_image(h) for _, h in sorted(self.by_prompt[pid])]
            started = time.perf_counter()
            try:
                outcome: Outcome = self.baseline.evaluate(self.texts[pid], pictures)
            except PuncError:
                raise
            except Exception as exc:  # one prompt's failure must not end the stage
                self.store.record_failure(
                    "baselines", f"{self.name}: {type(exc).__name__}: {exc}", prompt_id=pid
                )
                continue
            record = {
                "prompt_id": pid,
                "baseline": self.name,
                "signature": self.signature,
                "u": outcome.u,
                "components": outcome.components,
                **({"extra_scores": outcome.extra_scores} if outcome.extra_scores else {}),
                **({"info": outcome.info} if outcome.info else {}),
                "n_images": len(pictures),
                "cost": {
                    "network_passes_per_prompt": outcome.passes,
                    "seconds_per_prompt": round(time.perf_counter() - started, 6),
                },
            }
            finished.append((pid, record))
        return finished

    def commit(self, records: list[dict[str, Any]]) -> None:
        self.store.append_baselines(records)

    def close(self) -> None:
        return None  # models live in the shared Resources, closed when every baseline is done


def mean_cost(lines: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    if not lines:
        return {"network_passes_per_prompt": None, "seconds_per_prompt": None}
    n = len(lines)
    return {
        "network_passes_per_prompt": sum(r["cost"]["network_passes_per_prompt"] for r in lines) / n,
        "seconds_per_prompt": sum(r["cost"]["seconds_per_prompt"] for r in lines) / n,
    }


__all__ = ["BASELINES_FILE", "available_baselines", "build_baseline", "read_baselines", "run_baselines"]
