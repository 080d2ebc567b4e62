"""Annotate a corpus (many videos) on a Dask cluster with the same loop as `gazenet annotate`.

Sits above `pipeline` and below `cli` / `ui`: `discover_inputs` -> `CorpusJob` -> `run_corpus` (Qt-free; the
app's batch queue can call it). Dask is imported lazily, only when a run starts (`gazenet[cluster]`).
See docs/scaling.md.
"""

from gazenet_app.corpus.cluster import ClusterInfo, ClusterSpec
from gazenet_app.corpus.engine import CorpusProgress, CorpusReport, run_corpus
from gazenet_app.corpus.inputs import CorpusItem, discover_inputs
from gazenet_app.corpus.job import CorpusJob
from gazenet_app.corpus.report import ItemResult

__all__ = ["ClusterInfo", "ClusterSpec", "CorpusItem", "CorpusJob", "CorpusProgress", "CorpusReport",
           "ItemResult", "discover_inputs", "run_corpus"]
