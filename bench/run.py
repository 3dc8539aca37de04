"""`make bench`: every path of issue 17 on PostgreSQL, end to end, in one table.

1. The database BENCH_DATABASE_URL names (default: `grievance_bench` on 127.0.0.1, created
   when missing) is filled once by the generator with BENCH_CASES (1,000,000) cases, a
   brand named in some of them and the staff who sign in; it is reused when it holds that
   many generated cases at the migration head (the key ring and the second-factor seeds
   are kept beside it in bench/.state/, never committed).
2. The app is served by gunicorn (gunicorn.conf.py, GRIEVANCE_ENV=production, Redis rate
   limits, loopback) beside a bare one-route Flask app under the same gunicorn: the floor.
3. Each path is loaded by `locust --headless` with BENCH_USERS (4) concurrent clients for
   BENCH_SECONDS (20) seconds; staff pages with a session signed in through the real
   sign-in form (password, then the TOTP code).
4. The deadline sweep, the outbox drain (the mail job), `verify-log` and the workers' peak
   memory are measured, and one table printed and written to bench/results/.

Latencies are the client's (locust on loopback): the server time plus a little.
"""

# ruff: noqa: S603, S607 - the bench runs its own programs (gunicorn, locust, git, pgrep)

from __future__ import annotations

import csv
import json
import os
import platform
import re
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
# This tree's code, in this process and in every one it starts (not whichever tree the
# virtual environment's editable install names).
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
CASES = int(os.environ.get("BENCH_CASES", "1000000"))
USERS = int(os.environ.get("BENCH_USERS", "4"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "20"))
URL = (
    os.environ.get("BENCH_DATABASE_URL")
    or "postgresql+psycopg://postgres@127.0.0.1/grievance_bench"
)
APP_PORT, FLOOR_PORT = 8741, 8742
#: At most this long for the worker's jobs and verify-log together.
JOBS_TIMEOUT = int(os.environ.get("BENCH_JOBS_TIMEOUT", "600"))
PASSWORD = "bench-password-staff-0123"


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ",".join(sorted(ScriptDirectory.from_config(config).get_heads()))


def _ensure_database() -> None:
    url = make_url(URL)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}
        ):
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()


def _state_file() -> Path:
    return BENCH / ".state" / f"{make_url(URL).database}.json"


def _current(state: dict[str, Any]) -> bool:
    """The database holds what the state file says, at this many cases and the head."""
    if state.get("cases") != CASES or state.get("head") != _head():
        return False
    engine = create_engine(make_url(URL))
    try:
        with engine.connect() as connection:
            version = connection.scalar(
                text(
                    "SELECT string_agg(version_num, ',' ORDER BY version_num) FROM alembic_version"
                )
            )
            generated = connection.scalar(
                text("SELECT count(*) FROM \"case\" WHERE reference LIKE 'SYN%'")
            )
    except Exception:
        return False
    finally:
        engine.dispose()
    return version == state["head"] and (generated or 0) >= CASES


def _fill() -> dict[str, Any]:
    """Generate the cases and the bench's staff, in a child process (bench/fill.py)."""
    from grievance.crypto.keyring import Keyring

    state = {
        "cases": CASES,
        "head": _head(),
        "keyring": Keyring.generate().to_json(),
        "secret_key": secrets.token_urlsafe(48),
    }
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, str(BENCH / "fill.py")],
        input=json.dumps(state),
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_DATABASE_URL": URL},
    )
    if out.returncode:
        sys.exit(f"filling failed:\n{out.stderr[-4000:]}")
    state.update(json.loads(out.stdout.strip().splitlines()[-1]))
    state["fill_seconds"] = round(time.perf_counter() - started)
    path = _state_file()
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(state))
    path.chmod(0o600)
    return state


