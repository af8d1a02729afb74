"""A small on-disk memo in .local/cache for the slow, pure parts of lint (parliament's import and analysis
cost ~0.8 s; its answers depend only on the policy text and parliament's version)."""

from __future__ import annotations

import hashlib
import json

from .. import LOCAL_DIR

_memos: dict[str, dict] = {}


def _path(namespace: str):
    return LOCAL_DIR / "cache" / f"checks-{namespace}.json"


def memo(namespace: str, key, compute):
    """compute() once per key (any JSON-able value), remembered across runs."""
    table = _memos.get(namespace)
    if table is None:
        try:
            table = json.loads(_path(namespace).read_text())
        except (OSError, ValueError):
            table = {}
        _memos[namespace] = table
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]
    if digest not in table:
        table[digest] = compute()
        try:
            _path(namespace).parent.mkdir(parents=True, exist_ok=True)
            _path(namespace).write_text(json.dumps(table))
        except OSError:
            pass  # read-only checkout: correct, only slower
    return table[digest]
