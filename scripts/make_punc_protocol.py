"""Write the PUNC protocol: prompts/punc_protocol/*.jsonl and tasks/punc_protocol*.yaml.

    python scripts/make_punc_protocol.py           # (re)write the files, print per-set length statistics
    python scripts/make_punc_protocol.py --check   # exit 1 if the files on disk differ from what this makes

The procedure (docs/protocol.md) is deterministic: class lists are read from
prompts/punc_protocol/sources/*.txt in file order, every random choice comes from one seeded
`random.Random`, and nothing depends on set or dict order, the locale or the environment.
Bump PROTOCOL_VERSION whenever the output changes, so results made from different prompts never
share a task version.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL_VERSION = "1"
SEED = 20250611
SET_SIZE = 240
SOURCES = Path("prompts/punc_protocol/sources")
OUT_DIR = Path("prompts/punc_protocol")
TASKS_DIR = Path("tasks")

# Frames of an everyday photo; the in-distribution and the vague sets share them, so the vague set
# differs from the in-distribution set only by naming a broad category instead of a class.
PHOTO_TEMPLATES = (
    "a photo of a {c}",
    "a close-up photo of a {c}",
    "a clear photo of a {c}",
    "a photograph of a {c}, high quality",
    "a sharp, detailed photo of a {c}",
    "a color photo of a {c} in natural light",
)
# Under-specified stand-ins for ImageNet classes: categories a class belongs to, no class itself.
VAGUE_CONCEPTS = (
    "animal", "bird", "dog", "cat", "fish", "insect", "reptile", "mammal", "creature", "pet",
    "vehicle", "boat", "machine", "device", "tool", "instrument", "musical instrument", "container",
    "piece of furniture", "piece of clothing", "garment", "toy", "food", "dish", "fruit", "vegetable",
    "drink", "plant", "flower", "building", "structure", "place", "landscape", "scene", "room", "shop",
    "object", "thing", "item", "household item", "kitchen utensil", "sports item", "gadget",
    "piece of equipment", "natural feature", "accessory",
)  # fmt: skip
REMOTE_SENSING_TEMPLATES = (
    "a satellite image of a {c}",
    "an aerial photo of a {c}",
    "a remote sensing image of a {c}",
    "an overhead satellite view of a {c}",
    "a high-resolution aerial image of a {c}",
    "a satellite photograph of a {c}",
    "an aerial view of a {c}, seen from above",
    "a top-down satellite photo of a {c} from orbit",
)
# NWPU-RESISC45 folder names that read badly as English once underscores become spaces.
REMOTE_SENSING_WORDING = {
    "dense_residential": "dense residential area",
    "medium_residential": "medium-density residential area",
    "sparse_residential": "sparse residential area",
    "chaparral": "chaparral shrubland",
    "cloud": "cloud cover",
    "terrace": "terraced hillside",
    "snowberg": "snow-capped peak",
}
TEXTURE_TEMPLATES = (
    "a {c} texture",
    "a close-up of a {c} texture",
    "a photo of a {c} surface",
    "a {c} pattern filling the frame",
    "a close-up photo of a {c} material",
    "a macro photo of a {c} texture",
    "a flat {c} texture, seen up close",
    "a seamless {c} pattern",
    "a photograph of a {c} texture, high quality",
    "a color photo of a {c} surface in natural light",
)
MICROSCOPY_TEMPLATES = (
    "a micrograph of {c}",
    "a microscope image of {c}",
    "a light microscope image of {c}",
    "an electron micrograph of {c}",
    "a fluorescence microscopy image of {c}",
    "{c} under a microscope",
    "a stained slide of {c} under a microscope",
    "a magnified view of {c}, microscopy",
)
# Mass nouns and plurals among the class names: no indefinite article in front of them.
NO_ARTICLE = {
    "jeans", "binoculars", "mashed potatoes", "clogs", "pajamas", "hay", "wool", "dough", "corn",
    "espresso", "red wine", "guacamole", "consomme", "carbonara", "chocolate syrup", "eggnog", "broccoli",
    "cauliflower", "toilet paper", "hot pot", "chain mail", "tights", "cloud cover", "chaparral shrubland",
    "sea ice", "velvet fabric", "face powder", "hair spray", "lotion", "sunscreen", "rapeseed",
    "sunglasses", "swim trunks", "acorn squash", "butternut squash", "spaghetti squash", "cabbage",
    "trifle", "meatloaf", "ice cream",
}  # fmt: skip
_AN_EXCEPTIONS = ("uni", "use", "usu", "eu", "one", "once")
_AN_SPECIAL = ("hour", "honest", "heir")
CONTENT_MIN_LETTERS = 3
LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Prompt:
    id: str
    text: str
    labels: dict[str, Any]

    def line(self) -> str:
        return json.dumps({"id": self.id, "text": self.text, "labels": self.labels}, ensure_ascii=False)


def read_list(name: str) -> list[str]:
    lines = (ROOT / SOURCES / name).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def article_for(word: str) -> str:
    lower = word.lower()
    if lower.startswith(_AN_SPECIAL):
        return "an"
    if lower[:1] in "aeiou" and not lower.startswith(_AN_EXCEPTIONS):
        return "an"
    return "a"


def fill(template: str, concept: str) -> str:
    """Put a concept into a template; `a {c}` becomes `an ...` or loses its article as English needs."""
    if "a {c}" in template:
        if concept in NO_ARTICLE:
            template = template.replace("a {c}", "{c}")
        else:
            template = template.replace("a {c}", article_for(concept) + " {c}")
    return template.format(c=concept)


def words(text: str) -> int:
    return len(text.split())


def clean_imagenet_name(name: str) -> str | None:
    """One readable English name per class; None for names that join two concepts with `or`."""
    if " or " in name:
        return None
    name = name.split(" (")[0].split(" / ")[0].strip()
    return name or None


def imagenet_classes() -> list[tuple[int, str]]:
    seen: set[str] = set()
    out = []
    for index, raw in enumerate(read_list("imagenet1k.txt")):
        name = clean_imagenet_name(raw)
        if name is None or name.lower() in seen:
            continue
        seen.add(name.lower())
        out.append((index, name))
    return out


def build_in_distribution(rng: random.Random) -> list[Prompt]:
    chosen = sorted(rng.sample(imagenet_classes(), SET_SIZE))
    rng.shuffle(chosen)
    prompts = []
    for i, (index, name) in enumerate(chosen):
        t = rng.randrange(len(PHOTO_TEMPLATES))
        labels = {"shift": "none", "category": "imagenet", "concept": name, "imagenet_index": index}
        labels["template"] = t
        prompts.append(Prompt(f"punc_id.{i:03d}", fill(PHOTO_TEMPLATES[t], name), labels))
    return prompts


def length_matched(
    rng: random.Random,
    reference: Sequence[Prompt],
    concepts: Sequence[str],
    templates: Sequence[str],
    make: Callable[[int, str, int, str], Prompt],
) -> list[Prompt]:
    """SET_SIZE prompts over `concepts` (each used about equally), each with the template whose length
    is closest to a target drawn from the reference set: words first, then characters.

    The targets are the reference prompts in a seeded order, so the shifted set copies the reference
    set's length distribution as far as its templates allow; no (concept, template) pair repeats.
    """
    order = list(concepts)
    rng.shuffle(order)
    targets = list(reference)
    rng.shuffle(targets)
    used: set[tuple[str, int]] = set()
    out = []
    for i in range(SET_SIZE):
        concept = order[i % len(order)]
        target = targets[i % len(targets)].text
        options = [t for t in range(len(templates)) if (concept, t) not in used]
        if not options:
            raise SystemExit(f"not enough templates for {concept!r}: add templates or concepts")

        def distance(t: int, concept: str = concept, target: str = target) -> tuple[int, int, int]:
            text = fill(templates[t], concept)
            return (abs(words(text) - words(target)), abs(len(text) - len(target)), t)

        best = min(options, key=distance)
        used.add((concept, best))
        out.append(make(i, concept, best, fill(templates[best], concept)))
    return out


def typo(word: str, rng: random.Random) -> tuple[str, str]:
    """One character-level edit inside a word (never its first letter): swap, drop, double or substitute."""
    for _ in range(20):
        op = rng.choice(("swap", "drop", "double", "substitute"))
        i = rng.randrange(1, len(word) - 1) if len(word) > 2 else 1
        if op == "swap" and i + 1 < len(word):
            new = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        elif op == "drop":
            new = word[:i] + word[i + 1 :]
        elif op == "double":
            new = word[:i] + word[i] + word[i:]
        else:
            old = word[i].lower()
            new = word[:i] + rng.choice(LETTERS.replace(old, "")) + word[i + 1 :]
        if new != word:
            return new, op
    raise AssertionError(f"no typo found for {word!r}")  # pragma: no cover - 20 tries never all fail


def build_corrupted(rng: random.Random, clean: Sequence[Prompt]) -> list[Prompt]:
    """Each in-distribution prompt with one or two typos, in the class name's words when it has any."""
    out = []
    for i, source in enumerate(clean):
        tokens = source.text.split(" ")
        concept_words = set(source.labels["concept"].split())
        candidates = [j for j, w in enumerate(tokens) if w in concept_words and _letters(w) >= 3]
        if not candidates:
            candidates = [j for j, w in enumerate(tokens) if _letters(w) >= 4]
        n_typos = min(len(candidates), 1 + (rng.random() < 0.5))
        edits = []
        for j in sorted(rng.sample(candidates, n_typos)):
            new, op = typo(tokens[j], rng)
            edits.append({"word": tokens[j], "typo": new, "op": op})
            tokens[j] = new
        labels = {
            "shift": "corrupted",
            "category": f"typos_{n_typos}",
            "concept": source.labels["concept"],
            "clean_text": source.text,
            "clean_id": source.id,
            "typos": edits,
        }
        out.append(Prompt(f"punc_corrupted.{i:03d}", " ".join(tokens), labels))
    return out


