"""Keys and tokens of a local stack (`make up` writes them under `.data/secrets/`), and where local
tools — the demo's guide, the simulator, chaos, benchmarks — find a token to call the services.

Production has none of this: the district's identity provider holds the private key and issues
tokens; services get only its JWKS URL (`AUTH_JWKS`).
"""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRIVATE_KEY = "private.pem"
JWKS = "jwks.json"
ADMIN_TOKEN = "district-admin.token"


def secrets_dir(data_dir: str | Path | None = None) -> Path:
    data = data_dir or os.environ.get("SUNSET_DATA_DIR") or ROOT / ".data"
    return Path(data) / "secrets"


def local_token(data_dir: str | Path | None = None) -> str | None:
    """`SUNSET_TOKEN` if set, else the district official's token `make up` wrote."""
    token = os.environ.get("SUNSET_TOKEN")
    if token:
        return token.strip()
    path = secrets_dir(data_dir) / ADMIN_TOKEN
    return path.read_text().strip() if path.exists() else None


def auth_headers(data_dir: str | Path | None = None) -> dict[str, str]:
    token = local_token(data_dir)
    return {"Authorization": f"Bearer {token}"} if token else {}
