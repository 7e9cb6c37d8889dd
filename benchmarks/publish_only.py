"""How fast the simulator itself can publish: a file's commands straight to Kafka, no waiting.

    python benchmarks/publish_only.py FILE

Sends to a throw-away topic prefix that no service reads, so it measures the producer (JSON
encoding, batching, broker acknowledgements) and sets the ceiling for `end_to_end.py`.
"""
import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from shared.infra.topics import ensure_topics  # noqa: E402
from shared.infra.kafka_acls import secure_prefix  # noqa: E402
from shared.kafka_auth import Senders  # noqa: E402
from shared.settings import Settings  # noqa: E402
from simulator.publisher import IN_FLIGHT  # noqa: E402
from simulator.sources import FromFile  # noqa: E402


async def main(path: str) -> None:
    prefix = f"pubbench{uuid.uuid4().hex[:6]}."
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    # As the district's systems, signed (shared.kafka_auth.Senders), on a prefix set up for it.
    producer = Senders(bootstrap, prefix, fallback="district-org-department",
                       acks="all", enable_idempotence=True, linger_ms=20, max_batch_size=512 * 1024)
    if producer.secrets is not None:
        await secure_prefix(bootstrap, producer.secrets, prefix)
    else:
        await ensure_topics(Settings(kafka_bootstrap_servers=bootstrap, topic_prefix=prefix))
    n, started = 0, time.monotonic()
    try:
        pending = []
        for phase in FromFile(path).phases():
            for c in phase.commands:
                value = json.dumps(c.envelope, ensure_ascii=False).encode()
                pending.append(await producer.send(prefix + c.topic, value, key=c.key.encode()))
                if len(pending) >= IN_FLIGHT:
                    await asyncio.gather(*pending)
                    pending.clear()
                n += 1
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    seconds = time.monotonic() - started
    print(json.dumps({"file": path, "commands": n, "seconds": round(seconds, 2),
                      "commands_per_second": round(n / seconds, 1)}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
