"""Where the tests get Kafka and MongoDB, in this order:
1. from the environment (KAFKA_BOOTSTRAP_SERVERS and MONGODB_URL), when both are set;
2. from testcontainers, when a Docker engine answers;
3. otherwise by starting the local stack with the same script as `make up`.
"""
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Infra:
    kafka: str
    mongo: str
    how: str


def _docker_answers() -> bool:
    try:
        import docker  # testcontainers depends on it

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


def _from_testcontainers(stack: list) -> Infra:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.mongodb import MongoDbContainer

    kafka = KafkaContainer("apache/kafka:4.1.1").with_kraft()
    mongo = MongoDbContainer("mongo:8")
    kafka.start()
    stack.append(kafka)
    mongo.start()
    stack.append(mongo)
    return Infra(kafka.get_bootstrap_server(), mongo.get_connection_url(), "testcontainers")


def _from_local_stack() -> Infra:
    subprocess.run([str(ROOT / "infra/local/stack.sh"), "infra"], check=True)
    return Infra("127.0.0.1:" + os.environ.get("KAFKA_PORT", "9092"),
                 "mongodb://127.0.0.1:" + os.environ.get("MONGO_PORT", "27017") + "/", "local")


def provide(stack: list) -> Infra:
    kafka, mongo = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("MONGODB_URL")
    if kafka and mongo:
        return Infra(kafka, mongo, "environment")
    if _docker_answers():
        return _from_testcontainers(stack)
    return _from_local_stack()
