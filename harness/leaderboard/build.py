"""`punc leaderboard build`: index.json, README.md and a self-contained index.html from a board's bundles.

The HTML page needs no network and works from file://: CSS and JS are inline, the data is embedded as
JSON in a ``<script type="application/json">`` block with ``<``, ``>`` and ``&`` written as ``\\u003c``
etc. (so ``</script>`` in a prompt cannot end the block), and the page builds its DOM with
``textContent`` only. A Content-Security-Policy with a per-build nonce blocks any other script.
"""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness._version import __version__
from harness.errors import PuncError, storage_errors
from harness.leaderboard.board_files import (
    board_path,
    json_safe,
    list_bundles,
    now_iso,
    read_board_json,
    share_files,
)
from harness.leaderboard.board_stats import board_comparisons, board_ranks, load_board_runs
from harness.leaderboard.digests import verify_bundle
from harness.leaderboard.export import CARD_HEADER, DATA_FILE, write_parquet
from harness.run.jsonl import atomic_write_json, atomic_write_text
from harness.run.reader import RunReader
from harness.run.schema import PRF_KEYS, UNCERTAINTY_KEYS, Interval, Results

TEMPLATES = Path(__file__).parent / "templates"
BAR_METRICS = (*UNCERTAINTY_KEYS, *PRF_KEYS)


@dataclass
class BuildResult:
    board_dir: Path
    index_json: Path
    readme: Path
    index_html: Path
    n_models: int


