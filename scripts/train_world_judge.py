"""Train the embedded world's judge: a tiny transformers image captioner (ViT encoder + GPT-2
decoder with cross-attention, VisionEncoderDecoderModel) on renders of the WHOLE vocabulary.

    python scripts/train_world_judge.py --out models/embedded/judge

Seeded; CPU only; ~14 min on one core (one torch thread)."""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.world.render import IMAGE_SIZE, random_scene, render  # noqa: E402
from harness.world.vocabulary import caption_words  # noqa: E402

SPECIALS = ["[PAD]", "[BOS]", "[EOS]", "[UNK]"]


def build_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(SPECIALS + caption_words())}
    tk = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tk.decoder = decoders.WordPiece(prefix="##", cleanup=False)  # joins words with spaces
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk,
        pad_token="[PAD]",
        bos_token="[BOS]",
        eos_token="[EOS]",
        unk_token="[UNK]",
        model_max_length=32,
    )
    return tok


def build_model(tok):
    from transformers import GPT2Config, GPT2LMHeadModel, VisionEncoderDecoderModel, ViTConfig, ViTModel

    enc_cfg = ViTConfig(
        image_size=IMAGE_SIZE,
        patch_size=4,
        num_channels=3,
        hidden_size=96,
        num_hidden_layers=3,
        num_attention_heads=4,
        intermediate_size=192,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    dec_cfg = GPT2Config(
        vocab_size=len(tok),
        n_positions=32,
        n_embd=96,
        n_layer=2,
        n_head=4,
        n_inner=192,
        add_cross_attention=True,
        is_decoder=True,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    model = VisionEncoderDecoderModel(
        encoder=ViTModel(enc_cfg, add_pooling_layer=False), decoder=GPT2LMHeadModel(dec_cfg)
    )
    model.config.decoder_start_token_id = tok.bos_token_id
    model.config.pad_token_id = tok.pad_token_id
    model.config.eos_token_id = tok.eos_token_id
    model.config.bos_token_id = tok.bos_token_id
    model.config.vocab_size = len(tok)
    gc = model.generation_config
    gc.decoder_start_token_id = tok.bos_token_id
    gc.bos_token_id = tok.bos_token_id
    gc.eos_token_id = tok.eos_token_id
    gc.pad_token_id = tok.pad_token_id
    gc.max_new_tokens = 32
    gc.do_sample = False
    gc.num_beams = 1
    return model


def add_unused_pooler(model) -> None:
    """ViTModel.from_pretrained expects a pooler; VisionEncoderDecoderModel never uses it. Add a
    zero-initialised one after training so loading reports no missing weights."""
    from transformers.models.vit.modeling_vit import ViTPooler

    if getattr(model.encoder, "pooler", None) is None:
        model.encoder.pooler = ViTPooler(model.encoder.config)
        torch.nn.init.zeros_(model.encoder.pooler.dense.weight)
        torch.nn.init.zeros_(model.encoder.pooler.dense.bias)


def make_data(n: int, seed: int, tok):
    rng = random.Random(seed)
    X = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    caps = []
    for i in range(n):
        img, cap = render(random_scene(rng), rng)
        X[i] = np.asarray(img)
        caps.append(cap)
    enc = tok(caps, padding="max_length", max_length=24, truncation=True)
    ids = torch.tensor(enc["input_ids"])
    labels = ids.clone()
    # append EOS after the last word, -100 for padding
    lens = (ids != tok.pad_token_id).sum(1)
    labels[labels == tok.pad_token_id] = -100
    labels[torch.arange(n), lens] = tok.eos_token_id
    x = torch.from_numpy(X).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    return x, labels, caps


def augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Light degradations so the judge also reads the generator's imperfect images."""
    b = x.shape[0]
    # random blur (mix with 3x3 box blur)
    k = torch.ones(3, 1, 3, 3) / 9.0
    blurred = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), k, groups=3)
    a = torch.rand(b, 1, 1, 1, generator=g) * 0.8
    a = a * (torch.rand(b, 1, 1, 1, generator=g) < 0.5)
    x = x * (1 - a) + blurred * a
    # brightness / contrast / per-channel jitter
    x = x * (1 + 0.1 * (torch.rand(b, 1, 1, 1, generator=g) - 0.5)) + 0.06 * (
        torch.rand(b, 3, 1, 1, generator=g) - 0.5
    )
    # gaussian noise
    s = torch.rand(b, 1, 1, 1, generator=g) * 0.12
    x = x + s * torch.randn(x.shape, generator=g)
    return x.clamp(-1, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "models/embedded/judge"))
    ap.add_argument("--n-train", type=int, default=40000)
    ap.add_argument("--steps", type=int, default=1600)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    t0 = time.time()
    tok = build_tokenizer()
    model = build_model(tok)
    x, labels, _ = make_data(args.n_train, args.seed, tok)
    print(
        f"data {x.shape} in {time.time() - t0:.1f}s; params {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M",
        flush=True,
    )
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warm = 200
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / args.steps)))
    )
    g = torch.Generator().manual_seed(args.seed)
    model.train()
    for step in range(args.steps):
        idx = torch.randint(0, x.shape[0], (args.batch,), generator=g)
        xb = augment(x[idx], g)
        out = model(pixel_values=xb, labels=labels[idx])
        opt.zero_grad()
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 250 == 0 or step == args.steps - 1:
            print(f"step {step} loss {out.loss.item():.4f} t {time.time() - t0:.0f}s", flush=True)
    train_s = time.time() - t0
    model.eval()
    # quick held-out exact-match check
    xv, _, caps = make_data(500, args.seed + 1, tok)
    with torch.no_grad():
        gen = model.generate(pixel_values=xv, max_new_tokens=32)
    pred = tok.batch_decode(gen, skip_special_tokens=True)
    em = float(np.mean([p.strip() == c for p, c in zip(pred, caps, strict=False)]))
    print(f"held-out exact caption match {em:.3f}; train time {train_s:.0f}s", flush=True)

    from transformers import ViTImageProcessor

    add_unused_pooler(model)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)
    ViTImageProcessor(
        do_resize=True,
        size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
        resample=2,
        do_rescale=True,
        rescale_factor=1 / 255,
        do_normalize=True,
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
    ).save_pretrained(out)
    (out / "training_log.json").write_text(
        json.dumps(
            {
                "command": "python " + " ".join(sys.argv),
                "train_seconds": round(train_s, 1),
                "steps": args.steps,
                "batch": args.batch,
                "n_train": args.n_train,
                "seed": args.seed,
                "threads": args.threads,
                "heldout_exact_match": em,
                "params": sum(p.numel() for p in model.parameters()),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
