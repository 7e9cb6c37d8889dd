"""AsyncAPI 3.0 documents generated from the contract models (`python -m shared.asyncapi`).

The models in `shared.contracts` are the single definition of every message; this turns them
into the document other district systems read. Each service also serves its own part at
`GET /asyncapi.json`.
"""
import json
import sys
from typing import Any

from shared.contracts import REGISTRY
from shared.contracts.envelope import Envelope
from shared.topics import COMMANDS_OF, EVENTS_OF, dlq

_DESCRIPTIONS = {
    "members.commands": "Commands for the organisation tree and the member ledger (台账).",
    "activities.commands": "Commands for organisational life, volunteering, visits and venues.",
    "notifications.commands": "Commands for notices, acknowledgements, feedback and door deliveries.",
    "members.events": "Facts accepted by the members service.",
    "activities.events": "Facts accepted by the activities service.",
    "notifications.events": "Facts of notices and their delivery to each member.",
    "reporting.events": "Alerts and published period reports.",
}


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """Replace pydantic's local `$ref`s by their definitions, so each payload stands alone."""
    if isinstance(schema, dict):
        if "$ref" in schema and schema["$ref"].startswith("#/$defs/"):
            return _inline(defs[schema["$ref"].split("/")[-1]], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def _standalone(schema: dict[str, Any]) -> dict[str, Any]:
    return _inline(schema, schema.get("$defs", {}))


def _message(name: str, version: int, cls) -> dict[str, Any]:
    env = _standalone(Envelope.model_json_schema())
    env["properties"]["type"] = {"const": name, "type": "string"}
    env["properties"]["schema_version"] = {"const": version, "type": "integer"}
    env["properties"]["data"] = _standalone(cls.model_json_schema(by_alias=True, mode="validation"))
    return {
        "name": name, "title": name, "contentType": "application/json",
        "summary": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else name,
        "payload": env,
        "bindings": {"kafka": {"key": {"type": "string", "description": f"data.{cls.KEY}"}}},
    }


def document(service: str | None = None) -> dict[str, Any]:
    """The whole contract, or the part one service reads and writes."""
    topics: list[str] = []
    if service:
        topics += [t for t in (COMMANDS_OF.get(service), EVENTS_OF.get(service)) if t]
    else:
        topics += [*COMMANDS_OF.values(), *EVENTS_OF.values()]
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    components: dict[str, Any] = {}
    for topic in topics:
        cid = topic.replace(".", "_")
        msgs = {}
        for (name, version), cls in sorted(REGISTRY.items()):
            on_topic = cls.TOPIC == topic or (name == "CommandRejected" and topic in EVENTS_OF.values()
                                                and topic != EVENTS_OF["reporting"])
            if on_topic:
                mid = f"{name}_v{version}"
                components[mid] = _message(name, version, cls)
                msgs[mid] = {"$ref": f"#/components/messages/{mid}"}
        channels[cid] = {"address": topic, "description": _DESCRIPTIONS.get(topic, ""), "messages": msgs}
        is_cmd = topic.endswith(".commands")
        operations[f"{cid}_{'receive' if is_cmd else 'send'}"] = {
            "action": "receive" if is_cmd else "send", "channel": {"$ref": f"#/channels/{cid}"},
            "summary": ("The owning service consumes these commands; what is not an envelope goes to "
                        f"{dlq(topic)} unchanged.") if is_cmd else "The owning service publishes these facts.",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "夕阳红 Sunset Red" + (f" — {service}" if service else ""), "version": "1.0.0",
                 "description": "Messages of the Sunset Red platform. Envelope, keys and rules: "
                                "contract.md and docs/contract-additions.md."},
        "defaultContentType": "application/json",
        "servers": {"kafka": {"host": "127.0.0.1:9092", "protocol": "kafka"}},
        "channels": channels, "operations": operations, "components": {"messages": components},
    }


if __name__ == "__main__":
    json.dump(document(sys.argv[1] if len(sys.argv) > 1 else None), sys.stdout, ensure_ascii=False, indent=1)
