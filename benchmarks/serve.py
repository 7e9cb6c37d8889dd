"""Run one service under uvicorn as `make up` does, keeping the pipeline's `batch done` lines.

    python benchmarks/serve.py SERVICE PORT

For the benchmarks: with LOG_LEVEL=WARNING a service writes no per-message lines, and with this
wrapper it still writes one line per batch (records, outcomes, milliseconds of each phase),
which `end_to_end.py` sums up, one per unit of background work (the delivery worker's), one per
pass of the timer over the held commands that handled some, and one per batch run again because another writer got there first.
Nothing else differs from `uvicorn --factory`.
"""
import logging
import sys

import uvicorn


class _BatchesOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.msg in KEPT


KEPT = ("batch done", "unit done", "held commands retried", "write conflict with another writer: running the batch again")


def main() -> None:
    name, port = sys.argv[1], int(sys.argv[2])
    pipeline_log = logging.getLogger("shared.messaging.pipeline")
    pipeline_log.setLevel(logging.INFO)  # the root (LOG_LEVEL) may stay at WARNING
    pipeline_log.addFilter(_BatchesOnly())
    uvicorn.run(f"services.{name}.entrypoints.app:create_app", factory=True, host="127.0.0.1", port=port,
                access_log=False)


if __name__ == "__main__":
    main()
