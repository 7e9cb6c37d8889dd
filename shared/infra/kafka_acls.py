"""Kafka's principals, their credentials and their ACLs, in one table (docs/security.md).

    python -m shared.infra.kafka_acls secrets --dir D --bootstrap B   credentials files (idempotent)
    python -m shared.infra.kafka_acls apply --dir D --bootstrap B [--prefix P]
                                       SCRAM credentials of every principal and the ACLs of prefix P
    python -m shared.infra.kafka_acls admin-password --dir D
    python -m shared.infra.kafka_acls admin-scram --dir D --bootstrap B   admin's own, through a
                                       listener without authentication (a store secured later)

The broker runs KRaft's StandardAuthorizer with `allow.everyone.if.no.acl.found=false`: what is
not granted here is refused. `admin` is the only super user on the clients' listener; it sets the
stack up (topics, credentials, ACLs) and nothing else uses it. The ACLs are LITERAL on the topic
names of one deployment (its topic prefix), PREFIXED on consumer groups; a test run or a benchmark
with a prefix of its own applies them for that prefix (`apply --prefix`).

aiokafka's admin client has no ACL nor SCRAM call: the two requests are written here with its
protocol types (CreateAcls v3 and AlterUserScramCredentials v0, both flexible versions).
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import secrets as _secrets
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import CompactArray, CompactBytes, CompactString, Int8, Int16, Int32, Schema, TaggedFields

from shared.kafka_auth import Credentials, load_credentials
from shared.messaging.kafka import consumer_group
from shared.topics import (
    ACTIVITIES_COMMANDS, ACTIVITIES_EVENTS, COMMAND_TOPICS, EVENT_TOPICS, MEMBERS_COMMANDS, MEMBERS_EVENTS,
    NOTIFICATIONS_COMMANDS, NOTIFICATIONS_EVENTS, REPORTING_EVENTS, all_topics, dlq,
)

ADMIN = "admin"
OBSERVER = "observer"  # tests, benchmarks, chaos and the simulator read every topic as this one
SERVICES = ("members", "activities", "notifications", "reporting")

# What each service reads, and the commands topic its HTTP ingress (POST /api/v1/commands) writes.
INPUTS = {
    "members": [MEMBERS_COMMANDS, ACTIVITIES_EVENTS],  # visits and requests reach the ledger
    "activities": [ACTIVITIES_COMMANDS, MEMBERS_EVENTS],
    "notifications": [NOTIFICATIONS_COMMANDS, MEMBERS_EVENTS, ACTIVITIES_EVENTS, REPORTING_EVENTS],
    "reporting": [MEMBERS_EVENTS, ACTIVITIES_EVENTS, NOTIFICATIONS_EVENTS],
}
INGRESS = {"members": MEMBERS_COMMANDS, "activities": ACTIVITIES_COMMANDS, "notifications": NOTIFICATIONS_COMMANDS}
OWN_EVENTS = {"members": MEMBERS_EVENTS, "activities": ACTIVITIES_EVENTS, "notifications": NOTIFICATIONS_EVENTS,
              "reporting": REPORTING_EVENTS}

# The district's systems (a principal each, named by the `source` they are registered for) and the
# commands topics each is granted. The first six are those the simulator plays (simulator/year.py);
# the last two are the test suite's and the fault-injection suite's own senders.
DISTRICT_SYSTEMS: dict[str, tuple[str, ...]] = {
    "district-org-department": (MEMBERS_COMMANDS, NOTIFICATIONS_COMMANDS),
    "community-registry": (MEMBERS_COMMANDS, ACTIVITIES_COMMANDS),
    "dues-collection": (MEMBERS_COMMANDS,),
    "attendance-devices": (ACTIVITIES_COMMANDS,),
    "specialist-app": (ACTIVITIES_COMMANDS, NOTIFICATIONS_COMMANDS),
    "x-juminli": (NOTIFICATIONS_COMMANDS,),
    "branch-treasurer": (MEMBERS_COMMANDS,),  # a branch's funds (issue 13)
    "xuexi-qiangguo": (MEMBERS_COMMANDS,),  # 学习强国: accounts and use (issue 13)
    "red-x-platform": (MEMBERS_COMMANDS,),  # 红色X: accounts and use (issue 13)
    "test-registry": COMMAND_TOPICS,
    "chaos-fuzz": COMMAND_TOPICS,
}


def service_principal(service: str) -> str:
    return f"sunsetred-{service}"


def principals() -> list[str]:
    return [ADMIN, OBSERVER, *(service_principal(s) for s in SERVICES), *DISTRICT_SYSTEMS]


# ---- the ACL table --------------------------------------------------------------------------------

TOPIC, GROUP = 2, 3
LITERAL, PREFIXED = 3, 4
READ, WRITE, DESCRIBE = 3, 4, 8
ALLOW = 3
_RESOURCES, _PATTERNS = {TOPIC: "topic", GROUP: "group"}, {LITERAL: "literal", PREFIXED: "prefixed"}
_OPERATIONS = {READ: "READ", WRITE: "WRITE", DESCRIBE: "DESCRIBE"}


@dataclass(frozen=True)
class Acl:
    principal: str
    resource: int  # TOPIC or GROUP
    name: str
    pattern: int  # LITERAL or PREFIXED
    operation: int

    def __str__(self) -> str:
        return (f"User:{self.principal} {_OPERATIONS[self.operation]} {_RESOURCES[self.resource]} "
                f"{self.name!r} ({_PATTERNS[self.pattern]})")


def plan(prefix: str = "") -> list[Acl]:
    """Every ACL of a deployment whose topics and groups carry `prefix`. READ and WRITE imply DESCRIBE."""
    t = lambda name: prefix + name  # noqa: E731
    acls: list[Acl] = []

    def topic(who: str, op: int, *names: str) -> None:
        acls.extend(Acl(who, TOPIC, t(n), LITERAL, op) for n in names)

    def groups(who: str, start: str, op: int = READ) -> None:
        acls.append(Acl(who, GROUP, t(start), PREFIXED, op))

    for s in SERVICES:
        who = service_principal(s)
        topic(who, READ, *INPUTS[s])
        topic(who, WRITE, OWN_EVENTS[s], *(dlq(i) for i in INPUTS[s]), *([INGRESS[s]] if s in INGRESS else []))
        # Its own dead letters, for its operators' GET /api/v1/dead-letters (metadata only): READ on
        # a topic without a group, and DESCRIBE to find its partitions (READ implies it; said anyway).
        topic(who, READ, *(dlq(i) for i in INPUTS[s]))
        topic(who, DESCRIBE, *(dlq(i) for i in INPUTS[s]))
        groups(who, f"{who}-")
    # Notifications' delivery worker asks how far members has handled its commands (the causal
    # fence, shared/messaging/causal_fence.py): the topic's end offsets and that group's commits.
    notifications = service_principal("notifications")
    topic(notifications, DESCRIBE, MEMBERS_COMMANDS)
    groups(notifications, consumer_group("members", "commands"), DESCRIBE)
    # Reporting's alert announcements ask the same of members and activities (the facts alerts weigh).
    reporting = service_principal("reporting")
    topic(reporting, DESCRIBE, MEMBERS_COMMANDS, ACTIVITIES_COMMANDS)
    groups(reporting, consumer_group("members", "commands"), DESCRIBE)
    groups(reporting, consumer_group("activities", "commands"), DESCRIBE)
    for system, granted in DISTRICT_SYSTEMS.items():
        topic(system, WRITE, *granted)
        topic(system, READ, *EVENT_TOPICS)  # the answers: CommandRejected and the events of acceptance
        groups(system, f"{system}-")
    topic(OBSERVER, READ, *all_topics())
    groups(OBSERVER, f"{OBSERVER}-")
    # Lag and offsets of every group of the deployment (chaos, benchmarks): DESCRIBE only.
    acls.append(Acl(OBSERVER, GROUP, prefix, PREFIXED, DESCRIBE) if prefix else Acl(OBSERVER, GROUP, "*", LITERAL, DESCRIBE))
    return acls


# ---- credentials files --------------------------------------------------------------------------

def write_secrets(directory: str | Path, bootstrap: str) -> dict[str, Credentials]:
    """A properties file per principal (a new password only for a new principal; the bootstrap
    address is refreshed) and `sources.json`, the registry of the signing keys: the district
    systems' and each service's own (its HTTP ingress signs with it)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    creds: dict[str, Credentials] = {}
    for p in principals():
        path = d / f"{p}.properties"
        old = load_credentials(path) if path.is_file() else None
        signs = p in DISTRICT_SYSTEMS or p.startswith("sunsetred-")
        key = (old.signing_key if old and old.signing_key else _secrets.token_bytes(32)) if signs else None
        c = Credentials(principal=p, password=old.password if old else _secrets.token_urlsafe(24), bootstrap=bootstrap,
                        source=p if signs else None, signing_key=key)
        _write_private(path, c.properties())
        creds[p] = c
    registry = {p: c.signing_key.hex() for p, c in creds.items() if c.signing_key}
    _write_private(d / "sources.json", json.dumps(registry, indent=1) + "\n")
    return creds


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


