"""BERTScore, implemented here in torch + transformers (bert-score 0.3.13 semantics).

For each text: tokenize (special tokens added, truncated to the model's maximum length), run the
backbone, take hidden state ``layer`` (0 = embedding output, ``k`` = output of the k-th layer; this is
what bert-score's ``num_layers`` selects), L2-normalise every token vector. Then, with sim the cosine
matrix between caption tokens and prompt tokens:

* P = weighted mean over caption tokens of the max similarity to any prompt token,
* R = weighted mean over prompt tokens of the max similarity to any caption token,
* F = 2PR / (P + R).

As in bert-score, the special tokens ([CLS], [SEP] or their equivalents) get weight 0, so they are
not averaged over, but they remain candidates of the max. Without idf every other token weighs 1;
with ``idf=True`` the weight is bert-score's idf computed over the prompts of the ``score()`` call,
``log((N + 1) / (df + 1))``. An empty (or whitespace-only) caption or prompt scores P = R = F = 0,
which is what bert-score 0.3.13 returns (before its optional rescaling). Optional baseline rescaling
``x -> (x - b) / (1 - b)`` for P, R and F separately reads a user-supplied file in bert-score's
format (header ``LAYER,P,R,F``, one row per layer).

Where this code deliberately differs from bert-score: padded positions never take part in the max
(bert-score lets a padded position contribute a similarity of 0 when a batch holds texts of
different lengths, which only matters if every real similarity of a token is negative), and a
non-empty text whose weights are all zero (possible only with idf) scores 0 instead of NaN.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from harness.devices import version_of
from harness.errors import InputError, PuncError
from harness.scorers.base import (
    DEFAULT_MODEL,
    TextScorer,
    as_bool,
    as_device,
    as_int,
    as_opt_str,
    check_pairs,
    check_revision,
    model_load_error,
    model_revision,
    quiet_loading,
    resolve_device,
    resolve_model,
)

#: Layer used for the default backbone (all-MiniLM-L6-v2 has 6 layers: its last one).
DEFAULT_LAYER = 6
#: The reference implementation whose numbers this module reproduces (checked by the tests).
COMPATIBLE_WITH = "bert_score-0.3.13"


def load_baseline(path: str | Path, layer: int) -> tuple[float, float, float]:
    """Read a bert-score baseline file (``LAYER,P,R,F`` rows, comma or tab separated)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(file=path, where=None, field=None, expected="a readable baseline file (LAYER,P,R,F)")
    lines = path.read_text(encoding="utf-8").splitlines()
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line.strip()]
    if not numbered:
        raise InputError(file=path, where=None, field=None, expected="a header LAYER,P,R,F and rows")
    head_no, head = numbered[0]
    delim = "\t" if "\t" in head and "," not in head else ","
    header = [h.strip().upper() for h in head.split(delim)]
    if header != ["LAYER", "P", "R", "F"]:
        raise InputError(file=path, where=head_no, field="header", expected="LAYER,P,R,F", got=head)
    for line_no, line in numbered[1:]:
        cells = [c.strip() for c in line.split(delim)]
        try:
            if len(cells) != 4:
                raise ValueError
            row_layer = int(float(cells[0]))
            values = tuple(float(c) for c in cells[1:])
        except ValueError:
            raise InputError(
                file=path, where=line_no, field=None, expected="4 numbers: LAYER,P,R,F", got=line
            ) from None
        if row_layer == layer:
            if any(not math.isfinite(v) or v >= 1.0 for v in values):
                raise InputError(
                    file=path, where=line_no, field=None, expected="finite baselines below 1", got=line
                )
            return values  # type: ignore[return-value]
    raise InputError(file=path, where=None, field="LAYER", expected=f"a row for layer {layer}")