def _serve(state: dict[str, Any], app: str, port: int, chdir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "GRIEVANCE_ENV": "production",
        "DATABASE_URL": URL,
        "SECRET_KEY": state["secret_key"],
        "GRIEVANCE_KEYRING": state["keyring"],
        "PUBLIC_BASE_URL": f"https://127.0.0.1:{APP_PORT}",
        "RATELIMIT_STORAGE_URI": os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/14"),
        "TRUSTED_PROXY_HOPS": "1",
        "BIND": f"127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
        "GRIEVANCE_INSTANCE_PATH": tempfile.mkdtemp(),
    }
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "--chdir",
            str(chdir),
            "--access-logfile",
            "/dev/null",
            app,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(BENCH / ".state" / f"gunicorn-{port}.log", "w"),  # noqa: SIM115 - held by the server
    )
    for _ in range(120):
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=60)
            return process
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.5)
    process.terminate()
    sys.exit(f"gunicorn on {port} did not start: see bench/.state/gunicorn-{port}.log")


def _workers(process: subprocess.Popen[bytes]) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in found.split()]


def _peak_rss(process: subprocess.Popen[bytes]) -> int:
    """The largest peak resident set (VmHWM) of the workers alive, in KiB."""
    peak = 0
    for pid in _workers(process):
        status = Path(f"/proc/{pid}/status").read_text()
        found = re.search(r"VmHWM:\s+(\d+)", status)
        peak = max(peak, int(found.group(1)) if found else 0)
    return peak


