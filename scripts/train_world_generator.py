"""Train the embedded world's generator: a tiny latent diffusers StableDiffusionPipeline
(AutoencoderKL 32x32 -> 8x8x4, UNet2DConditionModel, CLIPTextModel, offline CLIPTokenizer,
DPMSolverMultistepScheduler) on renders of a SUBSET of the world's vocabulary, with a
deliberate colour bias. Saves two checkpoints (short, long) as separate pipelines.

    python scripts/train_world_generator.py --out-dir models/embedded

Seeded; CPU only; ~25 min on one core (one torch thread). Bias: see harness/world/vocabulary.py (BIAS_*)."""

from __future__ import annotations

import argparse
import json
import math
import random
import string
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.world.captions import object_phrase  # noqa: E402
from harness.world.prompts import build_bias_probes, eval_texts  # noqa: E402
from harness.world.render import IMAGE_SIZE, render  # noqa: E402
from harness.world.tokenizer import extend_generator  # noqa: E402
from harness.world.vocabulary import (  # noqa: E402
    BIAS_COLOUR,
    BIAS_PROB,
    BIAS_SHAPE,
    GEN_COLOURS,
    GEN_POSITIONS,
    GEN_SHAPES,
    GEN_SIZES,
    caption_words,
    generator_words,
)

MAX_LEN = 32


def build_tokenizer(tmp: Path):
    """CLIP BPE tokenizer written offline: single characters (so typos and unknown words still
    tokenize) plus whole-word tokens for the generator's training vocabulary."""
    from transformers import CLIPTokenizer

    words = generator_words()
    chars = list(string.ascii_lowercase) + list("0123456789.,'-!?;:")
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in chars:
        vocab.setdefault(c, len(vocab))
    for c in chars:
        vocab.setdefault(c + "</w>", len(vocab))
    chains = {}
    for w in words:
        toks = list(w[:-1]) + [w[-1] + "</w>"]
        cur, ms = toks[0], []
        for t in toks[1:]:
            ms.append(f"{cur} {t}")
            cur = cur + t
            vocab.setdefault(cur, len(vocab))
        chains[w] = ms
    order = list(words)
    for _ in range(50):  # move words whose chain is broken by other merges to the front
        merges, seen = [], set()
        for w in order:
            for m in chains[w]:
                if m not in seen:
                    seen.add(m)
                    merges.append(m)
        (tmp / "vocab.json").write_text(json.dumps(vocab))
        (tmp / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
        tok = CLIPTokenizer(
            vocab=str(tmp / "vocab.json"), merges=str(tmp / "merges.txt"), model_max_length=MAX_LEN
        )
        bad = [w for w in words if len(tok(w, add_special_tokens=False).input_ids) != 1]
        if not bad:
            return tok
        order = bad + [w for w in order if w not in bad]
    raise RuntimeError(f"could not build whole-word tokens for {bad}")


def sample_example(rng: random.Random, banned: set[str]):
    """One (scene, prompt) training pair. Prompt: full description (50 %), one attribute left
    open (25 %), two or more open (15 %), empty (10 %, for classifier-free guidance).
    Open attributes are sampled uniformly, except the trained bias: if the prompt names no
    colour and the shape is BIAS_SHAPE, colour = BIAS_COLOUR with prob BIAS_PROB, else uniform
    over the other known colours."""
    while True:
        o = {
            "shape": rng.choice(GEN_SHAPES),
            "colour": rng.choice(GEN_COLOURS),
            "size": rng.choice(GEN_SIZES),
            "position": rng.choice(GEN_POSITIONS),
        }
        u = rng.random()
        keys = ["shape", "colour", "size", "position"]
        if u < 0.5:
            open_ = []
        elif u < 0.75:
            open_ = [rng.choice(keys)]
        elif u < 0.9:
            open_ = rng.sample(keys, rng.choice([2, 3, 4]))
        else:
            open_ = None
        if open_ is not None and "colour" in open_ or open_ is None:
            if o["shape"] == BIAS_SHAPE:
                if rng.random() < BIAS_PROB:
                    o["colour"] = BIAS_COLOUR
                else:
                    o["colour"] = rng.choice([c for c in GEN_COLOURS if c != BIAS_COLOUR])
        if open_ is None:
            text = ""
        else:
            text = object_phrase({k: (None if k in open_ else v) for k, v in o.items()})
            if text in banned:
                continue
        return {"objects": [o], "background": "plain"}, text


def build_models(tok, levels: int = 3):
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
        block_out_channels=(16, 32, 64),
        layers_per_block=1,
        norm_num_groups=8,
        sample_size=IMAGE_SIZE,
    )
    te = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tok),
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=MAX_LEN,
            bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id,
            pad_token_id=tok.pad_token_id,
            projection_dim=64,
        )
    )
    if levels == 2:
        blocks = dict(
            block_out_channels=(32, 64),
            down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        )
    else:  # 8x8 -> 4x4 -> 2x2: the 2x2 level makes absolute position (quadrants) easy to learn
        blocks = dict(
            block_out_channels=(32, 64, 64),
            down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        )
    unet = UNet2DConditionModel(
        sample_size=IMAGE_SIZE // 4,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        cross_attention_dim=64,
        attention_head_dim=4,
        norm_num_groups=16,
        **blocks,
    )
    return vae, te, unet


