"""Where models run and in which dtype, chosen one way for generators, judges, scorers and baselines.

torch is imported only when a choice needs it, so importing this module stays cheap.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any


def pick_device(requested: str | None = None, *, mps: bool = False) -> str:
    """The requested device, else cuda when present, else Apple's mps (only where `mps`: diffusers
    pipelines run there; judges and scorers were never checked on it), else cpu."""
    if requested:
        return requested
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if mps and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(device: str, requested: str | None = None, *, half_on_mps: bool = False) -> Any:
    """The requested dtype (float32, float16, bfloat16), else for `auto`: float32 on CPU (half is slow
    or unsupported there), bfloat16 on GPUs that support it, else float16; float16 on mps where asked."""
    import torch

    if requested and requested != "auto":
        return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[requested]
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if half_on_mps and device == "mps":
        return torch.float16
    return torch.float32


def version_of(distribution: str) -> str:
    """Installed version of a distribution, read from metadata (imports nothing); 'absent' if none."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


def versions(*names: str) -> str:
    """`name=version` of each distribution, joined by ':' (the tail of a signature)."""
    return ":".join(f"{n}={version_of(n)}" for n in names)