class _Browser:
    """A client over "HTTPS" (the proxy's headers) keeping its cookies by hand: they are
    Secure, and a cookie jar would not send them to http://127.0.0.1."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    @property
    def cookie(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "10.9.9.9",
            "Referer": f"https://127.0.0.1:{APP_PORT}{path}",
            **kwargs.pop("headers", {}),
        }
        if self.cookies:
            headers["Cookie"] = self.cookie
        response = requests.request(
            method,
            f"http://127.0.0.1:{APP_PORT}{path}",
            headers=headers,
            allow_redirects=False,
            timeout=60,
            **kwargs,
        )
        for name, value in response.cookies.items():
            self.cookies[name] = value
        return response

    def token(self, path: str) -> str:
        page = self.call("GET", path).text
        found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        assert found, f"no CSRF token on {path}"
        return found.group(1)


def _sign_in(email: str, password: str, seed_hex: str) -> str:
    """The Cookie header of a session signed in through the sign-in form."""
    from grievance.services import accounts

    browser = _Browser()
    for _attempt in range(3):
        response = browser.call(
            "POST",
            "/staff/sign-in",
            data={
                "csrf_token": browser.token("/staff/sign-in"),
                "email": email,
                "password": password,
            },
        )
        assert response.status_code == 302, (email, response.status_code)
        code = accounts.totp_code(bytes.fromhex(seed_hex), accounts.totp_step(datetime.now(UTC)))
        response = browser.call(
            "POST",
            "/staff/sign-in/code",
            data={"csrf_token": browser.token("/staff/sign-in/code"), "code": code},
        )
        if response.status_code == 302:
            return browser.cookie
        time.sleep(31)  # the code of this step was taken: the next one
    sys.exit(f"could not sign in as {email}")


def _locust(name: str, port: int, kind: str, url: str = "", **env: str) -> dict[str, float]:
    prefix = Path(tempfile.mkdtemp()) / "run"
    ran = subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(BENCH / "locustfile.py"),
            "--headless",
            "--only-summary",
            "-u",
            str(USERS),
            "-r",
            str(USERS),
            "-t",
            f"{SECONDS}s",
            "--host",
            f"http://127.0.0.1:{port}",
            "--csv",
            str(prefix),
            "--loglevel",
            "ERROR",
        ],
        env={**os.environ, "BENCH_PATH": name, "BENCH_KIND": kind, "BENCH_URL": url, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    rows = []
    if Path(f"{prefix}_stats.csv").exists():
        with open(f"{prefix}_stats.csv") as stats:
            rows = [r for r in csv.DictReader(stats) if r["Name"] == name]
    if not rows:
        print(f"    locust measured nothing on {name}: {ran.stderr[-1500:]}", file=sys.stderr)
        return {"p50": 0, "p95": 0, "p99": 0, "rps": 0, "requests": 0, "failures": 0}
    row = rows[0]
    return {
        "p50": float(row["50%"]),
        "p95": float(row["95%"]),
        "p99": float(row["99%"]),
        "rps": float(row["Requests/s"]),
        "requests": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
    }


def _jobs(state: dict[str, Any], *args: str) -> dict[str, float]:
    env = {
        **os.environ,
        "GRIEVANCE_ENV": "production",
        "DATABASE_URL": URL,
        "SECRET_KEY": state["secret_key"],
        "GRIEVANCE_KEYRING": state["keyring"],
        "PUBLIC_BASE_URL": f"https://127.0.0.1:{APP_PORT}",
        "LOG_LEVEL": "WARNING",
        "GRIEVANCE_INSTANCE_PATH": tempfile.mkdtemp(),
    }
    try:
        out = subprocess.run(
            [sys.executable, str(BENCH / "jobs.py"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=JOBS_TIMEOUT,
        )
        printed = out.stdout
        if out.returncode:
            print(f"the jobs failed:\n{out.stderr[-4000:]}", file=sys.stderr)
    except subprocess.TimeoutExpired as timeout:
        printed = (
            timeout.stdout.decode() if isinstance(timeout.stdout, bytes) else timeout.stdout or ""
        )
    done: dict[str, float] = {}
    for line in printed.splitlines():
        done.update(json.loads(line))
    return done


def _ms(value: float) -> str:
    return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def main() -> None:
    _ensure_database()
    path = _state_file()
    state = json.loads(path.read_text()) if path.exists() else {}
    if not _current(state):
        print(f"filling {make_url(URL).database} with {CASES:,} cases (once)…", flush=True)
        state = _fill()
    else:
        print(
            f"{make_url(URL).database}: {CASES:,} generated cases at {state['head']}, reused",
            flush=True,
        )
    floor = _serve(state, "floor:app", FLOOR_PORT, BENCH)
    rows: list[tuple[str, dict[str, float]]] = []
    try:
        app = _serve(state, "wsgi:app", APP_PORT, ROOT)
    except SystemExit:
        floor.terminate()
        raise
    try:
        # Before the load: a case filed through the API (a valid receipt code), the
        # transparency log integrated, the sessions signed in.
        filed = (
            _Browser()
            .call(
                "POST",
                "/api/v1/complaints",
                json={"mechanism": "SYN01", "language": "en", "statement": "Bench: wages unpaid."},
            )
            .json()
        )
        # the transparency log integrated, so that a case and a checkpoint are published
        print("  the transparency log's catch-up…", flush=True)
        published = _jobs(state, "transparency")
        cookies = {
            key: _sign_in(*state[key]) for key in ("typical", "busiest", "secretariat", "company")
        }
        floor_row = _locust("floor GET /", FLOOR_PORT, "get", "/")
        rows.append(("floor: bare Flask GET /", floor_row))
        paths: list[tuple[str, str, str, dict[str, str]]] = [
            ("GET /", "get", "/", {}),
            ("GET /complaint", "get", "/complaint", {}),
            ("POST /complaint", "post_complaint", "", {}),
            ("POST /api/v1/complaints", "post_api_complaints", "", {}),
            (
                "POST /api/v1/followup (valid)",
                "followup_valid",
                "",
                {"BENCH_CODE": filed["receipt_code"]},
            ),
            (
                "POST /api/v1/followup (wrong)",
                "followup_wrong",
                "",
                {"BENCH_CODE": filed["receipt_code"]},
            ),
            (
                f"reviewer queue, typical ({state['typical_load']:,} open)",
                "get",
                "/staff/reviewer/",
                {"BENCH_COOKIE": cookies["typical"]},
            ),
            (
                f"reviewer queue, busiest ({state['busiest_load']:,} open)",
                "get",
                "/staff/reviewer/",
                {"BENCH_COOKIE": cookies["busiest"]},
            ),
            (
                "GET /staff/secretariat/deadlines",
                "get",
                "/staff/secretariat/deadlines",
                {"BENCH_COOKIE": cookies["secretariat"]},
            ),
            ("company case list", "get", "/staff/company/", {"BENCH_COOKIE": cookies["company"]}),
            ("GET /api/v1/transparency/checkpoint", "get", "/api/v1/transparency/checkpoint", {}),
            (
                "GET /api/v1/transparency/cases/…",
                "get",
                f"/api/v1/transparency/cases/{filed['reference']}",
                {},
            ),
        ]
        case_url = _case_url(cookies["typical"])
        if case_url:
            paths.insert(
                8, ("reviewer case page", "get", case_url, {"BENCH_COOKIE": cookies["typical"]})
            )
        peak = 0
        for name, kind, url, env in paths:
            print(f"  {name}…", flush=True)
            rows.append((name, _locust(name, APP_PORT, kind, url, **env)))
            peak = max(peak, _peak_rss(app))
    finally:
        for process in (app, floor):
            process.terminate()
            process.wait(timeout=30)
    print("  the worker's jobs and verify-log…", flush=True)
    jobs = {**published, **_jobs(state)}
    _report(state, rows, floor_row, jobs, peak)


def _case_url(cookie: str) -> str:
    page = _Browser().call("GET", "/staff/reviewer/", headers={"Cookie": cookie}).text
    found = re.search(r'href="(/staff/reviewer/cases/[^"?#]+)"', page)
    return found.group(1) if found else ""


def _report(
    state: dict[str, Any],
    rows: list[tuple[str, dict[str, float]]],
    floor: dict[str, float],
    jobs: dict[str, float],
    peak: int,
) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    now = datetime.now(UTC)
    lines = [
        f"# make bench, {now:%Y-%m-%d %H:%M} UTC, commit {commit}",
        "",
        f"Machine: {platform.node()}, {os.cpu_count()} cores, {platform.processor() or platform.machine()},"
        f" Python {platform.python_version()}; PostgreSQL {make_url(URL).host}/{make_url(URL).database};"
        f" {CASES:,} generated cases (filled in {state.get('fill_seconds', '?')} s when made);"
        f" gunicorn {os.environ.get('WEB_CONCURRENCY', '2')} sync workers; locust, {USERS} clients, {SECONDS} s a path.",
        "",
        "| path | p50 | p95 | p99 | requests/s | of the floor | failures |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in rows:
        lines.append(
            f"| {name} | {_ms(row['p50'])} | {_ms(row['p95'])} | {_ms(row['p99'])} | {row['rps']:,.1f} |"
            f" {100 * row['rps'] / floor['rps']:.1f} % | {row['failures']}/{row['requests']} |"
        )

    def took(name: str) -> str:
        return _ms(1000 * jobs[name]) if name in jobs else f"not done within {JOBS_TIMEOUT} s"

    if "verify-log" in jobs:
        rate = jobs["events"] / max(jobs["verify-log"], 1e-9)
        lines.append(
            f"| verify-log, {jobs['events']:,.0f} events | {jobs['verify-log']:.1f} s | | |"
            f" {rate:,.0f} events/s | | {jobs['broken']:.0f} broken |"
        )
    lines += [
        f"| deadline sweep (one run, all that is due) | {took('deadline sweep')} | | | | | |",
        f"| outbox drain (the mail job, one run) | {took('mail')} | | | | | |",
        f"| transparency log (one run, catching up) | {took('transparency log')} | | | | | |",
        f"| worker memory, peak RSS | {peak / 1024:.0f} MB (web worker)"
        + (f", {jobs['peak_kib'] / 1024:.0f} MB (jobs)" if "peak_kib" in jobs else "")
        + " | | | | | |",
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    (results / f"{now:%Y-%m-%d}-{commit}.md").write_text(table)


if __name__ == "__main__":
    main()
