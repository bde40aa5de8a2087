"""punc-harness: per-prompt uncertainty of text-to-image models, measured in text space by VLM judges."""

from harness._version import __version__

__all__ = ["__version__"]