# ---- the two admin requests aiokafka lacks ----------------------------------------------------------

class _CreateAclsResponse_v3(Response):
    API_KEY = 30
    API_VERSION = 3
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("results", CompactArray(("error_code", Int16), ("error_message", CompactString("utf-8")), ("tags", TaggedFields))),
        ("tags", TaggedFields),
    )


class _CreateAclsRequest_v3(RequestStruct):
    FLEXIBLE_VERSION = True
    API_KEY = 30
    API_VERSION = 3
    RESPONSE_TYPE = _CreateAclsResponse_v3
    SCHEMA = Schema(
        ("creations", CompactArray(
            ("resource_type", Int8), ("resource_name", CompactString("utf-8")), ("resource_pattern_type", Int8),
            ("principal", CompactString("utf-8")), ("host", CompactString("utf-8")), ("operation", Int8),
            ("permission_type", Int8), ("tags", TaggedFields))),
        ("tags", TaggedFields),
    )


class _CreateAcls(Request[_CreateAclsRequest_v3]):
    API_KEY = 30

    def __init__(self, acls: list[Acl]):
        self.acls = acls

    def build(self, request_struct_class):
        return request_struct_class(
            [(a.resource, a.name, a.pattern, f"User:{a.principal}", "*", a.operation, ALLOW, {}) for a in self.acls], {})


