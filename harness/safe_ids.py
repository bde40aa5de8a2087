"""Ids from user files become file names; only a strict alphabet is accepted, so none can escape a folder."""

from __future__ import annotations

import re

SAFE_ID_PATTERN = r"\A[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}\Z"
_SAFE_ID = re.compile(SAFE_ID_PATTERN)
SAFE_ID_EXPECTED = (
    "an id of 1-128 characters from [A-Za-z0-9_.-], starting with a letter or digit, without '..'"
)


def is_safe_id(value: object) -> bool:
    return isinstance(value, str) and bool(_SAFE_ID.fullmatch(value)) and ".." not in value


def check_safe_id(value: object) -> str:
    if not is_safe_id(value):
        raise ValueError(SAFE_ID_EXPECTED)
    return value  # type: ignore[return-value]
