"""Local keys and tokens (never in production, where the identity provider issues tokens).

  python -m shared.auth keys  [--dir D] [--force]     an ES256 key pair: D/private.pem, D/jwks.json
  python -m shared.auth token --role R [--org ID …] [--specialist ID] [--member ID] [--sub S]
                              [--name N] [--hours H] [--dir D]      prints a signed token

D defaults to $SUNSET_DATA_DIR/secrets (.data/secrets). `make token ROLE=… ORG=…` runs `token`.
"""
import argparse
import sys
from pathlib import Path

from pydantic import ValidationError

from shared.auth import tokens
from shared.auth.claims import ROLES
from shared.auth.local import JWKS, PRIVATE_KEY, secrets_dir, write_keys
from shared.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m shared.auth", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    k = sub.add_parser("keys", help="write a local key pair and its JWKS")
    k.add_argument("--dir", type=Path, default=None)
    k.add_argument("--force", action="store_true", help="replace an existing pair (every token minted before fails)")
    t = sub.add_parser("token", help="mint a token with the local private key")
    t.add_argument("--role", required=True, choices=ROLES)
    t.add_argument("--org", action="append", default=[], help="a root of the caller's subtree (repeatable)")
    t.add_argument("--specialist", default=None, help="the specialist id (role specialist)")
    t.add_argument("--member", default=None, help="the member id (role member)")
    t.add_argument("--sub", default=None, help="the person's id (default: <role>-local)")
    t.add_argument("--name", default=None)
    t.add_argument("--hours", type=float, default=8.0)
    t.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args(argv)
    folder = args.dir or secrets_dir()
    if args.command == "keys":
        written = write_keys(folder, args.force)
        print(f"{'wrote' if written else 'kept'} {folder / PRIVATE_KEY} and {folder / JWKS}", file=sys.stderr)
        return 0
    try:
        key = tokens.load_private((folder / PRIVATE_KEY).read_bytes())
    except FileNotFoundError:
        print(f"no private key in {folder}: run `make up` or `python -m shared.auth keys` first", file=sys.stderr)
        return 2
    settings = get_settings()
    orgs = [o for arg in args.org for o in arg.split(",") if o]
    try:
        token = tokens.mint(key, role=args.role, district=settings.district, sub=args.sub or f"{args.role}-local",
                            org_ids=orgs, specialist_id=args.specialist, member_id=args.member, name=args.name,
                            seconds=args.hours * 3600, issuer=settings.auth_issuer, audience=settings.auth_audience)
    except ValidationError as exc:
        print("cannot mint this token: " + "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors()),
              file=sys.stderr)
        return 2
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
