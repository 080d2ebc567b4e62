"""`gazenet annotate-corpus INPUTS... -o OUTDIR`: annotate many videos on a Dask cluster (`gazenet[cluster]`).

One task per video, each the same loop as `gazenet annotate` with the same flags, writing
`OUTDIR/<relative path>.csv` (+ `.jsonl`, `.avi|.mp4`, `.meta.json`) and, at the end, `OUTDIR/corpus.csv`.
Default: a local cluster of `--workers` processes; `--scheduler` submits to a running one. See docs/scaling.md.
"""

from __future__ import annotations

import argparse
import logging
import sys

from gazenet_app.cli.annotate import add_annotation_args
from gazenet_app.cli.common import add_output_arg, pipeline_config

__all__ = ["add_parser", "run"]

log = logging.getLogger(__name__)


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the `annotate-corpus` subcommand."""
    p = subparsers.add_parser(
        "annotate-corpus", help="annotate many videos on a Dask cluster (local processes or a scheduler)",
        description="Annotate every video the INPUTS name (files, folders searched recursively, globs, .txt "
                    "lists of paths) with the loop of `gazenet annotate`, one task per video, into "
                    "OUTDIR/<path relative to the inputs' common folder>.csv (+ .jsonl, video, .meta.json), "
                    "then OUTDIR/corpus.csv. A worker that dies has its video resumed from the .partial files; "
                    "Ctrl-C keeps them for --resume. Needs `pip install -c constraints.txt 'gazenet[cluster]'`.")
    p.add_argument("inputs", metavar="INPUT", nargs="+", help="video, folder, glob or .txt list of paths")
    add_output_arg(p, required=True, help="output folder (OUTDIR)")
    # dests other than jsonl/video: those name output files in every other command (cli.run_guard)
    p.add_argument("--jsonl", dest="write_jsonl", action="store_true", help="also write OUTDIR/<relative>.jsonl")
    p.add_argument("--video", dest="video_format", nargs="?", const="avi", default=None, choices=("avi", "mp4"),
                   help="also write an annotated video OUTDIR/<relative>.avi (MJPG; or mp4: mp4v)")
    add_annotation_args(p)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="local worker processes, one thread each, sharing the usable cores for OpenMP "
                            "(default: one per usable core)")
    where.add_argument("--scheduler", metavar="ADDRESS_OR_FILE", default=None,
                       help="a running Dask scheduler: tcp://HOST:8786, or the file written by "
                            "`dask scheduler --scheduler-file`; OUTDIR and the inputs must be on a filesystem "
                            "every worker reaches at the same paths")
    p.add_argument("--timeout", type=float, default=20.0, metavar="S",
                   help="seconds to reach the scheduler and wait for a worker (default 20)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted corpus: finished videos are skipped, partial ones resumed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


class _Bar:
    """A tqdm bar over the corpus frames (ETA from the inputs' frame counts), fed from Dask's thread."""

    def __init__(self, enabled: bool) -> None:
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(unit="frame", desc="corpus", file=sys.stderr, disable=None, smoothing=0.1)

    def __call__(self, p) -> None:
        if self.bar is None:
            return
        if self.bar.total != p.frames_total:
            self.bar.total = p.frames_total
        self.bar.set_postfix_str(f"{p.inputs_done}/{p.inputs_total} files", refresh=False)
        self.bar.update(p.frames_done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run(args: argparse.Namespace) -> int:
    """Annotate the corpus; 0 when nothing failed, 1 when some inputs failed, 130 when interrupted."""
    from pathlib import Path

    from gazenet_app.corpus import ClusterSpec, CorpusJob, discover_inputs, run_corpus

    outdir = Path(args.output).resolve()
    items = discover_inputs(args.inputs, exclude=outdir)  # bad inputs fail before any cluster starts
    config = pipeline_config(args, smoothing=args.smooth, detect_every=args.detect_every)
    job = CorpusJob(config, str(outdir), jsonl=args.write_jsonl, video=args.video_format,
                    show_cube=args.cube, stride=args.stride,
                    command=" ".join(["gazenet", *getattr(args, "argv", [])]))
    spec = ClusterSpec(workers=args.workers, scheduler=args.scheduler, timeout_s=args.timeout)
    log.info("%d inputs -> %s", len(items), job.outdir)
    if not log.isEnabledFor(logging.DEBUG):  # Dask's own INFO lines (connections, plugins) only with -vv
        logging.getLogger("distributed").setLevel(logging.WARNING)
    bar = _Bar(not args.no_progress)

    try:
        report = run_corpus(job, items, cluster=spec, resume=args.resume, progress=bar)
    finally:
        bar.close()
    sys.stdout.write(f"{report.summary} -> {report.csv}\n")
    if report.interrupted:
        sys.stderr.write("interrupted: finished videos are kept, the running ones in their .partial files; "
                         "run the same command with --resume to do what is left\n")
        return 130
    return 1 if any(r.status == "failed" for r in report.results) else 0
