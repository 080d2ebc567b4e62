"""Face profiling renderer: rotate a FaceMesh-fitted head and re-render it (300W-LP-style, orthographic).

The head is the fitted face mesh (holes filled) plus rings behind its outline that give it a head shape; the rings
take their texture from the image around the face, unwrapped outward, so hair and the area around the head move
with it. Hidden parts take the texture of their mirror triangle when that one was seen better in the source.
The far background stays where it was, with the old head area inpainted (`cv2.inpaint`), and the rotated head is
drawn on top, far triangles first, back faces culled, the edge feathered. One triangle-index raster and one
`cv2.remap` per render (piecewise-affine mapping).

Coordinates: image pixels, x right, y down, z away from the camera (orthographic). A head-frame point Q shows at
`scale * R @ Q + t`; a render with offset R_off puts it at `scale * R_off @ R @ (Q - Qc) + scale * R @ Qc + t`
(rotation about the head centre Qc), so its label is `R_off @ R` (gazenet_app.core.geometry convention).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import cv2
import numpy as np

from gazenet_app.training.facemesh import MeshTopology, five_points, mesh_topology

__all__ = [
    "RING_SHAPE",
    "HeadModel",
    "build_head",
    "rasterize",
    "render_mesh",
    "render_head",
    "inpaint_background",
]

#: Rings behind the face outline: (depth behind the outline vertex along the source view, canonical units ~cm;
#: radius in the source image as a multiple of the outline's radius about its centre).
RING_SHAPE: Tuple[Tuple[float, float], ...] = (
    (1.5, 1.10),
    (4.5, 1.22),
    (8.0, 1.34),
    (11.0, 1.45),
)
#: Ring bands from this one outward take a blurred texture where the turn stretches them more than
#: BLUR_STRETCH x in area: a blurred band reads as the smooth side of a head instead of streaks.
BLUR_FROM_RING = 1
BLUR_STRETCH = 3.0
#: Blur (sigma, as a fraction of the image side) of that texture.
BLUR_SIGMA = 0.02
#: Rotation centre behind the face (canonical units, head frame): about the middle of the head.
CENTER_DEPTH = 3.0


@dataclass
class HeadModel:
    """A head ready to render: head-frame points, source texture coords, oriented triangles, mirror map."""

    points: np.ndarray        # (N,3) head frame (canonical units)
    texcoords: np.ndarray     # (N,2) source image pixels
    triangles: np.ndarray     # (M,3) outward-oriented
    mirror: np.ndarray        # (N,) mirror vertex of each point
    rotation: np.ndarray      # source head rotation R
    scale: float
    translation: np.ndarray
    center: np.ndarray        # rotation centre Qc (head frame)
    num_face: int             # points [0, num_face) are the face mesh (468 + hole centres)
    outer_ring: np.ndarray    # indices of the outermost ring (source area replaced by the background)
    tri_blur: np.ndarray      # (M,) triangles textured from the blurred copy (rings beyond the first)

    def project(self, R_offset: np.ndarray) -> np.ndarray:
        """Image positions (N,3) of all points after rotating the head by R_offset about its centre."""
        Rs, s, t = self.rotation, self.scale, self.translation
        return s * (self.points - self.center) @ (R_offset @ Rs).T + (s * Rs @ self.center + t)


def _orient(points: np.ndarray, tris: np.ndarray, inside: np.ndarray) -> np.ndarray:
    a, b, c = points[tris[:, 0]], points[tris[:, 1]], points[tris[:, 2]]
    n = np.cross(b - a, c - a)
    flip = (((a + b + c) / 3.0 - inside) * n).sum(axis=1) < 0
    out = tris.copy()
    out[flip, 1], out[flip, 2] = tris[flip, 2], tris[flip, 1]
    return out


def build_head(vertices: np.ndarray, rotation: np.ndarray, scale: float, translation: np.ndarray,
               topology: Optional[MeshTopology] = None) -> HeadModel:
    """The renderable head of a fitted face (vertices 468x3 in image pixels, `vertices ~ scale*R@P + t`)."""
    topo = topology or mesh_topology()
    R = np.asarray(rotation, dtype=np.float64)
    t = np.asarray(translation, dtype=np.float64)
    V = np.asarray(vertices, dtype=np.float64)[:468]
    Q = topo.complete((V - t) @ R / scale)                      # head frame
    tex = topo.complete(V[:, :2])
    outline = topo.outline
    O = Q[outline]
    yc = float(O[:, 1].mean())
    center = np.array([0.0, yc, CENTER_DEPTH])
    # Rings: in the source view each ring lies where its texture is (the image around the face, unwrapped
    # outward), pushed back in depth, so the unrotated render reproduces the source and turned renders show a
    # head of plausible depth (nose to the outermost ring ~ 21 units).
    V_out = V[outline]
    tex_c = V_out[:, :2].mean(axis=0)
    tex_u = V_out[:, :2] - tex_c
    pts, tcs = [Q], [tex]
    n_face = len(Q)
    ring_idx = [outline]
    for k, (d, gt) in enumerate(RING_SHAPE):
        xy = tex_c + tex_u * gt
        cam = np.column_stack([xy, V_out[:, 2] + d * scale])
        pts.append((cam - t) @ R / scale)
        tcs.append(xy)
        ring_idx.append(n_face + k * len(outline) + np.arange(len(outline)))
    points = np.concatenate(pts)
    texcoords = np.concatenate(tcs)
    quads, blur = [], []
    n = len(outline)
    for k, (a_ring, b_ring) in enumerate(zip(ring_idx[:-1], ring_idx[1:])):
        for i in range(n):
            j = (i + 1) % n
            quads += [(a_ring[i], a_ring[j], b_ring[i]), (a_ring[j], b_ring[j], b_ring[i])]
            blur += [k >= BLUR_FROM_RING] * 2
    tris = np.concatenate([topo.triangles, np.asarray(quads, dtype=np.int64)])
    tri_blur = np.concatenate([np.zeros(len(topo.triangles), bool), np.asarray(blur, dtype=bool)])
    tris = _orient(points, tris, center)
    # mirror map: face mesh from the topology, ring k vertex i -> ring k vertex of mirror(outline[i])
    pos = {int(v): i for i, v in enumerate(outline)}
    ring_mirror = np.array([pos[int(topo.mirror[v])] for v in outline])
    mirror = [topo.mirror] + [n_face + k * n + ring_mirror for k in range(len(RING_SHAPE))]
    return HeadModel(points, texcoords, tris, np.concatenate(mirror), R, float(scale), t, center, n_face,
                     ring_idx[-1], tri_blur)


def rasterize(tri2d: np.ndarray, order: np.ndarray, shape: Tuple[int, int]) -> np.ndarray:
    """Triangle-index image (-1 = empty) of 2D triangles (M,3,2), drawn in `order` (later wins)."""
    idx = np.full(shape, -1, dtype=np.int32)
    pts = np.round(tri2d * 16.0).astype(np.int32)
    for k in order:
        cv2.fillConvexPoly(idx, pts[k], int(k), lineType=cv2.LINE_8, shift=4)
    return idx


def _affines(dst: np.ndarray, src: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Per-triangle 2x3 maps dst pixel -> src pixel (closed form), and which triangles are not degenerate."""
    P = np.stack([dst[:, 1] - dst[:, 0], dst[:, 2] - dst[:, 0]], axis=2)     # (M,2,2) columns = edges
    Qm = np.stack([src[:, 1] - src[:, 0], src[:, 2] - src[:, 0]], axis=2)
    det = P[:, 0, 0] * P[:, 1, 1] - P[:, 0, 1] * P[:, 1, 0]
    ok = np.abs(det) > 1e-3
    d = np.where(ok, det, 1.0)
    inv = np.stack([np.stack([P[:, 1, 1], -P[:, 0, 1]], 1), np.stack([-P[:, 1, 0], P[:, 0, 0]], 1)], 1) / d[:, None, None]
    B = Qm @ inv                                                             # (M,2,2)
    c = src[:, 0] - np.einsum("mij,mj->mi", B, dst[:, 0])
    return np.concatenate([B, c[:, :, None]], axis=2), ok


