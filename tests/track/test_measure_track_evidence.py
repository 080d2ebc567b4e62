"""scripts/measure_track_evidence.py: the photo-grid cutter, and a clean refusal without the shared data."""

from __future__ import annotations

import cv2
import numpy as np

from fixtures.scripts import load_script


def test_whenet_panels_cuts_a_grid_at_its_seams(tmp_path):
    rng = np.random.default_rng(0)
    widths, heights = (170, 150, 160, 160), (200, 180)  # uneven panels, as in whenet_turn.jpg
    rows = []
    for r, h in enumerate(heights):
        rows.append(np.hstack([np.full((h, w, 3), 30 * (4 * r + c) + 10, np.uint8)
                               + rng.integers(0, 6, (h, w, 3), dtype=np.uint8) for c, w in enumerate(widths)]))
    path = tmp_path / "grid.png"
    cv2.imwrite(str(path), np.vstack(rows))
    panels = load_script("measure_track_evidence").whenet_panels(path, size=(64, 72))
    assert len(panels) == 8 and all(p.shape == (72, 64, 3) for p in panels)
    # each panel is one photo of the grid: its own level, none of its neighbour's
    levels = [float(np.median(p)) for p in panels]
    np.testing.assert_allclose(levels, [30 * k + 12 for k in range(8)], atol=3)
    assert all(np.ptp(p.astype(int)) < 10 for p in panels)


def test_without_shared_data_it_says_so(tmp_path, capsys):
    assert load_script("measure_track_evidence").main(["--shared", str(tmp_path)]) == 2
    assert capsys.readouterr().out.startswith("error: no shared data")