class _AlterScramResponse_v0(Response):
    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("results", CompactArray(("user", CompactString("utf-8")), ("error_code", Int16),
                                 ("error_message", CompactString("utf-8")), ("tags", TaggedFields))),
        ("tags", TaggedFields),
    )


class _AlterScramRequest_v0(RequestStruct):
    FLEXIBLE_VERSION = True
    API_KEY = 51
    API_VERSION = 0
    RESPONSE_TYPE = _AlterScramResponse_v0
    SCHEMA = Schema(
        ("deletions", CompactArray(("name", CompactString("utf-8")), ("mechanism", Int8), ("tags", TaggedFields))),
        ("upsertions", CompactArray(
            ("name", CompactString("utf-8")), ("mechanism", Int8), ("iterations", Int32), ("salt", CompactBytes),
            ("salted_password", CompactBytes), ("tags", TaggedFields))),
        ("tags", TaggedFields),
    )


class _AlterScram(Request[_AlterScramRequest_v0]):
    API_KEY = 51
    SCRAM_SHA_512 = 2
    ITERATIONS = 4096

    def __init__(self, users: dict[str, str]):
        self.users = users

    def build(self, request_struct_class):
        ups = []
        for name, password in self.users.items():
            salt = _secrets.token_bytes(32)
            salted = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, self.ITERATIONS)
            ups.append((name, self.SCRAM_SHA_512, self.ITERATIONS, salt, salted, {}))
        return request_struct_class([], ups, {})