def _letters(word: str) -> int:
    return sum(ch.isalpha() for ch in word)


def build_all() -> dict[str, list[Prompt]]:
    rng = random.Random(SEED)
    in_dist = build_in_distribution(rng)

    def maker(prefix: str, shift: str, category: str, source_key: str) -> Callable[..., Prompt]:
        def make(i: int, concept: str, template: int, text: str) -> Prompt:
            labels = {"shift": shift, "category": category, "concept": concept, "template": template}
            if source_key:
                labels["source_class"] = source_key
            return Prompt(f"{prefix}.{i:03d}", text, labels)

        return make

    vague = length_matched(
        rng, in_dist, VAGUE_CONCEPTS, PHOTO_TEMPLATES, maker("punc_vague", "vague", "vague", "")
    )
    corrupted = build_corrupted(rng, in_dist)
    nwpu = {REMOTE_SENSING_WORDING.get(c, c.replace("_", " ")): c for c in read_list("nwpu_resisc45.txt")}

    def remote(i: int, concept: str, template: int, text: str) -> Prompt:
        return maker("punc_ood_remote", "ood", "remote_sensing", nwpu[concept])(i, concept, template, text)

    remote_sensing = length_matched(rng, in_dist, list(nwpu), REMOTE_SENSING_TEMPLATES, remote)
    texture = length_matched(
        rng,
        in_dist,
        read_list("dtd47.txt"),
        TEXTURE_TEMPLATES,
        maker("punc_ood_texture", "ood", "texture", ""),
    )
    microscopy = length_matched(
        rng,
        in_dist,
        read_list("microscopy.txt"),
        MICROSCOPY_TEMPLATES,
        maker("punc_ood_microscopy", "ood", "microscopy", ""),
    )
    return {
        "id": in_dist,
        "vague": vague,
        "corrupted": corrupted,
        "ood_remote_sensing": remote_sensing,
        "ood_texture": texture,
        "ood_microscopy": microscopy,
    }


