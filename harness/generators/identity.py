"""What a run directory is tied to on the generator side; shared by the run and by baselines that
reuse the run's generator (so neither has to import the other)."""

from __future__ import annotations

from pathlib import Path

from harness.fingerprint import local_model_identity


def generator_identity(spec: str) -> str:
    """A model's spec plus, for local model folders, a content identity.

    Pre-made images are tied to their source path only: fixing a broken file must not orphan the run
    (each image's own sha256 is in its recipe).
    """
    from harness.generators import generator_class, split_spec

    kind, argument = split_spec(spec)
    if generator_class(kind).reads_existing_images:
        return f"{kind}:{Path(argument).resolve()}"
    local = local_model_identity(argument) if Path(argument).exists() else None
    return f"{kind}:{Path(argument).name}@{local}" if local else f"{kind}:{argument}"
