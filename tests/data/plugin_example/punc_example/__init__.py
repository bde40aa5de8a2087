"""Worked examples of the four punc plug-in kinds, one file each (docs/extending.md)."""
