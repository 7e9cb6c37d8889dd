"""Screenshots of the reporting dashboard with headless Chromium (scripts/install-chromium.sh).

    PYTHONPATH=. .venv/bin/python scripts/dashboard_screenshots.py --url http://127.0.0.1:8004 \\
        --year 2025 --out docs/screenshots

signed in as the district official whose token `make up` writes (`--token` names another file).

shoots the district for the year and for January, the branch view of a branch with a member's
ledger open, and the district at 390 px (a secretary's phone). Headless Chromium will not make
its window narrower than 500 px, so the phone view is the dashboard in a 390 px frame of a page
of its own (`phone_page`), which the browser test uses too.
"""
import argparse
import json
import shutil
import subprocess
import threading
import urllib.request
from contextlib import contextmanager, nullcontext
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PHONE = 390


def chromium(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           "--hide-scrollbars", "--virtual-time-budget=20000", *args],
                          capture_output=True, text=True, timeout=180)


@contextmanager
def phone_page(url: str, width: int = PHONE, height: int = 2400):
    """The address of a page holding the dashboard in a frame `width` px wide; when the dashboard
    says it is ready (a message to the page that frames it), the page puts the width of the
    dashboard's content on its body. Served over HTTP from this process while in use (a page
    opened from a file is not told)."""
    page = f"""<!doctype html><html><body style="margin:0">
<iframe src={json.dumps(url)} style="border:0;width:{width}px;height:{height}px"></iframe>
<script>
addEventListener("message", (ev) => {{
  if (ev.data && ev.data.ready) {{ document.body.dataset.width = ev.data.width; document.body.dataset.ready = "1"; }}
}});
</script></body></html>""".encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/phone.html"
    finally:
        server.shutdown()
        server.server_close()


def shoot(path: Path, url: str, token: str, width: int = 1400, height: int = 2400, phone: bool = False) -> None:
    """The dashboard at `url`, signed in by the token in the address's fragment (never sent to a server)."""
    path.unlink(missing_ok=True)
    shown = url
    url = f"{url}#token={token}"
    with phone_page(url, PHONE, height) if phone else nullcontext(url) as page:
        result = chromium(f"--screenshot={path}", f"--window-size={PHONE if phone else width},{height}", page)
    if result.returncode != 0 or not path.exists():
        raise RuntimeError(f"chromium could not shoot {shown}: {result.stderr[-2000:]}")
    print(f"{path}  ←  {shown}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:8004", help="the reporting service")
    ap.add_argument("--year", type=int, required=True)
    ap.add_argument("--org", help="the district's id (default: the root of the tree)")
    ap.add_argument("--branch", help="the branch of the branch view (default: the first with a member in arrears)")
    ap.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    ap.add_argument("--token", type=Path, default=Path(".data/secrets/district-admin.token"),
                    help="a file holding the token to sign in with")
    a = ap.parse_args()
    base = a.url.rstrip("/")
    token = a.token.read_text().strip()

    def get(path: str):
        request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
        return json.load(urllib.request.urlopen(request))
    tree = get("/api/v1/orgs")
    district = a.org or next(o["org_id"] for o in tree if not o["parent_id"])
    end = f"{a.year}-12-31"
    alerts = get(f"/api/v1/alerts?org_id={district}&as_of={end}&kind=dues_arrears")["alerts"]
    branch = a.branch or (alerts[0]["org_id"] if alerts else next(o["org_id"] for o in tree if o["kind"] == "branch"))
    member = next((x["subject_id"] for x in alerts if x["org_id"] == branch), None)
    a.out.mkdir(parents=True, exist_ok=True)
    y = a.year
    shoot(a.out / f"district-{y}.png", f"{base}/?org={district}&period={y}&year={y}&as_of={end}", token, height=3200)
    shoot(a.out / f"district-{y}-01.png", f"{base}/?org={district}&period={y}-01&year={y}&as_of={y}-01-31", token, height=3200)
    shoot(a.out / f"branch-{y}.png", f"{base}/?org={branch}&period={y}&year={y}&as_of={end}"
          + (f"&member={member}" if member else ""), token, height=3000)
    shoot(a.out / f"phone-{y}.png", f"{base}/?org={district}&period={y}&year={y}&as_of={end}", token, height=5200,
          phone=True)


if __name__ == "__main__":
    main()
