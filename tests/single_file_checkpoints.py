"""Write a tiny SD1.5-style diffusers pipeline as ONE original (LDM/CompVis layout) `.safetensors` file.

diffusers ships only the forward conversion (original -> diffusers, `diffusers/loaders/single_file_utils.py`);
the reverse lives in the diffusers repo's `scripts/convert_diffusers_to_original_stable_diffusion.py`,
which hard-codes SD1.5's 4 blocks x 2 layers. This is the same key mapping written for any block count and
`layers_per_block` (our tiny UNet has 2 blocks x 1 layer), and for diffusers' current attention names in the
VAE (`to_q`, `to_out.0`). A round trip that reproduces the pipeline's images pixel for pixel checks it.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

UNET_TOP = {
    "time_embedding.linear_1.": "time_embed.0.",
    "time_embedding.linear_2.": "time_embed.2.",
    "conv_in.": "input_blocks.0.0.",
    "conv_norm_out.": "out.0.",
    "conv_out.": "out.2.",
}
RESNET_PARTS = {
    "norm1": "in_layers.0",
    "conv1": "in_layers.2",
    "norm2": "out_layers.0",
    "conv2": "out_layers.3",
    "time_emb_proj": "emb_layers.1",
    "conv_shortcut": "skip_connection",
}
VAE_RESNET_PARTS = {"conv_shortcut": "nin_shortcut"}
VAE_ATTENTION_PARTS = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


def _resnet(rest: str, parts: dict[str, str]) -> str:
    head, _, tail = rest.partition(".")
    return f"{parts.get(head, head)}.{tail}"


def unet_key(key: str, layers_per_block: int, up_with_attention: set[int]) -> str:
    """One diffusers UNet2DConditionModel key as LDM's `model.diffusion_model.*` key."""
    per = layers_per_block + 1
    for diffusers_prefix, ldm_prefix in UNET_TOP.items():
        if key.startswith(diffusers_prefix):
            return ldm_prefix + key[len(diffusers_prefix) :]
    if m := re.match(r"down_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.*)", key):
        i, kind, j, rest = int(m[1]), m[2], int(m[3]), m[4]
        layer = f"input_blocks.{per * i + j + 1}"
        return f"{layer}.0.{_resnet(rest, RESNET_PARTS)}" if kind == "resnets" else f"{layer}.1.{rest}"
    if m := re.match(r"down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.*)", key):
        return f"input_blocks.{per * (int(m[1]) + 1)}.0.op.{m[2]}"
    if m := re.match(r"mid_block\.resnets\.(\d+)\.(.*)", key):
        return f"middle_block.{2 * int(m[1])}.{_resnet(m[2], RESNET_PARTS)}"
    if key.startswith("mid_block.attentions.0."):
        return "middle_block.1." + key[len("mid_block.attentions.0.") :]
    if m := re.match(r"up_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.*)", key):
        i, kind, j, rest = int(m[1]), m[2], int(m[3]), m[4]
        layer = f"output_blocks.{per * i + j}"
        return f"{layer}.0.{_resnet(rest, RESNET_PARTS)}" if kind == "resnets" else f"{layer}.1.{rest}"
    if m := re.match(r"up_blocks\.(\d+)\.upsamplers\.0\.(.*)", key):
        i = int(m[1])
        return f"output_blocks.{per * i + layers_per_block}.{2 if i in up_with_attention else 1}.{m[2]}"
    raise KeyError(f"no LDM name for UNet key {key}")


def vae_key(key: str, blocks: int) -> str:
    """One diffusers AutoencoderKL key as LDM's `first_stage_model.*` key (up blocks are numbered in reverse)."""
    if m := re.match(r"(encoder|decoder)\.(down|up)_blocks\.(\d+)\.resnets\.(\d+)\.(.*)", key):
        side, way, i, j, rest = m[1], m[2], int(m[3]), int(m[4]), m[5]
        index = i if way == "down" else blocks - 1 - i
        return f"{side}.{way}.{index}.block.{j}.{_resnet(rest, VAE_RESNET_PARTS)}"
    if m := re.match(r"encoder\.down_blocks\.(\d+)\.downsamplers\.0\.(.*)", key):
        return f"encoder.down.{m[1]}.downsample.{m[2]}"
    if m := re.match(r"decoder\.up_blocks\.(\d+)\.upsamplers\.0\.(.*)", key):
        return f"decoder.up.{blocks - 1 - int(m[1])}.upsample.{m[2]}"
    if m := re.match(r"(encoder|decoder)\.mid_block\.resnets\.(\d+)\.(.*)", key):
        return f"{m[1]}.mid.block_{int(m[2]) + 1}.{_resnet(m[3], VAE_RESNET_PARTS)}"
    if m := re.match(r"(encoder|decoder)\.mid_block\.attentions\.0\.(.*)\.(weight|bias)$", key):
        return f"{m[1]}.mid.attn_1.{VAE_ATTENTION_PARTS[m[2]]}.{m[3]}"
    return key.replace("conv_norm_out.", "norm_out.")


def write_original_sd15_checkpoint(pipeline_dir: Path, out: Path) -> Path:
    """Save the UNet, VAE and CLIP text encoder of a diffusers SD1.5-style folder as one LDM-layout file."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPTextModel

    unet = UNet2DConditionModel.from_pretrained(pipeline_dir, subfolder="unet")
    vae = AutoencoderKL.from_pretrained(pipeline_dir, subfolder="vae")
    text_encoder = CLIPTextModel.from_pretrained(pipeline_dir, subfolder="text_encoder")
    up_with_attention = {i for i, name in enumerate(unet.config.up_block_types) if "CrossAttn" in name}
    state: dict[str, torch.Tensor] = {}
    for key, value in unet.state_dict().items():
        state["model.diffusion_model." + unet_key(key, unet.config.layers_per_block, up_with_attention)] = (
            value
        )
    blocks = len(vae.config.block_out_channels)
    for key, value in vae.state_dict().items():
        name = vae_key(key, blocks)
        if ".mid.attn_1." in name and name.endswith("weight") and value.ndim == 2:
            value = value.reshape(*value.shape, 1, 1)  # LDM's VAE attention is 1x1 convolutions
        state["first_stage_model." + name] = value
    for key, value in text_encoder.state_dict().items():
        # original files keep transformers 4's `text_model.` level, which CLIPTextModel dropped in 5.6
        state["cond_stage_model.transformer.text_model." + key.removeprefix("text_model.")] = value
    save_file({k: v.contiguous() for k, v in state.items()}, out)
    return out


def strip_weights(pipeline_dir: Path) -> Path:
    """Leave only configs and tokenizer files: a config folder proves the weights come from the single file."""
    for weights in [*pipeline_dir.rglob("*.safetensors"), *pipeline_dir.rglob("*.bin")]:
        weights.unlink()
    return pipeline_dir
