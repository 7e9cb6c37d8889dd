"""Where the tests get Kafka and MongoDB, in this order:
1. from the environment (KAFKA_BOOTSTRAP_SERVERS and MONGODB_URL), when both are set;
2. from testcontainers, when a Docker engine answers (MongoDB 8 as a single-node replica set);
3. otherwise by starting the local stack with the same script as `make up` (SecantusDB, which
   presents itself as a single-node replica set).
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


MONGO_REPLICA_SET = "rs0"


def _initiate_replica_set(url: str, timeout: float = 60.0) -> None:
    """Turn a fresh `mongod --replSet` into a single-node replica set and wait for it to be a
    writable primary: transactions need a replica set. Idempotent."""
    import time

    from pymongo import MongoClient
    from pymongo.errors import OperationFailure, PyMongoError

    deadline = time.monotonic() + timeout
    client = MongoClient(url, serverSelectionTimeoutMS=2000)
    try:
        initiated = False
        while True:
            try:
                if not initiated:
                    try:
                        # The member is named as mongod sees itself; clients connect with
                        # directConnection=true, so they never need to resolve that name.
                        client.admin.command("replSetInitiate", {
                            "_id": MONGO_REPLICA_SET,
                            "members": [{"_id": 0, "host": "localhost:27017"}],
                        })
                    except OperationFailure as e:
                        if e.code != 23:  # AlreadyInitialized
                            raise
                    initiated = True
                if client.admin.command("hello").get("isWritablePrimary"):
                    return
            except PyMongoError:
                if time.monotonic() > deadline:
                    raise
            if time.monotonic() > deadline:
                raise TimeoutError(f"MongoDB did not become a replica-set primary in {timeout:.0f}s")
            time.sleep(0.25)
    finally:
        client.close()


def _from_testcontainers(stack: list) -> Infra:
    from testcontainers.core.container import DockerContainer
    from testcontainers.kafka import KafkaContainer

    kafka = KafkaContainer("apache/kafka:4.1.1").with_kraft()
    # MongoDB 8 as a single-node replica set, without authentication (a replica set with
    # authentication needs a key file, which testcontainers' MongoDbContainer does not set up).
    mongo = (DockerContainer("mongo:8")
             .with_command(["mongod", "--replSet", MONGO_REPLICA_SET, "--bind_ip_all"])
             .with_exposed_ports(27017))
    kafka.start()
    stack.append(kafka)
    mongo.start()
    stack.append(mongo)
    url = (f"mongodb://{mongo.get_container_host_ip()}:{mongo.get_exposed_port(27017)}/"
           "?directConnection=true")
    _initiate_replica_set(url)
    return Infra(kafka.get_bootstrap_server(), url, "testcontainers")


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
