"""What the runtime guard costs: a generated suite of trivial tests, run side by side.

Generates a suite of trivial tests (30,000 by default) in a temporary directory and runs it
with ``pytest -p no:ssot`` (the baseline), ``pytest -p ssot`` (everything: scan, policy,
summary and the SSOT102 guard around every test phase) and ``pytest -p ssot`` with SSOT102
switched off (the same without the guard), interleaving the repetitions so that machine noise
hits every variant alike. Prints the median wall time and CPU time (user + system, which
other load on the machine disturbs less) of each and its ratio to the baseline, the same for
the fastest run of each (noise only ever adds time), then the median of each round's own CPU
ratio (variant to the baseline run in the same round).
The issue's target: the full run with the guard on takes at most 1.05x the baseline.

Every run is a fresh ``python -m pytest`` process with plugin autoloading off, so only the
plugin under test differs. Some tests read the environment through product code, so the
guard's hot path (product code reading settings while tests run) is part of the measurement.

    python benchmarks/bench_runtime.py              # 30,000 tests, 3 repetitions
    python benchmarks/bench_runtime.py --quick      # 1,000 tests, 1 repetition (CI smoke)
    python benchmarks/bench_runtime.py --tests 10000 --repeat 5 --keep /tmp/suite

No assertion on time: the numbers are for people (and the README), not for CI to flake on.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTS_PER_FILE = 100

PYPROJECT = """\
[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["."]
markers = ["ssot_exempt: exempt from SSOT rules (pytest-ssot)"]

[tool.ssot]
mode = "warn"
env_modules = ["product.isolated_environment"]
"""

NO_GUARD = """\
mode = "warn"
env_modules = ["product.isolated_environment"]
rules = { SSOT102 = "off" }
"""

SETTINGS = """\
import os


def timeout() -> int:
    return int(os.environ.get("BENCH_TIMEOUT", "30"))
"""

TEST_FILE_HEAD = """\
from product.settings import timeout


class TestTrivial{index}:
"""

TEST_METHOD = """\
    def test_{index}(self):
        assert {body}
"""


def generate(root: Path, tests: int) -> None:
    """Write a suite of ``tests`` trivial tests under ``root``."""
    (root / "tests").mkdir(parents=True)
    (root / "product").mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "no_guard.toml").write_text(NO_GUARD)
    (root / "product" / "__init__.py").write_text("")
    (root / "product" / "settings.py").write_text(SETTINGS)
    (root / "tests" / "__init__.py").write_text("")
    written = 0
    file_index = 0
    while written < tests:
        count = min(TESTS_PER_FILE, tests - written)
        parts = [TEST_FILE_HEAD.format(index=file_index)]
        for i in range(count):
            # One test in ten reads a setting through product code: the guard sees the
            # access and lets it through, which is its common case in a real suite.
            body = "timeout() > 0" if i % 10 == 0 else "True"
            parts.append(TEST_METHOD.format(index=i, body=body))
        (root / "tests" / f"test_trivial_{file_index:04d}.py").write_text("\n".join(parts))
        written += count
        file_index += 1


VARIANTS: dict[str, list[str]] = {
    "-p no:ssot": ["-p", "no:ssot"],
    "-p ssot, guard off": ["-p", "ssot", "--ssot-config", "no_guard.toml"],
    "-p ssot": ["-p", "ssot"],
}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(root: Path, args: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one pytest run."""
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # pytest's bytecode cache, as users have it
    command = [sys.executable, "-m", "pytest", "-q", *args]
    cpu = _children_cpu()
    start = time.perf_counter()
    completed = subprocess.run(
        command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({completed.returncode}):\n{completed.stdout}")
    return elapsed, _children_cpu() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=30_000, help="how many tests (30000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant (3)")
    parser.add_argument(
        "--quick", action="store_true", help="1,000 tests, 1 repetition: a smoke run for CI"
    )
    parser.add_argument("--keep", type=Path, help="generate the suite here and keep it")
    options = parser.parse_args(argv)
    if options.quick:
        options.tests, options.repeat = 1_000, 1
    options.repeat = max(options.repeat, 1)

    root = options.keep or Path(tempfile.mkdtemp(prefix="ssot-bench-"))
    if options.keep and root.exists():
        shutil.rmtree(root)
    try:
        generate(root, options.tests)
        print(f"suite: {options.tests} tests in {root}")
        # One warm-up run of each: imports compiled, pytest's cache (and the scan cache) filled.
        for args in VARIANTS.values():
            run_once(root, args)
        wall: dict[str, list[float]] = {name: [] for name in VARIANTS}
        cpu: dict[str, list[float]] = {name: [] for name in VARIANTS}
        names = list(VARIANTS)
        for repetition in range(options.repeat):
            # Alternate the order so neither variant always runs on a warmer machine.
            order = names if repetition % 2 == 0 else list(reversed(names))
            for name in order:
                elapsed, used = run_once(root, VARIANTS[name])
                wall[name].append(elapsed)
                cpu[name].append(used)
        base_wall = statistics.median(wall[names[0]])
        base_cpu = statistics.median(cpu[names[0]])
        print(
            f"{'variant':<22}{'wall s':>9}{'ratio':>8}{'cpu s':>9}{'ratio':>8}"
            f"   (medians of {options.repeat})"
        )
        for name in names:
            w, c = statistics.median(wall[name]), statistics.median(cpu[name])
            print(f"{name:<22}{w:>9.2f}{w / base_wall:>7.3f}x{c:>9.2f}{c / base_cpu:>7.3f}x")
        # Noise on a shared machine only ever adds time, so the fastest run of each variant is
        # the closest to its own cost (what timeit reports); printed beside the medians.
        best_wall, best_cpu = min(wall[names[0]]), min(cpu[names[0]])
        print(f"{'':<22}{'':>17}{'':>17}   (best of {options.repeat})")
        for name in names:
            w, c = min(wall[name]), min(cpu[name])
            print(f"{name:<22}{w:>9.2f}{w / best_wall:>7.3f}x{c:>9.2f}{c / best_cpu:>7.3f}x")
        # The machine's speed drifts over minutes; each round's variants run back to back, so
        # the ratio within a round is steadier than the ratio of the medians.
        print("each round's CPU ratio to the baseline run in the same round:")
        for name in names[1:]:
            ratios = [c / b for c, b in zip(cpu[name], cpu[names[0]], strict=True)]
            listed = ", ".join(f"{r:.3f}" for r in ratios)
            print(f"  {name:<20} median {statistics.median(ratios):.3f}x ({listed})")
    finally:
        if not options.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
