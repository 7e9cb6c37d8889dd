"""The cyclic garbage collector's pace in a service process.

With Python's defaults (the youngest generation collected every 700 new container objects, and a
full collection after some hundred of those) a full collection walks every live object: replaying
20,000 records through reporting's pipeline (`benchmarks/reporting_ingest.py`, collections timed by
a `gc.callbacks` hook) spent 13.3 of its 54.9 CPU-seconds in 140 full and many young collections.
Almost everything a batch allocates is freed by reference counting as the batch ends, so
collections find little. At 10,000: 2.8 s in collections, 7 of them full, 2.30 ms of CPU a record
against 2.74, the peak RSS 208 MB against 203."""
import gc


def pace(threshold: int) -> None:
    """Collect the youngest generation every `threshold` new container objects (the older
    generations' ratios kept). 0 leaves the interpreter's default."""
    if threshold > 0:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(threshold, older, oldest)
