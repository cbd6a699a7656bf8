"""How fast is ``ssot check`` next to a bare loop that only reads and parses the same files?

Generates a realistic corpus (``benchmarks/generate.py``: 6,000 test files, median ~15 KB, every
rule's violations, some unparsable files) in a temporary directory and times, side by side, each
in a fresh process:

* a bare loop that reads and ``ast.parse``s the files ``ssot check`` checks (the floor: any
  static checker has to parse them), and the same loop split over 2 processes (what two cores
  allow at best: parallel parsing contends for memory, so it is well short of twice as fast);
* ``ssot check --jobs 1 --no-cache`` and ``--jobs 2 --no-cache``;
* ``ssot check`` with a cold, then a warm content-keyed cache (nothing changed).

It prints seconds, the ratio to the bare loop, the peak resident memory of each run (the
largest of the process and its workers) and its minor page faults, then the issue's targets:
``--jobs 1`` at most 1.3x the loop, ``--jobs 2`` well under it, a warm run at most 0.1x, peak
memory under 300 MB. Each measurement is the best of ``--repeat`` runs, interleaved, so a busy
machine skews all alike; as the machine's speed drifts over minutes, it also prints the median
of each round's own ``--jobs 1`` ratio (to the loop run just before it).

``ssot check`` keeps freed heap memory while it scans (:mod:`pytest_ssot.heap`), which spares
it most of the page faults the bare loop takes. So that the ratio shows what the check costs
besides the parse, not only what it saves, the loop also runs with the same glibc setting, and
``--jobs 1`` is compared with that loop too.

    python benchmarks/bench_cli.py                 # 6,000 files, the issue's corpus
    python benchmarks/bench_cli.py --quick         # a tiny corpus for CI: no verdicts
    python benchmarks/bench_cli.py --files 2000 --repeat 3 --keep /tmp/corpus
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_ssot.heap import RETAINED

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate

BARE_LOOP = """
import ast, sys, warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

def loop(paths):
    warnings.simplefilter("ignore")
    unparsable = 0
    for path in paths:
        try:
            ast.parse(Path(path).read_bytes())
        except (SyntaxError, ValueError):
            unparsable += 1
    return unparsable

if __name__ == "__main__":
    paths = open(sys.argv[1], encoding="utf-8").read().split("\\n")[:-1]
    jobs = int(sys.argv[2])
    if jobs == 1:
        print(loop(paths))
    else:
        with ProcessPoolExecutor(jobs) as pool:
            print(sum(pool.map(loop, [paths[i::jobs] for i in range(jobs)])))
"""


@dataclass
class Measure:
    label: str
    seconds: float
    cpu: float  # user + system seconds of the process and its workers
    rss_mb: float
    faults: int  # minor page faults of the process and its workers
    output: str  # a summary: the benchmark process stays small (see `timed`)


# What pytest_ssot.heap sets in the check, set for the loop through glibc's environment.
KEEP_FREED_HEAP = {"GLIBC_TUNABLES": f"glibc.malloc.trim_threshold={RETAINED}"}


def timed(command: Sequence[str], cwd: Path, extra_env: dict[str, str] | None = None) -> Measure:
    """Run a command; wall time and the peak RSS of it and its (waited-for) children.

    Linux carries the parent's resident size into a child's ru_maxrss across fork and exec,
    so this process keeps nothing big: each report is reduced to its summary at once."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode caches, as users have them
    env.update(extra_env or {})
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr = process.stderr.read().decode() if process.stderr else ""
        out.seek(0)
        output = _summary_of(out.read().decode())
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr}")
    # ru_maxrss is in KiB on Linux: the largest of the process and its reaped descendants.
    cpu = usage.ru_utime + usage.ru_stime
    return Measure(" ".join(command), seconds, cpu, usage.ru_maxrss / 1024, usage.ru_minflt, output)


def ssot(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest_ssot", "check", "--format", "json", *args]


def _summary_of(output: str) -> str:
    if not output.lstrip().startswith("{"):
        return output.strip()  # the bare loop prints a count
    report = json.loads(output)
    return json.dumps(
        [report["summary"]["tests"], report["summary"]["violations"], len(report["unchecked"])]
    )


def summary(measure: Measure) -> tuple[int, int, int]:
    tests, violations, unchecked = json.loads(measure.output)
    return tests, violations, unchecked


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=6000)
    parser.add_argument("--repeat", type=int, default=1, help="best of N interleaved runs")
    parser.add_argument("--quick", action="store_true", help="tiny corpus, no verdicts (CI)")
    parser.add_argument("--keep", type=Path, help="generate into (or reuse) this directory")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    files = 60 if args.quick else args.files

    temporary = None
    if args.keep is not None:
        root = args.keep
        marker = root / ".ssot-benchmark-suite"
        if not (marker.is_file() and marker.read_text().startswith(f"files={files} ")):
            generate(root, files, seed=args.seed, force=marker.is_file())
    else:
        temporary = tempfile.mkdtemp(prefix="ssot-bench-")
        root = Path(temporary) / "suite"
        generate(root, files, seed=args.seed)
    try:
        return run(root, args.repeat, quick=args.quick)
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