def _admin_client(bootstrap: str, admin: Credentials) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000, **admin.kwargs())


async def apply(bootstrap: str, directory: str | Path, prefix: str = "", scram: bool = True) -> int:
    """SCRAM credentials of every principal (as its file says) and the ACLs of `prefix`, as admin.
    Idempotent: an existing ACL is created again without effect. Returns the number of ACLs."""
    d = Path(directory)
    admin = load_credentials(d / f"{ADMIN}.properties")
    client = _admin_client(bootstrap, admin)
    await client.start()
    try:
        if scram:
            users = {c.principal: c.password for c in (load_credentials(d / f"{p}.properties") for p in principals())
                     if c.principal != ADMIN}
            resp = await client._send_request(_AlterScram(users))
            failed = [(u, code, msg) for u, code, msg, _t in resp.results if code]
            if failed:
                raise RuntimeError(f"SCRAM credentials refused: {failed}")
        acls = plan(prefix)
        resp = await client._send_request(_CreateAcls(acls))
        failed = [(str(a), code, msg) for a, (code, msg, _t) in zip(acls, resp.results) if code]
        if failed:
            raise RuntimeError(f"ACLs refused: {failed[:3]}")
        return len(acls)
    finally:
        await client.close()


async def admin_scram(bootstrap: str, directory: str | Path) -> None:
    """The super user's SCRAM credentials, through a listener without authentication (a store
    formatted before Kafka was secured: stack.sh opens one on loopback for this alone)."""
    admin = load_credentials(Path(directory) / f"{ADMIN}.properties")
    client = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    await client.start()
    try:
        resp = await client._send_request(_AlterScram({ADMIN: admin.password}))
        failed = [(u, code, msg) for u, code, msg, _t in resp.results if code]
        if failed:
            raise RuntimeError(f"SCRAM credentials refused: {failed}")
    finally:
        await client.close()


_applied: set[tuple[str, str]] = set()


async def secure_prefix(bootstrap: str, directory: str | Path, prefix: str) -> None:
    """The ACLs of a prefix (a test run's, a benchmark's) once per process, and its topics."""
    if (bootstrap, prefix) in _applied:
        return
    from shared.infra.topics import ensure_topics
    from shared.settings import Settings

    await apply(bootstrap, directory, prefix, scram=False)
    await ensure_topics(Settings(kafka_bootstrap_servers=bootstrap, topic_prefix=prefix,
                                 kafka_credentials=str(Path(directory) / f"{ADMIN}.properties")))
    _applied.add((bootstrap, prefix))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m shared.infra.kafka_acls")
    ap.add_argument("command", choices=["secrets", "apply", "admin-password", "admin-scram", "table"])
    ap.add_argument("--dir")
    ap.add_argument("--bootstrap")
    ap.add_argument("--prefix", default="")
    a = ap.parse_args(argv)
    if a.command == "secrets":
        write_secrets(a.dir, a.bootstrap)
        print(f"[stack] Kafka credentials of {len(principals())} principals in {a.dir}")
    elif a.command == "admin-password":
        print(load_credentials(Path(a.dir) / f"{ADMIN}.properties").password)
    elif a.command == "admin-scram":
        asyncio.run(admin_scram(a.bootstrap, a.dir))
        print("[stack] the super user's SCRAM credentials are set")
    elif a.command == "table":
        for acl in plan(a.prefix):
            print(acl)
    else:
        n = asyncio.run(apply(a.bootstrap, a.dir, a.prefix))
        print(f"[stack] Kafka: {len(principals())} principals, {n} ACLs (prefix {a.prefix!r})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
