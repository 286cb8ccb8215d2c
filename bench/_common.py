"""Shared bits of the benchmark scripts: run a measured step in its own process, tables, JSON.

Each measured step runs in a fresh Python process that reports its own wall time and peak RSS
(``ru_maxrss``), so one step's memory never hides in another's.
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"

_RUNNER = r"""
import json, resource, sys, time
sys.path.insert(0, {repo!r})
started = time.perf_counter()
exec(compile({code!r}, "<bench step>", "exec"), {{"__name__": "__bench__"}})
wall = time.perf_counter() - started
rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("@@BENCH@@" + json.dumps({{"wall_s": wall, "peak_rss_mib": rss_kib / 1024}}))
"""


def measure(code: str, *, label: str) -> dict:
    """Run ``code`` in a fresh interpreter; its wall time (s, excluding interpreter start) and
    peak RSS (MiB). Raises with the child's stderr if it fails."""
    proc = subprocess.run(
        [sys.executable, "-c", _RUNNER.format(repo=str(REPO), code=code)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"bench step {label!r} failed:\n{proc.stderr[-4000:]}")
    line = next(l for l in proc.stdout.splitlines() if l.startswith("@@BENCH@@"))
    result = json.loads(line.removeprefix("@@BENCH@@"))
    print(f"  {label}: {result['wall_s']:.1f} s, peak RSS {result['peak_rss_mib']:.0f} MiB",
          file=sys.stderr)
    return result


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def machine() -> dict:
    import os

    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%d"),
    }


def write_json(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def table(headers: list[str], rows: list[list]) -> str:
    text = [[f"{v:,.2f}" if isinstance(v, float) else str(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in text)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in text]
    return "\n".join(lines)


def generated_inbox(args) -> tuple[str, Path, Path]:
    """The demo inbox for ``args`` (skus, warehouses, channels, days, end, seed, data),
    generated once and cached under ``args.data``: ``(tag, root folder, inbox)``."""
    import shutil

    tag = f"s{args.skus}-w{args.warehouses}-c{args.channels}-d{args.days}-e{args.end}-seed{args.seed}"
    root = args.data / f"ingest-{tag}"
    inbox = root / "inbox"
    if not (root / ".complete").exists():
        shutil.rmtree(root, ignore_errors=True)
        print(f"generating {tag} ...", file=sys.stderr)
        gen = measure(
            "from pathlib import Path\nfrom pipelines.generate import generate_demo\n"
            f"generate_demo(Path({str(inbox)!r}), seed={args.seed}, skus={args.skus}, "
            f"warehouses={args.warehouses}, channels={args.channels}, days={args.days}, "
            f"end={args.end!r})",
            label="generate",
        )
        (root / ".complete").write_text(str(gen))
    return tag, root, inbox
