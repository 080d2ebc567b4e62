"""Corpus discovery (files, folders, globs, lists; relative output paths), the job's output rules and corpus.csv."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gazenet_app.core.errors import SourceError
from gazenet_app.core.results import write_sidecar
from gazenet_app.corpus.inputs import discover_inputs
from gazenet_app.corpus.job import CorpusJob
from gazenet_app.corpus.report import ItemResult, summary_line, write_corpus_csv
from gazenet_app.pipeline import PipelineConfig


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


@pytest.fixture
def tree(tmp_path):
    """root/{a.mp4, day1/cam1.avi, day1/cam2.MP4, day2/cam1.avi, day2/readme.md, .hidden/x.avi}"""
    root = tmp_path / "root"
    for rel in ("a.mp4", "day1/cam1.avi", "day1/cam2.MP4", "day2/cam1.avi", "day2/readme.md", ".hidden/x.avi"):
        touch(root / rel)
    return root


def rels(items):
    return [i.relative for i in items]


def test_a_folder_gives_its_videos_recursively_relative_to_itself(tree):
    assert rels(discover_inputs([str(tree)])) == ["a.mp4", "day1/cam1.avi", "day1/cam2.MP4", "day2/cam1.avi"]
    # OUTDIR inside the corpus: its annotated videos are no inputs
    assert rels(discover_inputs([str(tree)], exclude=tree / "day2")) == ["a.mp4", "day1/cam1.avi", "day1/cam2.MP4"]


def test_globs_lists_and_files_share_one_root_and_repeat_nothing(tree, tmp_path):
    lst = tmp_path / "videos.txt"
    lst.write_text(f"# the second day\n\n{tree / 'day2' / 'cam1.avi'}\nroot/a.mp4\n")
    items = discover_inputs([str(tree / "day1" / "*.avi"), str(lst), str(tree / "day1" / "cam1.avi")])
    assert rels(items) == ["day1/cam1.avi", "day2/cam1.avi", "a.mp4"]
    assert all(i.path.is_absolute() for i in items)


def test_outputs_keep_the_layout_and_the_extension(tree, tmp_path):
    item = discover_inputs([str(tree)])[1]
    job = CorpusJob(PipelineConfig(), str(tmp_path / "out"), jsonl=True, video="mp4")
    o = job.outputs(item)
    assert (o.csv, o.jsonl, o.video) == (tmp_path / "out/day1/cam1.avi.csv", tmp_path / "out/day1/cam1.avi.jsonl",
                                         tmp_path / "out/day1/cam1.avi.mp4")
    assert o.sidecar_file() == tmp_path / "out/day1/cam1.avi.meta.json"


@pytest.mark.parametrize("spec, message", [("missing.avi", "input not found"), ("*.none", "no videos match"),
                                           ("empty", "no videos in folder")])
def test_an_input_naming_no_video_is_one_error(spec, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match=message):
        discover_inputs([spec])


def test_finished_needs_every_output_and_no_partial(tree, tmp_path):
    item = discover_inputs([str(tree)])[0]
    job = CorpusJob(PipelineConfig(), str(tmp_path / "out"), jsonl=True, stride=2)
    assert job.finished(item) is None
    touch(tmp_path / "out/a.mp4.csv")
    assert job.finished(item) is None  # the JSON Lines output is missing
    touch(tmp_path / "out/a.mp4.jsonl")
    write_sidecar(tmp_path / "out/a.mp4.meta.json", {"status": "complete", "last_frame": 8, "rows": 7})
    done = job.finished(item)
    assert (done.status, done.frames, done.rows) == ("complete", 5, 7)
    touch(tmp_path / "out/a.mp4.csv.partial")
    assert job.finished(item) is None and job.partials(item) == [tmp_path / "out/a.mp4.csv.partial"]


def test_corpus_csv_and_summary_line(tmp_path):
    results = [ItemResult("a.avi", "complete", "", 30, 60, 60, 3.0, "tcp://w1", 30, 1.5),
               ItemResult("b.avi", "failed", "cannot open video b.avi", worker="tcp://w2"),
               ItemResult("c.avi", "stopped", frames=10, rows=5, processed=10)]
    path = write_corpus_csv(tmp_path / "corpus.csv", results)
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["input"], r["status"], r["reason"], r["frames"], r["seconds"]) for r in rows] == [
        ("a.avi", "complete", "", "30", "3.00"), ("b.avi", "failed", "cannot open video b.avi", "0", "0.00"),
        ("c.avi", "stopped", "", "10", "0.00")]
    assert summary_line(results, 40, 4.0) == ("3 inputs: 1 complete, 1 failed, 1 left for --resume; 40 frames, "
                                              "65 rows; 40 frames annotated in 4.0 s (10.0 fps)")