def _iv(value: Interval | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return json_safe({"mean": value.mean, "low": value.low, "high": value.high, "n": value.n})


def _primary(board: dict[str, Any], results: Results) -> str | None:
    for name in (board.get("primary_scorer"), results.primary_scorer):
        if name and name in results.overall.metrics:
            return name
    for name, outs in results.overall.metrics.items():
        if "u_tot" in outs:
            return name
    return next(iter(results.overall.metrics), None)


def _group(summary: Any, primary: str | None) -> dict[str, Any]:
    metrics = summary.metrics.get(primary, {}) if primary else {}
    return {"n_prompts": summary.n_prompts, "metrics": {k: _iv(metrics.get(k)) for k in BAR_METRICS}}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _cost(results: Results) -> dict[str, float | None] | None:
    """Device-seconds and USD of the run when results.json has the optional `cost` field."""
    raw = getattr(results, "cost", None)
    if hasattr(raw, "model_dump"):  # the schema's RunCost
        raw = raw.model_dump(mode="json")
    if not isinstance(raw, dict):
        return None
    cost = {"device_seconds": _number(raw.get("device_seconds")), "total_usd": _number(raw.get("total_usd"))}
    return json_safe(cost) if any(v is not None for v in cost.values()) else None


def _auroc(bundle: RunReader) -> dict[str, float | None]:
    raw = bundle.detection()
    if raw is None:
        return {}
    out: dict[str, float | None] = {}
    for comp in raw.get("comparisons", []) if isinstance(raw, dict) else []:
        if (
            isinstance(comp, dict)
            and isinstance(comp.get("shift"), str)
            and isinstance(comp.get("score"), str)
        ):
            value = comp.get("auroc")
            out[f"{comp['shift']}/{comp['score']}"] = (
                float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
            )
    return json_safe(out)


def _prompts(
    bundle: RunReader, bundle_id: str, results: Results, primary: str | None
) -> list[dict[str, Any]]:
    copied = {p.stem for p in bundle.layout.images_dir.glob("*.png")}
    images: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in bundle.images():
        h = rec.get("image_hash")
        images[str(rec.get("prompt_id"))].append(
            {
                "index": rec.get("index"),
                "seed": rec.get("seed"),
                "hash": h,
                "src": f"runs/{bundle_id}/images/{h}.png" if h in copied else None,
                "captions": [],
            }
        )
    captions: dict[tuple[str, Any, Any], dict[str, Any]] = {}
    for rec in bundle.captions():
        key = (str(rec.get("prompt_id")), rec.get("index"), rec.get("sample_index"))
        captions[key] = {"sample": rec.get("sample_index"), "text": rec.get("caption"), "scores": {}}
    for rec in bundle.scores():
        key = (str(rec.get("prompt_id")), rec.get("index"), rec.get("sample_index"))
        if key in captions and isinstance(rec.get("values"), dict):
            captions[key]["scores"][str(rec.get("scorer"))] = rec["values"]
    for (pid, index, _sample), cap in sorted(captions.items(), key=lambda kv: str(kv[0])):
        for img in images.get(pid, []):
            if img["index"] == index:
                img["captions"].append(cap)
                break
    out = []
    for pr in results.per_prompt:
        imgs = sorted(
            images.get(pr.prompt_id, []), key=lambda i: (i["index"] is None, str(i["index"]).zfill(8))
        )
        for img in imgs:
            img["captions"].sort(key=lambda c: (c["sample"] is None, str(c["sample"]).zfill(8)))
        unc = pr.uncertainty.get(primary, {}) if primary else {}
        met = pr.metrics.get(primary, {}) if primary else {}
        out.append(
            {
                "id": pr.prompt_id,
                "text": pr.text,
                "labels": pr.labels,
                "n_images": pr.n_images,
                "n_captions": pr.n_captions,
                "failed_items": pr.failed_items,
                "u": {k: {"mean": s.mean, "std": s.std} for k, s in unc.items()},
                "m": {k: {"mean": s.mean, "std": s.std} for k, s in met.items()},
                "images": imgs,
            }
        )
    return json_safe(out)


def collect(board_dir: Path) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """The board's index (one row per bundle) and the per-prompt data of each bundle."""
    board = read_board_json(board_dir / "board.json", "board description")
    if not isinstance(board, dict):
        raise PuncError(f"{board_dir / 'board.json'}: expected a JSON object")
    models: list[dict[str, Any]] = []
    prompts: dict[str, list[dict[str, Any]]] = {}
    sources: list[tuple[str, Path, str | None]] = []
    for bundle_dir, meta in list_bundles(board_dir):
        verify_bundle(bundle_dir, meta)
        bundle = RunReader(bundle_dir)
        results = bundle.results
        primary = _primary(board, results)
        overall = results.overall.metrics.get(primary, {}) if primary else {}
        bundle_id = bundle_dir.name
        models.append(
            json_safe(
                {
                    "id": bundle_id,
                    "label": meta.get("label") or results.model_name,
                    "model_name": results.model_name,
                    "partial": bool(meta.get("partial")),
                    "partial_reason": meta.get("partial_reason"),
                    "complete": results.complete,
                    "failures": len(results.failures),
                    "prompts": len(results.per_prompt),
                    "images": sum(p.n_images for p in results.per_prompt),
                    "captions": sum(p.n_captions for p in results.per_prompt),
                    **{k: _iv(overall.get(k)) for k in BAR_METRICS},
                    "primary_scorer": primary,
                    "auroc": _auroc(bundle),
                    "cost": _cost(results),
                    "judge": results.judge.name or results.judge.fingerprint,
                    "date": results.created[:10],
                    "created": results.created,
                    "published": meta.get("published"),
                    "harness_version": results.harness_version,
                    "generator": {
                        k: results.generator.model_dump().get(k)
                        for k in ("name", "model", "model_id", "revision")
                    },
                    "images_policy": (meta.get("images") or {}).get("policy"),
                    "by_category": {k: _group(v, primary) for k, v in sorted(results.by_category.items())},
                    "by_shift": {k: _group(v, primary) for k, v in sorted(results.by_shift.items())},
                }
            )
        )
        prompts[bundle_id] = _prompts(bundle, bundle_id, results, primary)
        sources.append((bundle_id, bundle_dir, primary))
    auroc_columns = sorted({key for m in models for key in m["auroc"]})
    runs = load_board_runs(sources)
    ranking = board_ranks(runs)
    ranks = {row["model"]: row for row in ranking["rows"]}
    for model in models:
        model["rank"] = ranks.get(model["id"])
    index = json_safe(
        {
            "board": {
                "name": board.get("name", board_dir.name),
                "created": board.get("created"),
                "task": board.get("task", {}),
                "task_hash": board.get("task_hash"),
                "judge": board.get("judge", {}),
                "judge_fingerprint": board.get("judge_fingerprint"),
                "scorers": board.get("scorers", {}),
                "primary_scorer": board.get("primary_scorer"),
            },
            "built": now_iso(),
            "harness_version": __version__,
            "auroc_columns": auroc_columns,
            "auroc_shifts": sorted({key.split("/", 1)[0] for key in auroc_columns}),
            "has_cost": any(m.get("cost") for m in models),
            "ranking": {k: v for k, v in ranking.items() if k != "rows"},
            "comparisons": board_comparisons(runs),
            "data_file": DATA_FILE,
            "models": models,
        }
    )
    return index, prompts


# ---------------------------------------------------------------------------------------------
# Markdown


def md_escape(text: object) -> str:
    """Plain text in a Markdown table cell: no markup, no HTML, no line breaks."""
    out = " ".join(str(text).split()).replace("&", "&amp;")
    for ch in "\\`*_[]<>|~":
        out = out.replace(ch, "\\" + ch)
    return out


def fmt_iv(iv: dict[str, Any] | None) -> str:
    if not iv or iv.get("mean") is None:
        return "–"
    low, high = iv.get("low"), iv.get("high")
    if low is None or high is None:
        return f"{iv['mean']:.3f}"
    return f"{iv['mean']:.3f} [{low:.3f}, {high:.3f}]"


def fmt_rank(rank: dict[str, Any] | None) -> str:
    if not rank:
        return "–"
    return f"{rank['rank']} [{rank['low']}, {rank['high']}]"


def fmt_tied(rank: dict[str, Any] | None) -> str:
    if not rank or rank.get("tied_with_next") is None:
        return ""
    return "yes" if rank["tied_with_next"] else "no"


def fmt_num(value: Any, digits: int) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) else "–"


