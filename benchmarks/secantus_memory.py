"""SecantusDB's resident memory against its cache under a churn of transactions (prints figures;
not a test). docs/secantusdb.md, "Resident memory beyond the cache".

    .venv/bin/python benchmarks/secantus_memory.py --url mongodb://127.0.0.1:27999/ [--docs 150000]
        [--size 4000] [--per-transaction 8000] [--rounds 80]

Against a server of its own (a fresh `--storage-path`, its own port), so the figures are the
workload's: it writes `--docs` documents of `--size` random bytes (more than the cache), then runs
`--rounds` transactions, each reading `--per-transaction` random documents and replacing them, and
prints the server's resident memory (`serverStatus.mem.resident`) beside the bytes in its
WiredTiger cache every 20 rounds. The collection `secantus_memory.churn` is dropped at the end.
"""
import argparse
import random
import time

from pymongo import MongoClient, ReplaceOne


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True, help="a server of its own, e.g. mongodb://127.0.0.1:27999/")
    ap.add_argument("--docs", type=int, default=150_000)
    ap.add_argument("--size", type=int, default=4000, help="bytes of random body a document")
    ap.add_argument("--per-transaction", type=int, default=8000)
    ap.add_argument("--rounds", type=int, default=80)
    args = ap.parse_args()
    client = MongoClient(args.url, directConnection=True)
    coll = client["secantus_memory"]["churn"]
    rng = random.Random(1)

    def status() -> str:
        s = client.admin.command("serverStatus")
        cache = s["wiredTiger"]["cache"]
        return (f"RSS {s['mem']['resident']} MB, cache {cache['bytes currently in the cache'] // 2**20} MB "
                f"of {cache['maximum bytes configured'] // 2**20}")

    coll.drop()
    for start in range(0, args.docs, 1000):
        coll.insert_many([{"_id": i, "v": 0, "body": rng.randbytes(args.size)}
                          for i in range(start, min(args.docs, start + 1000))])
    print(f"{args.docs} documents of {args.size} B written: {status()}", flush=True)
    started = time.perf_counter()
    try:
        for r in range(1, args.rounds + 1):
            ids = rng.sample(range(args.docs), args.per_transaction)
            with client.start_session() as session, session.start_transaction():
                list(coll.find({"_id": {"$in": ids}}, session=session))
                coll.bulk_write([ReplaceOne({"_id": i}, {"_id": i, "v": r, "body": rng.randbytes(args.size)})
                                 for i in ids], session=session)
            if r % 20 == 0:
                print(f"after {r} transactions of {args.per_transaction} ({time.perf_counter() - started:.0f} s): "
                      f"{status()}", flush=True)
    finally:
        coll.drop()


if __name__ == "__main__":
    main()
