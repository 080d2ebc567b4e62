"""Run the fault suite (tests/faults) and print the figures docs/reliability.md quotes.

    PYTHONPATH=. python scripts/reliability_report.py [--markdown] [-- extra pytest args]

Prints: cases tried / passed / failed, crashes (a case ended by an exception that is not a test assertion or a
wait timeout), rows expected vs. rows on disk over every case that counts rows (lost, duplicated), the soak's
RSS growth and speed (in the suite and alone in a fresh process), the file handles and threads around the
open/close cycles, and the suite's wall time (measured here, never asserted). Exit status: pytest's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_A_CRASH = ("AssertionError", "TimeoutError", "pytestqt.exceptions.TimeoutError")


def run_suite(extra, target="tests/faults"):
    """Run pytest on `target`; (exit code, junit root, figures dict, wall seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        figures = Path(tmp) / "figures.json"
        env = dict(os.environ, GAZENET_FAULT_FIGURES=str(figures), QT_QPA_PLATFORM="offscreen",
                   PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
        t0 = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", "pytest", target, "-q", "-p", "no:cacheprovider",
                                f"--junitxml={junit}", *extra], cwd=ROOT, env=env)
        wall = time.perf_counter() - t0
        root = ET.parse(junit).getroot() if junit.exists() else None
        figs = json.loads(figures.read_text()) if figures.exists() else {}
    return code, root, figs, wall


def count_cases(root):
    """(tried, passed, failed, skipped, crashes, crash names) from a junit tree."""
    tried = passed = failed = skipped = crashes = 0
    crashed = []
    for case in (root.iter("testcase") if root is not None else ()):
        tried += 1
        name = f"{case.get('classname')}::{case.get('name')}"
        if case.find("skipped") is not None:
            skipped += 1
            continue
        bad = case.find("failure")
        err = case.find("error")
        if bad is None and err is None:
            passed += 1
            continue
        failed += 1
        node = err if err is not None else bad
        kind = (node.get("message") or "").split(":", 1)[0].strip()
        if err is not None or not kind.endswith(NOT_A_CRASH):
            crashes += 1
            crashed.append(name)
    return tried, passed, failed, skipped, crashes, crashed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print the figures as a Markdown table")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    code, root, figs, wall = run_suite(args.pytest_args)
    # the soak again in a fresh process: inside the suite, memory freed by earlier cases hides its growth
    _, _, alone, _ = run_suite(["-k", "soak_10000"], "tests/faults/test_soak.py")
    tried, passed, failed, skipped, crashes, crashed = count_cases(root)
    row_cases = {k: v for k, v in figs.items() if "rows_expected" in v}
    expected = sum(v["rows_expected"] for v in row_cases.values())
    on_disk = sum(min(v["rows_on_disk"], v["rows_expected"]) for v in row_cases.values())
    duplicates = sum(v.get("duplicates", 0) for v in row_cases.values())
    soak = figs.get("soak", {})
    cycles = figs.get("source_cycles", {})
    workers = figs.get("worker_cycles", {})
    lines = [
        ("cases tried", f"{tried} ({passed} passed, {failed} failed, {skipped} skipped)"),
        ("crashes", f"{crashes}" + (f" ({', '.join(crashed)})" if crashed else "")),
        ("rows lost", f"{expected - on_disk} of {expected} expected, over {len(row_cases)} cases that count rows"),
        ("rows duplicated", f"{duplicates}"),
        ("soak", f"{soak.get('frames', '?')} frames of 64x48, {soak.get('frames_per_s', '?')} frames/s; RSS "
                 f"{soak.get('rss_start_mb', '?')} MB at start, {soak.get('rss_after_warmup_mb', '?')} MB after "
                 f"1,000 frames, {soak.get('rss_end_mb', '?')} MB at the end: growth "
                 f"{soak.get('rss_growth_mb', '?')} MB over the last 9,000 frames"),
        ("soak alone", "in a fresh process: RSS {rss_start_mb} MB at start, {rss_after_warmup_mb} MB after 1,000 "
                       "frames, {rss_end_mb} MB at the end: growth {rss_growth_mb} MB over the last 9,000 frames; "
                       "{frames_per_s} frames/s".format(**alone["soak"]) if "soak" in alone else "not run"),
        ("source open/close cycles", f"{cycles.get('cycles', '?')}: open fds {cycles.get('fds_before', '?')} -> "
                                     f"{cycles.get('fds_after', '?')}, threads {cycles.get('threads_before', '?')} "
                                     f"-> {cycles.get('threads_after', '?')}"),
        ("worker start/stop cycles", f"{workers.get('cycles', '?')}: threads {workers.get('threads_before', '?')} "
                                     f"-> {workers.get('threads_after', '?')}"),
        ("suite wall time", f"{wall:.0f} s (this machine, {os.cpu_count()} CPUs, shared; measured, not asserted)"),
    ]
    print()
    if args.markdown:
        print("| figure | value |\n|---|---|")
        for k, v in lines:
            print(f"| {k} | {v} |")
        print("\n| case | rows expected | rows on disk | duplicates |\n|---|---:|---:|---:|")
        for k in sorted(row_cases):
            v = row_cases[k]
            print(f"| {k} | {v['rows_expected']} | {v['rows_on_disk']} | {v.get('duplicates', 0)} |")
    else:
        width = max(len(k) for k, _ in lines)
        for k, v in lines:
            print(f"{k:<{width}}  {v}")
    return code


if __name__ == "__main__":
    sys.exit(main())