class BERTScoreScorer(TextScorer):
    """BERTScore precision/recall/F1, greedy token matching; default all-MiniLM-L6-v2 layer 6.

    The backbone is a hub id or a local folder, the layer configurable; matches bert-score.
    """

    name: ClassVar[str] = "bertscore"
    outputs: ClassVar[tuple[str, ...]] = ("precision", "recall", "f1")

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        layer: int | None = None,
        revision: str | None = None,
        idf: bool = False,
        baseline: str | Path | None = None,
        device: str | None = None,
        batch_size: int = 64,
    ) -> None:
        self.source, self.model_label = resolve_model(model, self.name)
        self.revision = check_revision(self.source, as_opt_str(revision, "revision", self.name), self.name)
        self.layer = None if layer is None else as_int(layer, "layer", self.name, minimum=0)
        if self.layer is None and self.model_label == DEFAULT_MODEL:
            self.layer = DEFAULT_LAYER
        self.idf = as_bool(idf, "idf", self.name)
        self.baseline_path = as_opt_str(baseline, "baseline", self.name)
        self.device = as_device(device, self.name)
        self.batch_size = as_int(batch_size, "batch_size", self.name, minimum=1)
        self._baseline: tuple[float, float, float] | None = None
        if self.baseline_path is not None:
            if not Path(self.baseline_path).is_file():
                raise InputError(
                    file=self.baseline_path, where=None, field=None, expected="an existing baseline file"
                )
            if self.layer is not None:
                self._baseline = load_baseline(self.baseline_path, self.layer)
        self._depth: int | None = None
        self._model: Any = None
        self._tokenizer: Any = None
        self._max_length: int | None = None
        self._commit: str | None = None

    # -- loading ------------------------------------------------------------------------------

    def _resolve_layer(self) -> int:
        """Default the layer to the backbone's last one and check it exists (reads only the config)."""
        if self._depth is None:
            depth = local_depth(self.source)  # a local folder: no need to import transformers (seconds)
            if depth is None:
                from transformers import AutoConfig

                try:
                    with quiet_loading():
                        config = AutoConfig.from_pretrained(self.source, revision=self.revision)
                except (OSError, ValueError) as exc:
                    raise model_load_error(self.name, self.source, exc) from None
                config = getattr(config, "encoder", None) or config  # encoder-decoder configs
                depth = getattr(config, "num_hidden_layers", None) or getattr(config, "num_layers", None)
            if not isinstance(depth, int):
                raise PuncError(
                    f"scorer '{self.name}': cannot tell the depth of '{self.source}'; pass layer="
                )
            self._depth = depth
        if self.layer is None:
            self.layer = self._depth
        if self.layer > self._depth:
            raise PuncError(
                f"scorer '{self.name}': layer {self.layer} does not exist in '{self.model_label}' "
                f"(layers 0..{self._depth})"
            )
        if self._baseline is None and self.baseline_path is not None:
            self._baseline = load_baseline(self.baseline_path, self.layer)
        return self.layer

    def close(self) -> None:
        self._model = self._tokenizer = None

    def _load(self) -> None:
        if self._model is not None:
            return
        self._resolve_layer()
        from transformers import AutoModel, AutoTokenizer, GPT2Tokenizer, RobertaTokenizer

        try:
            with quiet_loading():
                tokenizer = AutoTokenizer.from_pretrained(self.source, revision=self.revision)
                if isinstance(tokenizer, GPT2Tokenizer | RobertaTokenizer):  # bert-score's prefix space
                    tokenizer = AutoTokenizer.from_pretrained(
                        self.source, revision=self.revision, add_prefix_space=True
                    )
                model = AutoModel.from_pretrained(self.source, revision=self.revision)
        except (OSError, ValueError) as exc:
            raise model_load_error(self.name, self.source, exc) from None
        self._commit = getattr(model.config, "_commit_hash", None)
        if hasattr(model, "encoder") and hasattr(model, "decoder"):  # encoder-decoder: encoder only
            model = model.get_encoder() if hasattr(model, "get_encoder") else model.encoder
        tokenizer.padding_side = "right"
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
        max_length = tokenizer.model_max_length
        positions = getattr(model.config, "max_position_embeddings", None)
        if isinstance(positions, int) and (not isinstance(max_length, int) or max_length > positions):
            max_length = positions
        self.device = resolve_device(self.device)
        model.eval()
        model.to(self.device)
        self._tokenizer, self._model, self._max_length = tokenizer, model, max_length

    # -- protocol -----------------------------------------------------------------------------

    def signature(self) -> str:
        layer = self._resolve_layer()
        if self.baseline_path is None:
            rescale = "None"
        else:
            from harness.fingerprint import sha256_file

            rescale = f"{Path(self.baseline_path).name}@sha256:{sha256_file(self.baseline_path)[:12]}"
        revision = model_revision(self.source, self.revision, self._commit)
        return (
            f"bertscore:model={self.model_label}@{revision}:layer={layer}:idf={self.idf}"
            f":rescale={rescale}:compat={COMPATIBLE_WITH}"
            f":torch={version_of('torch')}:transformers={version_of('transformers')}"
        )

    def score(self, prompts: Sequence[str], captions: Sequence[str]) -> list[dict[str, float]]:
        prompts, captions = check_pairs(prompts, captions)
        if not prompts:
            return []
        self._load()
        import torch

        refs = [p.strip() for p in prompts]
        hyps = [c.strip() for c in captions]
        embeddings = self._embed(refs + hyps)
        special = {self._tokenizer.cls_token_id, self._tokenizer.sep_token_id} - {None}
        idf = self._idf_weights(refs) if self.idf else None

        def weights(ids: list[int]) -> list[float]:
            if idf is None:
                return [0.0 if t in special else 1.0 for t in ids]
            default = math.log(len(refs) + 1)
            return [idf.get(t, default) for t in ids]

        rows: list[dict[str, float]] = []
        for start in range(0, len(refs), self.batch_size):
            batch_refs = refs[start : start + self.batch_size]
            batch_hyps = hyps[start : start + self.batch_size]
            ref_emb = [embeddings[s][0] for s in batch_refs]
            hyp_emb = [embeddings[s][0] for s in batch_hyps]
            ref_w = [weights(embeddings[s][1]) for s in batch_refs]
            hyp_w = [weights(embeddings[s][1]) for s in batch_hyps]
            p, r = self._greedy(ref_emb, ref_w, hyp_emb, hyp_w)
            f = 2 * p * r / (p + r)
            f = torch.nan_to_num(f, nan=0.0)
            for i, (ref, hyp) in enumerate(zip(batch_refs, batch_hyps, strict=True)):
                row = [p[i].item(), r[i].item(), f[i].item()]
                if ref == "" or hyp == "":
                    row = [0.0, 0.0, 0.0]
                if self._baseline is not None:
                    row = [(x - b) / (1 - b) for x, b in zip(row, self._baseline, strict=True)]
                rows.append(dict(zip(self.outputs, row, strict=True)))
        return rows

    # -- internals ----------------------------------------------------------------------------

    def _embed(self, texts: list[str]) -> dict[str, tuple[Any, list[int]]]:
        """Unique text -> (normalised hidden states of layer ``self.layer`` [T, D], token ids)."""
        import torch

        # Longest first by token count, ties by text: batches pad least (the model's cost is the padded
        # tokens; bert-score's word count pads ~12 % more on the embedded world's prompts), and batch
        # composition does not depend on the process's string-hash seed.
        unique = sorted(set(texts))
        token_counts = [
            len(ids)
            for ids in self._tokenizer(
                unique, add_special_tokens=True, truncation=True, max_length=self._max_length
            )["input_ids"]
        ]
        unique = [t for _, t in sorted(zip(token_counts, unique, strict=True), key=lambda c: (-c[0], c[1]))]
        out: dict[str, tuple[Any, list[int]]] = {}
        for start in range(0, len(unique), self.batch_size):
            batch = unique[start : start + self.batch_size]
            enc = self._tokenizer(
                batch,
                add_special_tokens=True,
                padding=True,
                truncation=True,
                max_length=self._max_length,
                return_tensors="pt",
            )
            ids = enc["input_ids"].to(self.device)
            mask = enc["attention_mask"].to(self.device)
            with torch.inference_mode():
                hidden = self._model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
            states = hidden.hidden_states
            if self.layer >= len(states):
                raise PuncError(
                    f"scorer '{self.name}': layer {self.layer} does not exist in '{self.model_label}' "
                    f"(layers 0..{len(states) - 1})"
                )
            emb = states[self.layer].float()
            emb = emb / emb.norm(dim=-1, keepdim=True)
            for i, text in enumerate(batch):
                keep = mask[i].bool()
                out[text] = (emb[i][keep], ids[i][keep].tolist())
        return out

    def _idf_weights(self, refs: list[str]) -> dict[int, float]:
        """bert-score's idf: over the references of this call, df counted once per reference."""
        enc = self._tokenizer(refs, add_special_tokens=True, truncation=True, max_length=self._max_length)[
            "input_ids"
        ]
        df = Counter(t for ids in enc for t in set(ids))
        n = len(refs)
        return {t: math.log((n + 1) / (c + 1)) for t, c in df.items()}

    def _greedy(
        self, ref_emb: list[Any], ref_w: list[list[float]], hyp_emb: list[Any], hyp_w: list[list[float]]
    ):
        import torch
        from torch.nn.utils.rnn import pad_sequence

        device = ref_emb[0].device
        ref = pad_sequence(ref_emb, batch_first=True)  # B, Lr, D
        hyp = pad_sequence(hyp_emb, batch_first=True)  # B, Lh, D
        rw = pad_sequence([torch.tensor(w, dtype=torch.float32) for w in ref_w], batch_first=True).to(device)
        hw = pad_sequence([torch.tensor(w, dtype=torch.float32) for w in hyp_w], batch_first=True).to(device)
        rmask = pad_sequence([torch.ones(len(w), dtype=torch.bool) for w in ref_w], batch_first=True).to(
            device
        )
        hmask = pad_sequence([torch.ones(len(w), dtype=torch.bool) for w in hyp_w], batch_first=True).to(
            device
        )
        sim = torch.bmm(hyp, ref.transpose(1, 2))  # B, Lh, Lr
        valid = hmask.unsqueeze(2) & rmask.unsqueeze(1)
        sim = sim.masked_fill(~valid, float("-inf"))
        word_p = sim.max(dim=2).values.masked_fill(~hmask, 0.0)  # best prompt token per caption token
        word_r = sim.max(dim=1).values.masked_fill(~rmask, 0.0)  # best caption token per prompt token
        p = (word_p * hw).sum(dim=1) / hw.sum(dim=1)
        r = (word_r * rw).sum(dim=1) / rw.sum(dim=1)
        return torch.nan_to_num(p.cpu(), nan=0.0), torch.nan_to_num(r.cpu(), nan=0.0)


