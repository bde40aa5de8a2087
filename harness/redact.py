"""The one secret scrubber: API keys never reach a message, a log line or a file, in any escaped form.

Libraries quote what they reject: httpx puts a header value into its error as `b'Bearer sk-...\\n'`,
JSON writers escape it as `sk-...\\n`, URLs percent-encode it. Replacing only the raw key misses all
of these, so every form a key can take in text is replaced. Keys are registered once (where they are
read from the environment) and scrubbed at every sink: failure records, results and printed errors.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterable

MASK = "***"
_registered: set[str] = set()
_lock = threading.Lock()


class SecretRefused(ValueError):
    """A key that cannot be sent safely (control characters, whitespace, non-ASCII)."""


def check_key(key: str, where: str) -> str:
    """Refuse keys that HTTP libraries reject (and then quote in their error): no control characters,
    no whitespace, printable ASCII only. The message names where the key came from, never the key."""
    bad = [c for c in key if not (c.isascii() and c.isprintable()) or c.isspace()]
    if bad:
        names = sorted({repr(c) for c in bad})[:3]
        raise SecretRefused(
            f"{where}: the API key holds {len(bad)} character(s) an HTTP header cannot carry "
            f"({', '.join(names)}; a trailing newline from `echo` or a file?); strip it and retry"
        )
    return key


def register(key: str | None) -> None:
    """Remember a key so that `scrub` removes it from any text from now on."""
    if key:
        with _lock:
            _registered.add(key)


def forms(secret: str) -> set[str]:
    """Every way `secret` (or its stripped core) can appear in text this program writes."""
    out: set[str] = set()
    for value in {secret, secret.strip()}:
        if len(value) < 4:  # too short to be a key; replacing it would mangle ordinary text
            continue
        out.add(value)
        out.add(repr(value)[1:-1])  # Python str repr (\n, \r, \t, \x00 escaped)
        out.add(repr(value.encode("utf-8", "backslashreplace"))[2:-1])  # bytes repr (httpx errors)
        out.add(json.dumps(value)[1:-1])  # JSON, ensure_ascii
        out.add(json.dumps(value, ensure_ascii=False)[1:-1])
        out.add(value.encode("unicode_escape").decode("ascii"))  # harness.errors.printable
        out.add(urllib.parse.quote(value, safe=""))
        out.add(urllib.parse.quote_plus(value, safe=""))
    return {f for f in out if f}


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with every form of every registered secret (and of `secrets`) replaced by ***."""
    with _lock:
        keys = set(_registered)
    keys.update(s for s in secrets if s)
    if not keys:
        return text
    for value in sorted({f for key in keys for f in forms(key)}, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text
