"""The cyclic garbage collector's pace in a service process.

At Python's pace (the youngest generation collected every 700 new container objects, a full
collection after a hundred of those) reporting's pipeline spends a fifth of its CPU collecting:
replaying 10,000 records (`benchmarks/reporting_ingest.py --gc-threshold 0`, twice, alternately
with the pace below, on an otherwise idle machine) took 27.8 CPU-seconds, 6.2–6.6 of them in
19,161 collections, 79 full. Collecting the youngest generation every 10,000 objects: 0.9–1.0 s
in 475 collections, 4 full; 2.21–2.23 ms of CPU a record against 2.78, 264 records a second
against 227–230, and the same peak RSS (208 MB)."""
import gc


def pace(threshold: int) -> None:
    """Collect the youngest generation every `threshold` new container objects (the older
    generations' ratios kept). 0 leaves the interpreter's default."""
    if threshold > 0:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(threshold, older, oldest)
