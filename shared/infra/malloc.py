"""glibc's allocator told to hand freed memory back to the system (`mallopt`, at start-up).

A batch holds many blocks of a few KB to a few MB that Python asks of glibc rather than of its
own small-object allocator: documents as read (BSON), their decoded facts' containers, the bulk
writes' commands. By default glibc raises its mmap threshold each time such a block is freed (up
to 32 MB), so later ones come from the heap, and it returns heap memory to the system only from
the top; the resident memory of a process stays near that of its largest batch, and creeps up.
A fixed threshold (blocks of 128 KB and more mapped apart, unmapped when freed), a fixed trim
threshold (the heap's free top returned above 128 KB) and two arenas (the process is one event
loop; a few helper threads need not each get their own arena) keep it near what the batch
holds. Reporting alone on a copy of the ninth 100,000-member run's data: docs/benchmarks.md.

An operator's own `MALLOC_*` environment variable for a parameter wins: glibc read it at start,
and that parameter is left alone. Elsewhere than glibc (no `mallopt`) nothing is done.
"""
import ctypes
import ctypes.util
import logging
import os
from typing import Any

log = logging.getLogger(__name__)

# mallopt's parameters (glibc's malloc.h) and the values we set, with the variable that overrides each.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
SETTINGS = (
    ("MALLOC_MMAP_THRESHOLD_", M_MMAP_THRESHOLD, 128 * 1024),
    ("MALLOC_TRIM_THRESHOLD_", M_TRIM_THRESHOLD, 128 * 1024),
    ("MALLOC_ARENA_MAX", M_ARENA_MAX, 2),
)


def _glibc() -> Any | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") else None


def tune(libc: Any | None = None, environ: dict[str, str] | None = None) -> dict[str, int]:
    """Set what `SETTINGS` names, where the environment does not; returns what was set, by name."""
    libc = _glibc() if libc is None else libc
    environ = os.environ if environ is None else environ
    if libc is None:
        return {}
    done = {}
    for variable, param, value in SETTINGS:
        if variable in environ:
            continue
        if libc.mallopt(ctypes.c_int(param), ctypes.c_int(value)) == 1:  # 1: accepted
            done[variable] = value
        else:
            log.warning("mallopt refused a parameter", extra={"parameter": variable, "value": value})
    return done
