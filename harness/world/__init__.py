"""The embedded world: renderer, vocabulary, captions and prompt sets with known ground truth.

Shipped models: models/embedded/generator-short, models/embedded/generator-long (diffusers
StableDiffusionPipeline), models/embedded/judge (transformers VisionEncoderDecoderModel).
"""

from .captions import caption, parse_caption
from .render import IMAGE_SIZE, random_scene, render

__all__ = ["IMAGE_SIZE", "caption", "parse_caption", "random_scene", "render"]
