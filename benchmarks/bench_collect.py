"""What the plugin costs at collection and under xdist, side by side in one run.

Generates a realistic suite (``benchmarks/generate.py``: 2,000 modules by default, median
~15 KB, every rule's violations, a few unparsable files) and times, with repetitions
interleaved so machine noise hits every variant alike:

* ``pytest --collect-only`` without the plugin, with it on a cold scan cache (emptied before
  each such run) and with it on a warm cache (targets: cold <= 1.10x, warm <= 1.03x);
* ``pytest -n 2`` (a full run) without and with the plugin, warm cache (target <= 1.05x), and
  with the plugin and ``-W ignore::pytest_ssot.SSOTWarning``: the suite's violations are
  issued as thousands of warnings in warn mode, and this shows what pytest's own handling of
  them costs (no target).

Then it measures the plugin's own data for a 10,000-module suite (target < 50 MB): the deep
size of everything the plugin keeps after collection (facts, findings, session data, verdicts;
never an AST), and tracemalloc's peak while the plugin scans, attributes and decides.

pytest's bytecode cache is warm for every timed run (one untimed warm-up run first), so
"cold" means the plugin's scan cache only: the case where the plugin's share is largest. Each
run is a fresh ``python -m pytest`` process with plugin autoloading off, so only the plugin
under test differs. Prints medians of wall time and CPU time (user + system of the process
tree, which other load on a shared machine disturbs less) and their ratios to the baseline,
then the same for the best run of each.

    python benchmarks/bench_collect.py          # 2,000 files, 5 repetitions; 10,000 for memory
    python benchmarks/bench_collect.py --quick  # tiny suites, 1 repetition (CI smoke)
    python benchmarks/bench_collect.py --files 500 --repeat 3 --memory-files 0 --keep /tmp/b

With ``--instructions`` it also counts the instructions of a warm ``--collect-only`` without
and with the plugin under valgrind's callgrind: slow (about 50 times the run), but the same
count every run however busy the machine is, so it can show differences of a percent that
timing on a shared machine cannot (pytest's own process only: the scanning helper, which a
warm cache does not start, would not be counted).

    python benchmarks/bench_collect.py --files 200 --repeat 0 --memory-files 0 --instructions

No assertion on time: the numbers are for people (and the README), not for CI to flake on.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import Suite, generate

TARGETS = {"collect-cold": 1.10, "collect-warm": 1.03, "xdist-2": 1.05}
MEMORY_TARGET_MB = 50.0


@dataclass
class Scenario:
    name: str
    label: str
    args: tuple[str, ...]
    plugin: bool
    cold: bool = False
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # pytest's bytecode cache, as users have it
    env["PYTEST_SSOT_RUNNER"] = ""
    return env


def _pytest(root: Path, args: Sequence[str], plugin: bool) -> tuple[float, float, str]:
    """One pytest process: (wall seconds, CPU seconds of the process tree, output)."""
    plugins = ("-p", "ssot") if plugin else ()
    # The scan cache lives in pytest's cache directory: the cache provider stays on for both.
    command = [sys.executable, "-m", "pytest", "-q", *plugins, *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=root, env=_env(), capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):  # 1: the suite's unparsable files (collection errors)
        raise SystemExit(f"pytest failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return wall, cpu, done.stdout


def _collected(output: str) -> str:
    for line in reversed(output.splitlines()):
        if "collected" in line or "passed" in line:
            return line.strip("= ").split(" in ")[0]
    return "?"


def _suite(workdir: Path, files: int, seed: int) -> Suite:
    """The suite for (files, seed), reused from ``--keep`` when already generated there (its
    bytecode cache then saves the slow first compilation)."""
    root = workdir / f"suite-{files}-{seed}"
    stats = workdir / f"suite-{files}-{seed}.json"
    if stats.is_file() and root.is_dir():
        saved = json.loads(stats.read_text(encoding="utf-8"))
        return Suite(**{**saved, "root": root})
    suite = generate(root, files, seed=seed, force=True)
    saved = {k: v for k, v in vars(suite).items() if k != "root"}
    stats.write_text(json.dumps(saved), encoding="utf-8")
    return suite


def _clear_scan_cache(root: Path) -> None:
    shutil.rmtree(root / ".pytest_cache" / "d" / "ssot-scan", ignore_errors=True)


def time_suite(suite: Suite, repeat: int, workers: int) -> list[Scenario]:
    root = suite.root
    collect = ("--collect-only",)
    xdist = ("-p", "xdist", "-n", str(workers))
    scenarios = [
        Scenario("collect-base", "collect-only, no plugin", collect, plugin=False),
        Scenario("collect-cold", "collect-only, plugin, cold scan cache", collect, True, True),
        Scenario("collect-warm", "collect-only, plugin, warm scan cache", collect, plugin=True),
        Scenario("xdist-base", f"-n {workers} full run, no plugin", xdist, plugin=False),
        Scenario("xdist-2", f"-n {workers} full run, plugin", xdist, plugin=True),
        # No target: how much of the plugin's share is pytest's own cost of the warnings that
        # warn mode issues (one per violation, recorded, sent to the controller, formatted).
        Scenario(
            "xdist-2-quiet",
            f"-n {workers} full run, plugin, warnings off",
            (*xdist, "-W", "ignore::pytest_ssot.SSOTWarning"),
            plugin=True,
        ),
    ]
    print(f"warming up pytest's bytecode cache and the scan cache in {root} ...", flush=True)
    _pytest(root, collect, plugin=False)
    _, _, output = _pytest(root, collect, plugin=True)
    counts: dict[str, str] = {}
    for rep in range(repeat):
        # Rotate the order each repetition: no variant always runs first or last.
        order = scenarios[rep % len(scenarios) :] + scenarios[: rep % len(scenarios)]
        for scenario in order:
            if scenario.cold:
                _clear_scan_cache(root)
            wall, cpu, output = _pytest(root, scenario.args, scenario.plugin)
            scenario.walls.append(wall)
            scenario.cpus.append(cpu)
            counts[scenario.name] = _collected(output)
        print(f"  repetition {rep + 1}/{repeat} done", flush=True)
    for scenario in scenarios:
        print(f"  {scenario.name:<13} {counts[scenario.name]}")
    return scenarios


def report_times(suite: Suite, scenarios: list[Scenario], repeat: int) -> None:
    print()
    print(
        f"suite: {suite.files} files ({suite.unparsable} unparsable, {suite.legacy} legacy), "
        f"{suite.tests} tests, {suite.total_bytes / 1e6:.1f} MB, median "
        f"{suite.median_bytes / 1024:.1f} KB; {repeat} interleaved repetition(s), medians"
    )
    header = f"{'scenario':<42} {'wall s':>8} {'cpu s':>8} {'wall x':>7} {'cpu x':>7} {'target':>7}"
    print(header)
    print("-" * len(header))
    _print_rows(scenarios, statistics.median, with_target=True)
    # Noise on a shared machine only ever adds time: the fastest run of each scenario is the
    # closest to its own cost (what timeit reports), so it is printed beside the medians.
    print(f"the same, best of {repeat}:")
    _print_rows(scenarios, min, with_target=False)


def _print_rows(
    scenarios: list[Scenario], pick: Callable[[list[float]], float], *, with_target: bool
) -> None:
    """One line per scenario: ``pick`` of its runs, and the ratios to its baseline's."""
    by_name = {s.name: s for s in scenarios}
    for scenario in scenarios:
        base = by_name["collect-base" if scenario.name.startswith("collect") else "xdist-base"]
        wall, cpu = pick(scenario.walls), pick(scenario.cpus)
        target = TARGETS.get(scenario.name) if with_target else None
        if scenario is base:
            ratios = f"{'':>7} {'':>7} {'':>7}" if with_target else ""
        else:
            ratios = f"{wall / pick(base.walls):>6.3f}x {cpu / pick(base.cpus):>6.3f}x"
            if with_target:
                ratios += " " + (f"{target:>6.2f}x" if target else f"{'':>7}")
        print(f"{scenario.label:<42} {wall:>8.2f} {cpu:>8.2f} {ratios}")