def local_depth(source: str) -> int | None:
    """Layers of a local model folder, read from its config.json as AutoConfig would; None otherwise."""
    config_file = Path(source) / "config.json"
    if not config_file.is_file():
        return None
    import json

    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # AutoConfig then says what is wrong with it
    if not isinstance(config, dict):
        return None
    config = config.get("encoder") if isinstance(config.get("encoder"), dict) else config
    depth = config.get("num_hidden_layers") or config.get("num_layers")
    return depth if isinstance(depth, int) else None


@lru_cache(maxsize=2)
def _cached_scorer(**params: Any) -> BERTScoreScorer:
    return BERTScoreScorer(**params)


def bertscore_prf(
    prompts: Sequence[str],
    captions: Sequence[str],
    model: str = DEFAULT_MODEL,
    layer: int | None = None,
    revision: str | None = None,
    idf: bool = False,
    baseline: str | None = None,
    device: str | None = None,
    batch_size: int = 64,
) -> list[dict[str, float]]:
    """Functional twin of :class:`BERTScoreScorer`; the loaded model is cached between calls."""
    scorer = _cached_scorer(
        model=model,
        layer=layer,
        revision=revision,
        idf=idf,
        baseline=None if baseline is None else str(baseline),
        device=device,
        batch_size=batch_size,
    )
    return scorer.score(prompts, captions)