def render_mesh(texture: np.ndarray, verts: np.ndarray, texcoords: np.ndarray, triangles: np.ndarray,
                tri_texcoords: Optional[np.ndarray] = None, out_shape: Optional[Tuple[int, int]] = None,
                cull: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """Render a textured mesh orthographically: (image, coverage mask in [0,1]).

    verts: (N,3) target pixels (z away from the camera); texcoords: (N,2) texture pixels; triangles oriented
    outward, so a face toward the camera has a normal with z < 0 (the others are culled when `cull`).
    `tri_texcoords` (M,3,2) overrides per-triangle texture coordinates (mirrored texture).
    """
    h, w = out_shape or texture.shape[:2]
    tri3 = verts[triangles]                                    # (M,3,3)
    n_z = np.cross(tri3[:, 1] - tri3[:, 0], tri3[:, 2] - tri3[:, 0])[:, 2]
    keep = n_z < 0 if cull else np.ones(len(triangles), bool)
    tri_tex = texcoords[triangles] if tri_texcoords is None else tri_texcoords
    A, ok = _affines(tri3[:, :, :2], tri_tex)
    keep &= ok
    depth = tri3[:, :, 2].mean(axis=1)
    cand = np.flatnonzero(keep)
    order = cand[np.argsort(-depth[cand], kind="stable")]        # far first
    idx = rasterize(tri3[:, :, :2], order, (h, w))
    mask = idx >= 0
    ys, xs = np.nonzero(mask)
    Ak = A[idx[ys, xs]]
    mx = np.full((h, w), -1.0, np.float32)
    my = np.full((h, w), -1.0, np.float32)
    mx[ys, xs] = Ak[:, 0, 0] * xs + Ak[:, 0, 1] * ys + Ak[:, 0, 2]
    my[ys, xs] = Ak[:, 1, 0] * xs + Ak[:, 1, 1] * ys + Ak[:, 1, 2]
    out = cv2.remap(texture, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out, mask.astype(np.float32)


def inpaint_background(image: np.ndarray, head: HeadModel, radius: int = 3) -> np.ndarray:
    """The source image with the head area (inside its outermost texture ring) inpainted."""
    mask = np.zeros(image.shape[:2], np.uint8)
    poly = np.round(head.texcoords[head.outer_ring] * 16).astype(np.int32)
    cv2.fillPoly(mask, [poly], 255, lineType=cv2.LINE_8, shift=4)
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    small = max(1, image.shape[0] // 64)
    if small > 1:  # inpaint at a lower resolution (it is background), then upsample into the hole
        sm = cv2.resize(image, None, fx=1 / small, fy=1 / small, interpolation=cv2.INTER_AREA)
        mm = cv2.resize(mask, (sm.shape[1], sm.shape[0]), interpolation=cv2.INTER_NEAREST)
        mm = cv2.dilate(mm, np.ones((3, 3), np.uint8))
        filled = cv2.resize(cv2.inpaint(sm, mm, radius, cv2.INPAINT_TELEA), (image.shape[1], image.shape[0]),
                            interpolation=cv2.INTER_LINEAR)
    else:
        filled = cv2.inpaint(image, mask, radius, cv2.INPAINT_TELEA)
    out = image.copy()
    out[mask > 0] = filled[mask > 0]
    return out


def _area(tri2d: np.ndarray) -> np.ndarray:
    """Unsigned areas of 2D triangles (M,3,2)."""
    e1, e2 = tri2d[:, 1] - tri2d[:, 0], tri2d[:, 2] - tri2d[:, 0]
    return 0.5 * np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])


def _facing(points: np.ndarray, triangles: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Cosine between each triangle's normal and the direction toward the camera under rotation R."""
    tri = (points @ R.T)[triangles]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-12
    return -n[:, 2]


def render_head(image: np.ndarray, head: HeadModel, R_offset: np.ndarray, background: Optional[np.ndarray] = None,
                mirror_texture: bool = True, feather: bool = True):
    """Render the head rotated by R_offset: (rgb, five landmarks 5x2, label rotation R_offset @ R_source)."""
    verts = head.project(R_offset)
    tri_tex = head.texcoords[head.triangles]
    if mirror_texture:
        # A triangle the turn exposes much more than the source showed it takes its mirror twin's texture
        # when the twin was seen clearly better in the source (300W-LP's symmetric fill of hidden cheeks).
        f_self = _facing(head.points, head.triangles, head.rotation)
        f_target = _facing(head.points, head.triangles, R_offset @ head.rotation)
        mirror_tris = head.mirror[head.triangles]
        f_mirror = -_facing(head.points, mirror_tris, head.rotation)  # reflected vertex order flips the sign
        use = (f_target > f_self + 0.25) & (f_mirror > f_self + 0.3) & (f_self < 0.3)
        tri_tex = tri_tex.copy()
        tri_tex[use] = head.texcoords[mirror_tris[use]]
    texture = image
    blur = head.tri_blur & (_area(verts[head.triangles][:, :, :2]) > BLUR_STRETCH * _area(tri_tex))
    if blur.any():  # atlas: [image | blurred image]; stretched ring bands read from the right half
        sigma = BLUR_SIGMA * max(image.shape[:2])
        texture = np.concatenate([image, cv2.GaussianBlur(image, (0, 0), sigma)], axis=1)
        tri_tex = tri_tex.copy()
        tri_tex[blur, :, 0] += image.shape[1]
    rgb, mask = render_mesh(texture, verts, head.texcoords, head.triangles, tri_texcoords=tri_tex,
                            out_shape=image.shape[:2])
    bg = inpaint_background(image, head) if background is None else background
    if feather:
        mask = mask * cv2.GaussianBlur(mask, (3, 3), 0.8)  # soften the head's edge, inside it only
    a = mask[..., None]
    out = np.clip(rgb * a + bg * (1.0 - a), 0, 255).astype(np.uint8)
    lm = five_points(verts[: head.num_face])[:, :2]
    return out, lm, R_offset @ head.rotation