# -- instructions ------------------------------------------------------------------------------
def count_instructions(suite: Suite) -> dict[str, int] | None:
    """Instructions of a warm ``--collect-only`` without and with the plugin (callgrind), of
    the whole suite and of its first test module alone: there, importing and setting up the
    plugin is nearly all it adds, as in a developer's run of the file they are editing."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("\nvalgrind not found: no instruction counts")
        return None
    collect = ("--collect-only",)
    one_file = (*collect, str(_first_test_module(suite.root).relative_to(suite.root)))
    _pytest(suite.root, collect, plugin=True)  # a warm scan cache
    print("\ncounting instructions under callgrind (all runs at once) ...", flush=True)
    # Counts do not depend on load, so the runs share the machine.
    variants = {
        "collect-base": (False, collect),
        "collect-warm": (True, collect),
        "one-file-base": (False, one_file),
        "one-file-warm": (True, one_file),
    }
    runs = {
        name: subprocess.Popen(
            [
                valgrind,
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                sys.executable,
                "-m",
                "pytest",
                "-q",
                *(("-p", "ssot") if plugin else ()),
                *args,
            ],
            cwd=suite.root,
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (plugin, args) in variants.items()
    }
    counts: dict[str, int] = {}
    for name, run in runs.items():
        _, stderr = run.communicate()
        found = re.search(r"Collected : (\d+)", stderr)
        if found is None:
            print(f"callgrind gave no count for {name}:\n{stderr[-2000:]}")
            return None
        counts[name] = int(found.group(1))
    base, warm = counts["collect-base"], counts["collect-warm"]
    target = TARGETS["collect-warm"]
    print(f"instructions, collect-only, no plugin           {base / 1e9:10.3f} G")
    print(
        f"instructions, collect-only, plugin, warm cache  {warm / 1e9:10.3f} G  "
        f"{warm / base:.3f}x (target {target:.2f}x)"
    )
    one_base, one_warm = counts["one-file-base"], counts["one-file-warm"]
    print(f"instructions, one test module, no plugin       {one_base / 1e9:10.3f} G")
    print(
        f"instructions, one test module, plugin, warm     {one_warm / 1e9:10.3f} G  "
        f"{one_warm / one_base:.3f}x (no target)"
    )
    return counts


def _first_test_module(root: Path) -> Path:
    return min((root / "tests").rglob("test_*.py"))


# -- memory ------------------------------------------------------------------------------------
PROBE = '''
import gc, json, sys, tracemalloc
import pytest
from pytest_ssot.plugin import PLUGIN_KEY

SKIP = {"config", "ssot", "ruleset", "root"}


def deep_size(root, seen=None):
    """Bytes of everything reachable from the plugin's own state, pytest's objects excluded
    (and whatever ``seen`` already holds)."""
    seen, stack, total = set(seen or ()), [root], 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        module = type(obj).__module__ or ""
        if module.startswith(("_pytest", "pytest.", "pluggy", "types")) or isinstance(
            obj, (type, type(sys))
        ) or callable(obj) and not isinstance(obj, type(root)):
            continue
        total += sys.getsizeof(obj)
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif not isinstance(obj, (str, bytes, int, float, bool, type(None))):
            stack.extend(gc.get_referents(obj))
    return total


class Probe:
    result = {}

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_collection_finish(self, session):
        tracemalloc.start()
        try:
            return (yield)
        finally:
            current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            Probe.result.update(traced_retained=current, traced_peak=peak)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session):
        plugin = session.config.stash[PLUGIN_KEY]
        state = {k: v for k, v in vars(plugin).items() if k not in SKIP}
        # The node ids the plugin keys its data by are pytest's own strings (item.nodeid).
        nodeids = {id(item.nodeid) for item in session.items}
        # So are the paths it keys each file's scan by (item.path).
        paths = nodeids | {id(item.path) for item in session.items}
        Probe.result.update(
            deep_size=deep_size(state),
            own_size=deep_size(state, nodeids),
            own_size_no_paths=deep_size(state, paths),
            data_size=deep_size(plugin.data),
            files=len(plugin._facts),
            tests=len(plugin.data.tests),
            findings=len(plugin.data.findings),
        )


probe = Probe()
args = ["--collect-only", "-q", "--assert=plain", "-p", "ssot", *sys.argv[2:]]
pytest.main(args, plugins=[probe])
with open(sys.argv[1], "w") as out:
    json.dump(Probe.result, out)
'''


def measure_memory(workdir: Path, files: int, seed: int) -> dict[str, float] | None:
    print(f"generating {files} files for the memory measurement ...", flush=True)
    suite = _suite(workdir, files, seed)
    probe = workdir / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    out = workdir / "memory.json"
    _clear_scan_cache(suite.root)
    print("collecting them with the plugin under tracemalloc (cold scan cache) ...", flush=True)
    done = subprocess.run(
        [sys.executable, str(probe), str(out)],
        cwd=suite.root,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if not out.is_file():
        print(f"memory probe failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        return None
    result: dict[str, float] = json.loads(out.read_text(encoding="utf-8"))
    mb = 1024 * 1024
    print()
    print(
        f"memory, {int(result['files'])} files scanned, {int(result['tests'])} tests, "
        f"{int(result['findings'])} findings (target: plugin's data < {MEMORY_TARGET_MB:g} MB)"
    )
    print(f"  plugin state after the session, deep size   {result['deep_size'] / mb:8.1f} MB")
    print(f"    of which SessionData                        {result['data_size'] / mb:8.1f} MB")
    print(f"    without pytest's own node id strings        {result['own_size'] / mb:8.1f} MB")
    no_paths = result["own_size_no_paths"] / mb
    print(f"    and without pytest's own item paths         {no_paths:8.1f} MB")
    print(f"  traced peak while the plugin collects       {result['traced_peak'] / mb:8.1f} MB")
    print(f"  traced and still held after collection      {result['traced_retained'] / mb:8.1f} MB")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny suite, 1 repetition (CI)")
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5, help="0 skips the timings")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-files", type=int, default=10_000, help="0 skips it")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="work here and keep the suites")
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions (valgrind), warm cache"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.files, args.repeat, args.memory_files = 20, 1, 30
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="ssot-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        suite = _suite(workdir, args.files, args.seed)
        if args.repeat > 0:
            scenarios = time_suite(suite, args.repeat, args.workers)
            report_times(suite, scenarios, args.repeat)
        if args.instructions:
            count_instructions(suite)
        if args.memory_files:
            measure_memory(workdir, args.memory_files, args.seed)
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
