"""MediaPipe FaceMesh topology: the canonical 468 vertices, triangles, hole/outline loops and mirror pairs.

Everything here is pure numpy except `facemesh_tessellation`, which reads MediaPipe's edge list (imported on
demand; `scripts/install_data_deps.sh` installs it). The canonical vertices ship in `resources/` (Apache-2.0,
see its NOTICE). Head frame used throughout (gazenet_app.core.geometry): x toward image-right on a frontal face,
y toward the chin, z from the face into the head, so the nose points along -z.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np

from gazenet_app.core.errors import DependencyError

__all__ = [
    "NUM_VERTICES",
    "FIVE_POINT_INDICES",
    "canonical_vertices",
    "facemesh_tessellation",
    "MeshTopology",
    "mesh_topology",
    "five_points",
]

NUM_VERTICES = 468

#: FaceMesh vertex groups averaged into the five landmarks (image-left eye, image-right eye, nose tip,
#: image-left mouth corner, image-right mouth corner) on a frontal face.
FIVE_POINT_INDICES: Tuple[Tuple[int, ...], ...] = ((33, 133), (362, 263), (1,), (61,), (291,))

#: The two spurious 3-cliques of FACEMESH_TESSELATION (they span across real triangles).
_SPURIOUS = {(49, 64, 129), (279, 294, 358)}

_RESOURCE = Path(__file__).resolve().parents[2] / "resources" / "canonical_face_model_vertices.txt"


def _resource_path() -> Path:
    """The vertices file: the checkout's resources/ or the installed gazenet_app.resources."""
    if _RESOURCE.is_file():
        return _RESOURCE
    import gazenet_app.resources as res  # installed layout (pyproject maps resources/ into the package)

    return Path(res.__file__).parent / "canonical_face_model_vertices.txt"


@lru_cache(maxsize=1)
def canonical_vertices() -> np.ndarray:
    """The 468 canonical vertices (468x3, model units ~cm) in the head frame (y down, nose along -z)."""
    rows = [line.split()[1:4] for line in _resource_path().read_text().splitlines() if line.startswith("v ")]
    v = np.asarray(rows, dtype=np.float64)
    if v.shape != (NUM_VERTICES, 3):
        raise ValueError(f"canonical vertices: expected 468x3, got {v.shape}")
    # The OBJ is y up, z toward the viewer; a half turn about x gives the head frame (a proper rotation).
    return v * np.array([1.0, -1.0, -1.0])


@lru_cache(maxsize=1)
def facemesh_tessellation() -> Tuple[Tuple[int, int], ...]:
    """MediaPipe's FACEMESH_TESSELATION edges (needs mediapipe; see scripts/install_data_deps.sh)."""
    try:
        from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise DependencyError("mediapipe 0.10.21 is needed for data preparation: run "
                              "scripts/install_data_deps.sh") from exc
    return tuple(sorted(tuple(sorted(e)) for e in FACEMESH_TESSELATION))


def _triangles_from_edges(edges) -> np.ndarray:
    adj: Dict[int, set] = {}
    for a, b in edges:
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)
    tris = set()
    for a, b in edges:
        for c in adj[a] & adj[b]:
            tris.add(tuple(sorted((a, b, c))))
    return np.asarray(sorted(tris - _SPURIOUS), dtype=np.int64)


def _boundary_loops(tris: np.ndarray) -> List[List[int]]:
    count: Dict[Tuple[int, int], int] = {}
    for t in tris:
        for a, b in ((t[0], t[1]), (t[1], t[2]), (t[0], t[2])):
            e = (min(a, b), max(a, b))
            count[e] = count.get(e, 0) + 1
    nbr: Dict[int, List[int]] = {}
    for (a, b), n in count.items():
        if n == 1:
            nbr.setdefault(a, []).append(b)
            nbr.setdefault(b, []).append(a)
    loops, seen = [], set()
    for start in sorted(nbr):
        if start in seen:
            continue
        loop, prev, cur = [start], None, start
        seen.add(start)
        while True:
            nxt = [n for n in nbr[cur] if n != prev]
            if not nxt or nxt[0] == start:
                break
            prev, cur = cur, nxt[0]
            if cur in seen:
                break
            loop.append(cur)
            seen.add(cur)
        loops.append(loop)
    return sorted(loops, key=len, reverse=True)


class MeshTopology:
    """Triangles of the closed face mesh (holes fanned around added centre vertices) and mirror pairs.

    Vertices 0..467 are FaceMesh's; `hole_loops[k]` gets the extra vertex 468 + k (the mean of its loop).
    `outline` is the face oval (the outer boundary loop), ordered around the face.
    `mirror[i]` is the left-right mirror vertex of vertex i (the canonical model is symmetric).
    """

    def __init__(self, edges) -> None:
        tris = _triangles_from_edges(edges)
        loops = _boundary_loops(tris)
        self.outline: np.ndarray = np.asarray(loops[0], dtype=np.int64)
        self.hole_loops: List[np.ndarray] = [np.asarray(lp, dtype=np.int64) for lp in loops[1:]]
        fans = []
        for k, lp in enumerate(self.hole_loops):
            c = NUM_VERTICES + k
            fans += [(lp[i], lp[(i + 1) % len(lp)], c) for i in range(len(lp))]
        self.face_triangles: np.ndarray = np.asarray(tris, dtype=np.int64)
        self.triangles: np.ndarray = np.concatenate([tris, np.asarray(fans, dtype=np.int64).reshape(-1, 3)])
        self.num_vertices: int = NUM_VERTICES + len(self.hole_loops)
        self.mirror: np.ndarray = self._mirror_map()

    def complete(self, vertices: np.ndarray) -> np.ndarray:
        """Append the hole-centre vertices (mean of each hole loop) to 468 vertices (any trailing dims)."""
        extra = [vertices[lp].mean(axis=0) for lp in self.hole_loops]
        return np.concatenate([vertices[:NUM_VERTICES], np.asarray(extra).reshape(-1, *vertices.shape[1:])])

    def _mirror_map(self) -> np.ndarray:
        v = self.complete(canonical_vertices())
        flipped = v * np.array([-1.0, 1.0, 1.0])
        d = np.linalg.norm(v[:, None, :] - flipped[None, :, :], axis=-1)
        return d.argmin(axis=1)


@lru_cache(maxsize=1)
def mesh_topology() -> MeshTopology:
    """The face mesh topology built from MediaPipe's tessellation (cached)."""
    return MeshTopology(facemesh_tessellation())


def five_points(vertices: np.ndarray) -> np.ndarray:
    """The five landmarks (5x2 or 5xD) of FaceMesh vertices: image-left eye, right eye, nose, mouth l/r."""
    v = np.asarray(vertices)
    return np.stack([v[list(idx)].mean(axis=0) for idx in FIVE_POINT_INDICES])
