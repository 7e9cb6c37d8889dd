"""The audit trail: what one command changed in a record, as `before` and `after`.

Only what changed is kept: for a nested object (the profile) the keys that changed, for a list
the items removed (`before`) and added (`after`), so the trail stays small as a record grows.
"""
from typing import Any


def diff(before: dict[str, Any] | None, after: dict[str, Any]) -> tuple[dict, dict]:
    before = before or {}
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            changed = [k for k in set(a) | set(b) if a.get(k) != b.get(k)]
            old[key] = {k: a.get(k) for k in sorted(changed)}
            new[key] = {k: b.get(k) for k in sorted(changed)}
        elif isinstance(a, list) and isinstance(b, list):
            old[key] = [x for x in a if x not in b]
            new[key] = [x for x in b if x not in a]
        else:
            old[key], new[key] = a, b
    return old, new
