"""Readiness probes used by the stack script: `python -m shared.infra.probe kafka|mongo`.

Exit 0 when the server answers, 1 otherwise. Polling a real client beats sleeping.
"""
import asyncio
import sys

from shared.settings import get_settings


async def kafka_ready(bootstrap: str, timeout: float = 3.0, **auth) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000), **auth)
    try:
        await asyncio.wait_for(admin.start(), timeout)
        await asyncio.wait_for(admin.list_topics(), timeout)
        return True
    except Exception:
        return False
    finally:
        try:
            await admin.close()
        except Exception:
            pass


async def mongo_ready(url: str, timeout: float = 3.0) -> bool:
    from pymongo import AsyncMongoClient

    client = AsyncMongoClient(url, serverSelectionTimeoutMS=int(timeout * 1000))
    try:
        await client.admin.command("ping")
        return True
    except Exception:
        return False
    finally:
        await client.close()


async def _main(what: str) -> int:
    s = get_settings()
    from shared.kafka_auth import client_kwargs

    ok = await (kafka_ready(s.kafka_bootstrap_servers, **client_kwargs(s, "admin")) if what == "kafka"
                else mongo_ready(s.mongodb_url))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(_main(sys.argv[1])))