def run(root: Path, repeat: int, *, quick: bool) -> int:
    listing = subprocess.run(
        [sys.executable, "-m", "pytest_ssot", "check", "--show-files"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    paths = [str((root / p).resolve()) for p in listing]
    file_list = root.parent / f"{root.name}-files.txt"
    file_list.write_text("\n".join(paths) + "\n", encoding="utf-8")
    sizes = sorted(Path(p).stat().st_size for p in paths)
    cache = root / ".pytest_cache"

    # Warm the OS page cache so no run pays for the disk.
    for path in paths:
        Path(path).read_bytes()

    runs: dict[str, list[Measure]] = {}

    def record(key: str, measure: Measure) -> None:
        runs.setdefault(key, []).append(measure)

    bare_loop = [sys.executable, "-c", BARE_LOOP, str(file_list), "1"]
    for _ in range(repeat):
        # The loop and --jobs 1 back to back: the machine's speed drifts over minutes, and
        # each round's own ratio is compared as well as the best of each.
        record("bare", timed(bare_loop, root))
        record("jobs1", timed(ssot("--jobs", "1", "--no-cache"), root))
        record("bare-kept", timed(bare_loop, root, KEEP_FREED_HEAP))
        record("bare2", timed([sys.executable, "-c", BARE_LOOP, str(file_list), "2"], root))
        record("jobs2", timed(ssot("--jobs", "2", "--no-cache"), root))
        shutil.rmtree(cache, ignore_errors=True)
        record("cold", timed(ssot("--jobs", "2"), root))
        record("warm2", timed(ssot("--jobs", "2"), root))
        record("warm1", timed(ssot("--jobs", "1"), root))
    best = {key: min(values, key=lambda m: m.seconds) for key, values in runs.items()}
    peak = {key: max(m.rss_mb for m in values) for key, values in runs.items()}

    results = {summary(best[k]) for k in ("jobs1", "jobs2", "cold", "warm2", "warm1")}
    if len(results) != 1:
        raise SystemExit(f"runs disagree: {results}")
    tests, violations, unchecked = results.pop()
    loop_unparsable = int(best["bare"].output.strip())

    print(
        f"corpus: {len(paths)} files, {sum(sizes) / 1e6:.1f} MB, median "
        f"{sizes[len(sizes) // 2] / 1024:.1f} KB, {loop_unparsable} unparsable "
        f"(ssot check lists {unchecked}), {tests} tests, {violations} violations"
    )
    print(f"cores: {os.cpu_count()}, best of {repeat} interleaved run(s)\n")
    rows = [
        ("bare", "bare loop: read + ast.parse"),
        ("bare-kept", "the bare loop, freed heap kept"),
        ("bare2", "the bare loop in 2 processes"),
        ("jobs1", "ssot check --jobs 1 --no-cache"),
        ("jobs2", "ssot check --jobs 2 --no-cache"),
        ("cold", "ssot check --jobs 2, cold cache"),
        ("warm2", "ssot check --jobs 2, warm cache"),
        ("warm1", "ssot check --jobs 1, warm cache"),
    ]
    base = best["bare"].seconds
    cpu_base = min(m.cpu for m in runs["bare"])
    print(
        f"{'':36} {'seconds':>8} {'x loop':>7} {'cpu s':>8} {'x loop':>7} {'peak RSS':>9} "
        f"{'faults':>9}"
    )
    for key, label in rows:
        m = best[key]
        cpu = min(r.cpu for r in runs[key])
        print(
            f"{label:36} {m.seconds:8.2f} {m.seconds / base:7.2f} {cpu:8.2f} "
            f"{cpu / cpu_base:7.2f} {peak[key]:7.0f} MB {m.faults:9d}"
        )
    rounds = sorted(j.cpu / b.cpu for b, j in zip(runs["bare"], runs["jobs1"], strict=True))
    print(
        f"--jobs 1 / the loop run just before it, per round (CPU): median "
        f"{statistics.median(rounds):.2f}x ({', '.join(f'{r:.2f}' for r in rounds)})"
    )
    kept = sorted(j.cpu / b.cpu for b, j in zip(runs["bare-kept"], runs["jobs1"], strict=True))
    print(
        f"--jobs 1 / the loop with the freed heap kept, per round (CPU): median "
        f"{statistics.median(kept):.2f}x ({', '.join(f'{r:.2f}' for r in kept)})"
    )
    print(f"load average now: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if quick:
        print("\n--quick: a tiny corpus measures start-up, not throughput; no verdicts")
        return 0
    checks = [
        ("--jobs 1 <= 1.3x the loop (wall)", best["jobs1"].seconds <= 1.3 * base),
        (
            "--jobs 1 <= 1.3x the loop with the freed heap kept (wall; no target, stricter)",
            best["jobs1"].seconds <= 1.3 * best["bare-kept"].seconds,
        ),
        ("--jobs 2 < 1x the loop", best["jobs2"].seconds < base),
        ("warm cache <= 0.1x the loop", best["warm2"].seconds <= 0.1 * base),
        ("peak RSS < 300 MB", max(peak.values()) < 300),
    ]
    print()
    for label, ok in checks:
        print(f"{'PASS' if ok else 'MISS'}  {label}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
