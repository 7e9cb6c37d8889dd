"""Evidence of reliability: a fault-injection suite over a whole local stack of its own.

`python -m chaos full|short` (and `make chaos`) starts Kafka, SecantusDB and two instances of each
service through `infra/local/stack.sh`, on ports and a data folder of its own (never the default
stack's), streams a simulated district year into it, injects faults while it streams, and counts
what happened:

- `stack`    the suite's own stack: start, stop, SIGKILL one instance, stop/start Kafka or the
             database alone, and a watchdog that notices a process exiting by itself (a crash);
- `scenario` a district year drawn once by the simulator, renamed per run (every id gets a
             run's tag), so many runs share one stack and their ids map back to one canonical set;
- `stream`   publishing a run phase by phase as a district system would (retrying sends while
             the broker is away), and the faults at their moments;
- `observe`  one reader of every events and dead-letter topic, the platform at rest, consumer
             groups' progress (time to recover), reports and alerts;
- `compare`  each run against the simulator's expectations and against the clean run;
- `fuzz`     bad input on every commands topic, and the account of every message's answer;
- `gateway`  an SMS/WeChat HTTP gateway and an SMTP server that are slow, fail or hang;
- `suite`    the runs, and the table.
"""