def sort_key_u_tot(model: dict[str, Any]) -> tuple[bool, float, str]:
    iv = model.get("u_tot") or {}
    mean = iv.get("mean")
    return (mean is None, mean if mean is not None else 0.0, str(model.get("label")))


def render_markdown(index: dict[str, Any]) -> str:
    board = index["board"]
    cols = index["auroc_columns"]
    task = board.get("task") or {}
    lines = [
        CARD_HEADER.rstrip("\n"),
        "",
        f"# Leaderboard: {md_escape(board['name'])}",
        "",
        f"- Task: {md_escape(task.get('name', '?'))} (hash `{md_escape(board.get('task_hash'))}`)",
        f"- Judge: {md_escape((board.get('judge') or {}).get('name', '?'))} "
        f"(fingerprint `{md_escape(board.get('judge_fingerprint'))}`)",
        f"- Primary scorer: {md_escape(board.get('primary_scorer'))}",
        f"- Built: {md_escape(index['built'])} with punc-harness {md_escape(index['harness_version'])}",
        "",
        "Uncertainties are means over prompts with 95% bootstrap intervals; lower is better. "
        "Rows are sorted by U_tot. Rank (95%): the interval of the rank over bootstrap resamples of the "
        "prompts shared by all runs; tied: the paired permutation test with the next row is not "
        "significant (Holm-adjusted over neighbour pairs, alpha 0.05).",
        f"Per-prompt results of every run: `{DATA_FILE}` (load with `datasets`).",
        "",
    ]
    has_cost = bool(index.get("has_cost"))
    header = ["#", "Rank (95%)", "Tied with next", "Model", "Prompts", "Images"]
    header += ["U_ale (95% CI)", "U_epi (95% CI)", "U_tot (95% CI)"]
    header += [f"AUROC {md_escape(c)}" for c in cols]
    header += ["Device-seconds", "USD"] if has_cost else []
    header += ["Judge", "Date", "Harness", "Partial"]
    lines.append("| " + " | ".join(header) + " |")
    right = ("#", "Prompts", "Images", "Device-seconds", "USD")
    lines.append("|" + "|".join("---:" if h in right else "---" for h in header) + "|")
    for rank, m in enumerate(sorted(index["models"], key=sort_key_u_tot), start=1):
        auroc = [m["auroc"].get(c) for c in cols]
        cost = m.get("cost") or {}
        row = [
            str(rank),
            fmt_rank(m.get("rank")),
            fmt_tied(m.get("rank")),
            md_escape(m["label"]),
            str(m["prompts"]),
            str(m["images"]),
            fmt_iv(m.get("u_ale")),
            fmt_iv(m.get("u_epi")),
            fmt_iv(m.get("u_tot")),
            *[f"{v:.3f}" if isinstance(v, float) else "–" for v in auroc],
            *(
                [fmt_num(cost.get("device_seconds"), 1), fmt_num(cost.get("total_usd"), 4)]
                if has_cost
                else []
            ),
            md_escape(m.get("judge") or ""),
            md_escape(m.get("date") or ""),
            md_escape(m.get("harness_version") or ""),
            "partial" if m.get("partial") else "",
        ]
        lines.append("| " + " | ".join(row) + " |")
    if not index["models"]:
        lines.append("")
        lines.append("No runs published yet: `punc publish RUN_DIR --board NAME`.")
    lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# HTML


