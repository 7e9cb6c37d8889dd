"""Keys and tokens of a local stack (`make up` writes them under `.data/secrets/`), and where local
tools — the demo's guide, the simulator, chaos, benchmarks — find a token to call the services.

Production has none of this: the district's identity provider holds the private key and issues
tokens; services get only its JWKS URL (`AUTH_JWKS`).
"""
import json
import os
from pathlib import Path

from shared.auth import tokens

ROOT = Path(__file__).resolve().parents[2]
PRIVATE_KEY = "private.pem"
JWKS = "jwks.json"
ADMIN_TOKEN = "district-admin.token"


def secrets_dir(data_dir: str | Path | None = None) -> Path:
    data = data_dir or os.environ.get("SUNSET_DATA_DIR") or ROOT / ".data"
    return Path(data) / "secrets"


def local_token(data_dir: str | Path | None = None) -> str | None:
    """The district official's token `stack.sh` wrote in that data folder; without one named,
    `SUNSET_TOKEN` if set, else the one of .data (or SUNSET_DATA_DIR)."""
    token = os.environ.get("SUNSET_TOKEN")
    if token and data_dir is None:
        return token.strip()
    path = secrets_dir(data_dir) / ADMIN_TOKEN
    return path.read_text().strip() if path.exists() else None


def auth_headers(data_dir: str | Path | None = None) -> dict[str, str]:
    token = local_token(data_dir)
    return {"Authorization": f"Bearer {token}"} if token else {}


def write_keys(folder: Path, force: bool = False) -> bool:
    """A new key pair unless one is there (True when written). The private key is the owner's only."""
    if (folder / PRIVATE_KEY).exists() and (folder / JWKS).exists() and not force:
        return False
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    key = tokens.new_private_key()
    private = folder / PRIVATE_KEY
    private.touch(mode=0o600)
    private.write_bytes(tokens.private_pem(key))
    os.chmod(private, 0o600)
    (folder / JWKS).write_text(json.dumps(tokens.jwks_of(key), indent=2) + "\n")
    return True


def local_issuer(data_dir: str | Path | None = None, *, district: str = "x-district", hours: float = 8) -> tuple[str, str]:
    """For tools that start services of their own (benchmarks): the local JWKS file (its key pair
    written if there is none yet) and a district official's token signed with it."""
    folder = secrets_dir(data_dir)
    write_keys(folder)
    key = tokens.load_private((folder / PRIVATE_KEY).read_bytes())
    token = tokens.mint(key, role="district", district=district, sub="district-admin", seconds=hours * 3600)
    return str(folder / JWKS), token
