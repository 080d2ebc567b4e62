"""Paired timing rounds, ratios, the table and the peak-RSS probe (no timed assertions)."""

from __future__ import annotations

import sys

import pytest

from gazenet_app.benchmark.memory import peak_rss
from gazenet_app.benchmark.report import bench_document, format_table
from gazenet_app.benchmark.timing import median, paired_ratio, paired_rounds


def test_paired_rounds_interleave_and_rotate_after_warmup():
    order = []
    calls = {k: (lambda k=k: order.append(k)) for k in "abc"}
    times = paired_rounds(calls, rounds=3, warmup=2)
    assert order[:6] == list("aabbcc")  # warm-up: every candidate, not timed
    assert order[6:] == list("abc") + list("bca") + list("cab")  # each round starts elsewhere
    assert {k: len(v) for k, v in times.items()} == {"a": 3, "b": 3, "c": 3}
    with pytest.raises(ValueError):
        paired_rounds(calls, rounds=0)


def test_paired_ratio_is_the_median_of_per_round_ratios():
    a, b = [1.0, 2.0, 30.0], [2.0, 2.0, 10.0]
    assert paired_ratio(a, b) == pytest.approx(1.0)  # ratios 0.5, 1, 3
    assert median(a) / median(b) == pytest.approx(1.0)
    assert paired_ratio([1.0, 1.0, 1.0], [4.0, 2.0, 8.0]) == pytest.approx(0.25)
    assert median([]) != median([])  # NaN when there is nothing to measure


def test_table_labels_rows_skips_and_memory():
    rows = [{"mode": "torch", "backbone": "resnet50", "input": 224, "batch": 1, "ms_per_face": 60.0,
             "faces_per_s": 16.7, "ratio_to_torch": 1.0, "same_architecture": True,
             "mae_delta": "not applicable (random weights)", "what": "PyTorch original layout"},
            {"mode": "int8", "backbone": "mobilenetv2", "input": 112, "batch": None, "ms_per_face": None,
             "faces_per_s": None, "ratio_to_torch": None, "same_architecture": False, "mae_delta": None,
             "what": "default model m: int8", "skipped": "no int8 export"}]
    doc = bench_document({"cpu": "x"}, {"OMP_NUM_THREADS": "2", "torch_num_threads": 2}, rows,
                         [{"faces": 5, "fps": None, "mode": None, "detect_every": 1, "preset": "live",
                           "skipped": "no clip"}], {"annotate": {"frames": 10, "peak_rss_mb": 321.0}}, {}, ["n1"])
    text = format_table(doc)
    assert "| PyTorch original layout | torch | 1 | 60.00 |" in text
    assert "skipped: no int8 export" in text and "skipped: no clip" in text
    assert "| annotate | 10 | 321 |" in text and "note: n1" in text
    assert "OMP_NUM_THREADS=2" in text


def test_peak_rss_of_a_child_that_allocates():
    code = "import time; b = bytearray(160 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(1.0)"
    r = peak_rss([sys.executable, "-c", code], interval_s=0.05)
    assert r["returncode"] == 0
    assert r["peak_rss_mb"] >= 150  # the child's own high-water mark, not the parent's
    bad = peak_rss([sys.executable, "-c", "import sys; sys.exit('boom')"], interval_s=0.05)
    assert bad["returncode"] == 1 and "boom" in bad["error"]


def test_burst_times_only_calls_after_the_cache_refill():
    """With burst=3 each turn makes 1 untimed + 3 timed calls; the round's value is their median."""
    from gazenet_app.benchmark.timing import paired_rounds

    seen = []
    durations = iter([0.0] * 2 + [0.05, 0.001, 0.002, 0.003] * 4)

    def call():
        import time
        d = next(durations)
        seen.append(d)
        time.sleep(d)

    out = paired_rounds({"a": call}, rounds=4, warmup=2, burst=3)
    assert len(seen) == 2 + 4 * 4
    assert len(out["a"]) == 4
    assert all(v < 0.04 for v in out["a"])  # the 50 ms cold call of each turn is never counted
