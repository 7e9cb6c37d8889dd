"""glibc's allocator tuned at start-up (shared/infra/malloc.py): what is set, and what is left alone."""
import ctypes

from shared.infra import malloc


class FakeLibc:
    def __init__(self, refuse: int | None = None):
        self.calls: list[tuple[int, int]] = []
        self.refuse = refuse

    def mallopt(self, param: ctypes.c_int, value: ctypes.c_int) -> int:
        self.calls.append((param.value, value.value))
        return 0 if param.value == self.refuse else 1


def test_sets_a_fixed_mmap_and_trim_threshold_and_two_arenas():
    libc = FakeLibc()
    assert malloc.tune(libc, environ={}) == {"MALLOC_MMAP_THRESHOLD_": 131072, "MALLOC_TRIM_THRESHOLD_": 131072,
                                             "MALLOC_ARENA_MAX": 2}
    assert libc.calls == [(malloc.M_MMAP_THRESHOLD, 131072), (malloc.M_TRIM_THRESHOLD, 131072),
                          (malloc.M_ARENA_MAX, 2)]


def test_an_operators_variable_wins():
    libc = FakeLibc()
    done = malloc.tune(libc, environ={"MALLOC_ARENA_MAX": "4"})
    assert "MALLOC_ARENA_MAX" not in done
    assert (malloc.M_ARENA_MAX, 2) not in libc.calls
    assert len(libc.calls) == 2


def test_a_refused_parameter_is_not_reported_as_set():
    libc = FakeLibc(refuse=malloc.M_TRIM_THRESHOLD)
    assert "MALLOC_TRIM_THRESHOLD_" not in malloc.tune(libc, environ={})


def test_this_machines_glibc_accepts_them():
    # The real call, on the platform's own C library (glibc on every machine we deploy to).
    assert malloc._glibc() is not None
    assert set(malloc.tune(environ={})) == {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX"}