# Per generator family: (task file suffix, what it is for, width, height, steps, guidance).
FAMILIES = (
    ("", "Stable Diffusion 1.x/2.x-class pipelines at 512 px (SD 1.5, SD 2.1-base)", 512, 512, 50, 7.5),
    (
        "_sdxl",
        "1024 px pipelines with classifier-free guidance (SDXL base, PixArt-Sigma)",
        1024,
        1024,
        30,
        5.0,
    ),
    (
        "_turbo",
        "one-step distilled pipelines without guidance (SD-turbo, SDXL-turbo, SDXS)",
        512,
        512,
        1,
        0.0,
    ),
)
IMAGES_PER_PROMPT = 4
BASE_SEED = 0


def task_yaml(suffix: str, purpose: str, width: int, height: int, steps: int, guidance: float) -> str:
    files = "\n".join(f"  - ../{OUT_DIR.as_posix()}/{name}.jsonl" for name in build_order())
    return f"""# Written by scripts/make_punc_protocol.py (protocol version {PROTOCOL_VERSION}); edit the script, not this file.
name: punc_protocol{suffix}
version: {PROTOCOL_VERSION}
description: >-
  The PUNC protocol (docs/protocol.md): {SET_SIZE} ImageNet-class prompts in distribution, {SET_SIZE} vague and
  {SET_SIZE} corrupted (aleatoric shifts), and {SET_SIZE} each of remote-sensing, texture and microscopy
  prompts (epistemic shifts), length-matched to the in-distribution set. Settings for {purpose}.
prompts:
{files}
images_per_prompt: {IMAGES_PER_PROMPT}
seed: {BASE_SEED}
width: {width}
height: {height}
steps: {steps}
guidance: {guidance}
scorers: [bertscore, rouge1, rougeL]
primary_scorer: bertscore
"""


