"""Comparisons that hold up: paired tests between runs, rank intervals, and judge disagreement.

Two runs of the same task score the same prompts (with the same seeds), so their per-prompt
uncertainties are paired; a paired test sees differences that two separate intervals hide.
"""