def script_json(value: Any) -> str:
    """JSON that is safe inside a <script> element: no '<', '>' or '&' appear literally."""
    text = json.dumps(json_safe(value), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def render_html(index: dict[str, Any], prompts: dict[str, list[dict[str, Any]]]) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from markupsafe import Markup

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(
            default=True, default_for_string=True, enabled_extensions=("j2", "html")
        ),
        keep_trailing_newline=True,
    )
    template = env.get_template("index.html.j2")
    css = (TEMPLATES / "board.css").read_text(encoding="utf-8")
    js = (TEMPLATES / "board.js").read_text(encoding="utf-8")
    if "</" in css.lower() or "</script" in js.lower() or "<!--" in js:
        raise RuntimeError("board.css/board.js must not contain '</' sequences that end their element")
    data = Markup(script_json({"index": index, "prompts": prompts}))  # noqa: S704 - escaped above
    return template.render(
        board_name=index["board"]["name"],
        nonce=secrets.token_urlsafe(16),
        data_json=data,
        css=Markup(css),  # noqa: S704 - our own file, checked above
        js=Markup(js),  # noqa: S704
    )


@storage_errors
def build_board(name: str, boards_dir: Path = Path("leaderboards")) -> BuildResult:
    board_dir = board_path(name, boards_dir)
    if not (board_dir / "board.json").is_file():
        raise PuncError(f"board {name!r} does not exist in {boards_dir} (no {board_dir / 'board.json'})")
    index, prompts = collect(board_dir)
    atomic_write_json(board_dir / "index.json", index)
    atomic_write_text(board_dir / "README.md", render_markdown(index))
    atomic_write_text(board_dir / "index.html", render_html(index, prompts))
    write_parquet(board_dir, index, prompts)
    for name in ("index.json", "README.md", "index.html", DATA_FILE):
        share_files(board_dir / name)
    return BuildResult(
        board_dir=board_dir,
        index_json=board_dir / "index.json",
        readme=board_dir / "README.md",
        index_html=board_dir / "index.html",
        n_models=len(index["models"]),
    )
