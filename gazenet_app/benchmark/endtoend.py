"""End-to-end pipeline FPS: decode -> detect -> crop -> pose (one batch) -> track -> draw, frame after frame.

The clip is decoded from disk as the CLI and the app do (`core.video.open_source`); the first frames are
warm-up (model and detector first-call costs) and excluded. FPS = measured frames / wall time of those frames.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, Union

from gazenet_app.benchmark.timing import median

__all__ = ["pipeline_fps"]


def pipeline_fps(clip: Union[str, Path], detector, pose_model, detect_every: int = 1, warmup: int = 10,
                 draw: bool = True) -> Dict[str, Any]:
    """Run the clip through a fresh `Pipeline`; FPS and per-stage median ms of the frames after warm-up."""
    from gazenet_app.core.draw import draw_frame_result
    from gazenet_app.core.video import open_source
    from gazenet_app.pipeline import PipelineConfig, build_pipeline

    pipe = build_pipeline(PipelineConfig(detect_every=detect_every), detector=detector, pose_model=pose_model)
    stages: Dict[str, list] = {"decode": [], "draw": []}
    faces = []
    measured = 0
    t_start = None
    with open_source(str(clip)) as source:
        it = iter(source)
        i = 0
        while True:
            t0 = time.perf_counter()
            try:
                frame = next(it)
            except StopIteration:
                break
            t_decode = time.perf_counter() - t0
            if i == warmup:
                t_start = t0
            result = pipe.process(frame)
            t1 = time.perf_counter()
            if draw:
                draw_frame_result(frame.rgb, result)
            t_draw = time.perf_counter() - t1
            if i >= warmup:
                measured += 1
                faces.append(len(result.faces))
                stages["decode"].append(1000 * t_decode)
                stages["draw"].append(1000 * t_draw)
                for k, v in result.timing.items():
                    stages.setdefault(k, []).append(v)
            i += 1
        t_end = time.perf_counter()
    if measured == 0 or t_start is None:
        raise ValueError(f"the clip has {i} frames: not more than the {warmup} warm-up frames")
    elapsed = t_end - t_start
    return {"fps": measured / elapsed, "frames": measured, "warmup_frames": warmup,
            "faces_per_frame_median": median([float(f) for f in faces]),
            "stage_ms_median": {k: round(median(v), 3) for k, v in stages.items()}}