def build_order() -> list[str]:
    return ["id", "vague", "corrupted", "ood_remote_sensing", "ood_texture", "ood_microscopy"]


def rendered() -> dict[Path, str]:
    """Every file the protocol consists of, relative to the repository root, with its exact content."""
    sets = build_all()
    files = {
        OUT_DIR / f"{name}.jsonl": "".join(p.line() + "\n" for p in sets[name]) for name in build_order()
    }
    for family in FAMILIES:
        files[TASKS_DIR / f"punc_protocol{family[0]}.yaml"] = task_yaml(*family)
    return files


def wordpiece_tokenizer() -> Callable[[str], int]:
    """Token counts from the WordPiece tokenizer of the bundled BERTScore backbone (all-MiniLM-L6-v2)."""
    sys.path.insert(0, str(ROOT))
    from transformers import AutoTokenizer

    from harness.scorers.base import default_model_path

    tokenizer = AutoTokenizer.from_pretrained(str(default_model_path()))
    return lambda text: len(tokenizer.tokenize(text))


def length_table(sets: dict[str, list[Prompt]]) -> list[dict[str, Any]]:
    """Words, characters and tokens per set, and how well each alone tells a set from the in-distribution one."""
    from sklearn.metrics import roc_auc_score

    tokens = wordpiece_tokenizer()
    measures: dict[str, Callable[[str], int]] = {"words": words, "chars": len, "tokens": tokens}
    reference = sets["id"]
    rows = []
    for name in build_order():
        prompts = sets[name]
        row: dict[str, Any] = {"set": name, "n": len(prompts)}
        for key, measure in measures.items():
            values = [measure(p.text) for p in prompts]
            row.update({f"{key}_mean": statistics.fmean(values), f"{key}_sd": statistics.pstdev(values)})
            row.update({f"{key}_min": min(values), f"{key}_max": max(values)})
            if name != "id":
                y = [0] * len(reference) + [1] * len(prompts)
                auroc = float(roc_auc_score(y, [measure(p.text) for p in reference] + values))
                row[f"{key}_auroc"] = max(auroc, 1 - auroc)  # either direction counts as a tell
        rows.append(row)
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    print(
        "| set | n | words mean ± sd [min, max] | chars mean ± sd | tokens mean ± sd "
        "| length-only AUROC vs id (words / chars / tokens) |"
    )
    print("|---|---:|---|---|---|---|")
    for r in rows:
        auroc = (
            "—"
            if r["set"] == "id"
            else f"{r['words_auroc']:.3f} / {r['chars_auroc']:.3f} / {r['tokens_auroc']:.3f}"
        )
        print(
            f"| {r['set']} | {r['n']} | {r['words_mean']:.2f} ± {r['words_sd']:.2f} "
            f"[{r['words_min']}, {r['words_max']}] | {r['chars_mean']:.1f} ± {r['chars_sd']:.1f} "
            f"| {r['tokens_mean']:.2f} ± {r['tokens_sd']:.2f} | {auroc} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the files on disk, write nothing")
    parser.add_argument("--root", type=Path, default=ROOT, help="where to write (default: the repository)")
    args = parser.parse_args(argv)
    files = rendered()
    if args.check:
        stale = [str(p) for p, text in files.items() if _read(args.root / p) != text]
        for path in stale:
            print(f"differs: {path}", file=sys.stderr)
        return 1 if stale else 0
    for path, text in files.items():
        target = args.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    print(f"\nPUNC protocol version {PROTOCOL_VERSION}, seed {SEED}:\n")
    print_table(length_table(build_all()))
    return 0


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


if __name__ == "__main__":
    sys.exit(main())