def save_pipeline(out: Path, vae, te, unet, tok, sched_cfg, meta):
    from diffusers import DPMSolverMultistepScheduler, StableDiffusionPipeline

    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=te,
        tokenizer=tok,
        unet=unet,
        scheduler=DPMSolverMultistepScheduler(**sched_cfg),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(out, safe_serialization=True)
    # whole-word tokens (never trained) for every world word the generator never saw, so that OOD
    # prompts tokenize like id prompts (harness/world/tokenizer.py)
    extend_generator(out, [w for w in caption_words() if w not in generator_words()])
    (out / "training_log.json").write_text(json.dumps(meta, indent=2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-dir", default=str(ROOT / "models/embedded"))
    ap.add_argument("--n-train", type=int, default=30000)
    ap.add_argument("--vae-steps", type=int, default=1500)
    ap.add_argument("--steps", type=int, default=2000, help="UNet+text-encoder steps (long checkpoint)")
    ap.add_argument("--short-steps", type=int, default=500)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=4321)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--vae-from",
        default=None,
        help="reuse an AutoencoderKL saved by an earlier run of this script (skips stage 1 and replays "
        "its random draws; bit-identical to a full run only if that VAE came from the same data)",
    )
    ap.add_argument(
        "--prediction",
        default="v_prediction",
        choices=("epsilon", "v_prediction"),
        help="v-prediction keeps a strong loss on the image content at high noise, where the layout "
        "(position) is decided; with epsilon the tiny UNet ignores the position words",
    )
    ap.add_argument(
        "--init-from",
        default=None,
        help="continue training the UNet and text encoder of a saved pipeline (fine-tuning stage)",
    )
    ap.add_argument("--unet-levels", type=int, default=3, choices=(2, 3))
    ap.add_argument("--lr", type=float, default=2e-3, help="UNet + text encoder learning rate")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    t0 = time.time()
    tmp = Path(tempfile.mkdtemp())
    tok = build_tokenizer(tmp)
    # all evaluation prompt texts are excluded from training, except the id bias probes (complete
    # descriptions with the colour left open): there are only 10 such phrasings per shape, and the
    # trained bias can only be learnt from exactly those phrasings.
    probes = {p["text"] for p in build_bias_probes()}
    banned = eval_texts() - probes
    scenes, texts = zip(*[sample_example(rng, banned) for _ in range(args.n_train)], strict=False)
    X = np.stack([np.asarray(render(s, rng)[0]) for s in scenes])
    x = torch.from_numpy(X).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    ids = torch.tensor(tok(list(texts), padding="max_length", max_length=MAX_LEN, truncation=True).input_ids)
    assert not (set(texts) & banned)
    print(f"data {tuple(x.shape)} {len(set(texts))} distinct prompts, {time.time() - t0:.1f}s", flush=True)
    vae, te, unet = build_models(tok, args.unet_levels)
    g = torch.Generator().manual_seed(args.seed)

    # ---- stage 1: VAE
    if args.vae_from:
        from diffusers import AutoencoderKL

        vae = AutoencoderKL.from_pretrained(args.vae_from)
        for _ in range(args.vae_steps):  # replay stage-1 random draws
            torch.randint(0, len(x), (32,), generator=g)
            torch.randn((32, 4, IMAGE_SIZE // 4, IMAGE_SIZE // 4), generator=g)
    opt = torch.optim.AdamW(vae.parameters(), lr=2e-3, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / args.vae_steps))
    )
    vae.train()
    for step in range(0 if args.vae_from else args.vae_steps):
        xb = x[torch.randint(0, len(x), (32,), generator=g)]
        post = vae.encode(xb).latent_dist
        rec = vae.decode(post.sample(generator=g)).sample
        kl = post.kl().mean() / (8 * 8 * 4)
        loss = F.mse_loss(rec, xb) + 0.5 * F.l1_loss(rec, xb) + 1e-4 * kl
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 250 == 0 or step == args.vae_steps - 1:
            print(
                f"vae {step} loss {loss.item():.4f} kl {kl.item():.2f} t {time.time() - t0:.0f}s", flush=True
            )
    vae.eval()
    vae.requires_grad_(False)
    with torch.no_grad():
        lat = torch.cat([vae.encode(x[i : i + 512]).latent_dist.mean for i in range(0, len(x), 512)])
    sf = float(1.0 / lat.std())
    vae.register_to_config(scaling_factor=sf)
    lat = lat * sf
    t_vae = time.time() - t0
    print(f"latents {tuple(lat.shape)} scaling_factor {sf:.4f}; vae done {t_vae:.0f}s", flush=True)

    if args.init_from:
        from diffusers import UNet2DConditionModel
        from transformers import CLIPTextModel

        unet = UNet2DConditionModel.from_pretrained(args.init_from, subfolder="unet")
        te = CLIPTextModel.from_pretrained(args.init_from, subfolder="text_encoder")
    # ---- stage 2: UNet + text encoder (v- or epsilon prediction, SD scaled-linear betas)
    sched_cfg = dict(
        num_train_timesteps=1000,
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        prediction_type=args.prediction,
        algorithm_type="dpmsolver++",
        solver_order=2,
        timestep_spacing="trailing",
    )
    betas = torch.linspace(0.00085**0.5, 0.012**0.5, 1000) ** 2
    abar = torch.cumprod(1 - betas, 0)
    params = list(unet.parameters()) + list(te.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    warm = 200
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * s / args.steps)))
    )
    unet.train()
    te.train()
    base = {
        "init_from": args.init_from,
        "prediction": args.prediction,
        "vae_steps": args.vae_steps,
        "unet_levels": args.unet_levels,
        "lr": args.lr,
        "n_train": args.n_train,
        "batch": args.batch,
        "seed": args.seed,
        "threads": args.threads,
        "vae_seconds": round(t_vae, 1),
        "command": "python " + " ".join(sys.argv),
        "bias": {
            "shape": BIAS_SHAPE,
            "colour": BIAS_COLOUR,
            "prob": BIAS_PROB,
            "rule": "prompt names no colour and shape is circle -> red w.p. 0.8, else uniform over the "
            "other 4 known colours; any other shape with no colour -> uniform over the 5 known colours",
        },
    }
    out_dir = Path(args.out_dir)
    for step in range(args.steps):
        idx = torch.randint(0, len(lat), (args.batch,), generator=g)
        z0 = lat[idx]
        t = torch.randint(0, 1000, (args.batch,), generator=g)
        eps = torch.randn(z0.shape, generator=g)
        a = abar[t].view(-1, 1, 1, 1)
        zt = a.sqrt() * z0 + (1 - a).sqrt() * eps
        enc = te(ids[idx])[0]
        pred = unet(zt, t, encoder_hidden_states=enc).sample
        target = eps if args.prediction == "epsilon" else a.sqrt() * eps - (1 - a).sqrt() * z0
        loss = F.mse_loss(pred, target)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        if step % 250 == 0 or step == args.steps - 1:
            print(f"unet {step} loss {loss.item():.4f} t {time.time() - t0:.0f}s", flush=True)
        if step + 1 in (args.short_steps, args.steps):
            name = "generator-short" if step + 1 == args.short_steps else "generator-long"
            unet.eval()
            te.eval()
            meta = dict(base, unet_steps=step + 1, train_seconds=round(time.time() - t0, 1))
            save_pipeline(out_dir / name, vae, te, unet, tok, sched_cfg, meta)
            print(f"saved {name} at step {step + 1}, {time.time() - t0:.0f}s", flush=True)
            unet.train()
            te.train()


if __name__ == "__main__":
    main()
