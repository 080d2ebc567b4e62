"""The face-profiling renderer: a small synthetic mesh, and rotation composition on a posed canonical head."""

import numpy as np
import pytest

from gazenet_app.core.geometry import euler_to_matrix, matrix_to_euler
from gazenet_app.training.render import render_mesh


def _texture(size=64):
    y, x = np.mgrid[0:size, 0:size]
    return np.stack([x * 4 % 256, y * 4 % 256, (x + y) * 2 % 256], axis=-1).astype(np.uint8)


def _square(x0, y0, x1, y1, z=0.0):
    v = np.array([[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]], dtype=np.float64)
    # outward (toward the camera, -z) with y down: (b-a) x (c-a) has z < 0
    tris = np.array([[0, 1, 2], [0, 2, 3]])
    return v, tris


def test_render_small_mesh_identity_and_shift():
    tex = _texture()
    v, tris = _square(10, 10, 50, 50)
    tc = v[:, :2].copy()
    tris_f = tris if np.cross(v[1] - v[0], v[2] - v[0])[2] < 0 else tris[:, [0, 2, 1]]
    out, mask = render_mesh(tex, v, tc, tris_f)
    inside = mask[12:48, 12:48] > 0
    assert inside.all() and mask[:8].sum() == 0 and mask[:, 52:].sum() == 0
    assert np.abs(out[12:48, 12:48].astype(int) - tex[12:48, 12:48]).max() <= 1
    shifted = v + [5, 3, 0]
    out2, mask2 = render_mesh(tex, shifted, tc, tris_f)
    assert np.abs(out2[17:51, 15:53].astype(int) - tex[14:48, 10:48]).max() <= 1
    # back faces are culled; without culling they render
    _, mask3 = render_mesh(tex, v, tc, tris_f[:, [0, 2, 1]])
    assert mask3.sum() == 0
    _, mask4 = render_mesh(tex, v, tc, tris_f[:, [0, 2, 1]], cull=False)
    assert mask4.sum() > 0


def test_render_nearer_triangle_wins():
    tex = _texture()
    far, tris = _square(10, 10, 40, 40, z=5.0)
    near, _ = _square(20, 20, 50, 50, z=-5.0)
    tris_f = tris if np.cross(far[1] - far[0], far[2] - far[0])[2] < 0 else tris[:, [0, 2, 1]]
    verts = np.concatenate([far, near])
    tc = np.concatenate([np.full((4, 2), 5.0), np.full((4, 2), 60.0)])  # flat colours
    out, _ = render_mesh(tex, verts, tc, np.concatenate([tris_f, tris_f + 4]))
    assert (out[30, 30] == tex[60, 60]).all()     # overlap: the near square
    assert (out[15, 15] == tex[5, 5]).all()


@pytest.fixture(scope="module")
def posed_head():
    pytest.importorskip("mediapipe")
    from gazenet_app.training.facemesh import canonical_vertices
    from gazenet_app.training.render import build_head

    R_s = euler_to_matrix(12.0, -8.0, 5.0)
    s, t = 3.2, np.array([64.0, 60.0, 0.0])
    verts = s * canonical_vertices() @ R_s.T + t
    return build_head(verts, R_s, s, t), R_s, verts


@pytest.mark.parametrize("target", [(60.0, 10.0, -15.0), (-85.0, -20.0, 25.0), (0.0, 0.0, 0.0)])
def test_render_label_equals_rotation_it_was_made_with(posed_head, target):
    """R_target = R_offset @ R_source: the label, and the re-fitted rendered mesh, give the target pose."""
    from gazenet_app.training.teacher import fit_pose

    head, R_s, _ = posed_head
    R_off = euler_to_matrix(*target) @ R_s.T
    verts = head.project(R_off)[:468]
    np.testing.assert_allclose(fit_pose(verts).pose, target, atol=1e-6)
    rgb = np.full((128, 128, 3), 90, np.uint8)
    from gazenet_app.training.render import render_head

    _, lm, R_label = render_head(rgb, head, R_off)
    np.testing.assert_allclose(matrix_to_euler(R_label), target, atol=1e-6)
    assert lm.shape == (5, 2)
    # Euler angles do not add: the offset's angles are not target - source
    if target != (0.0, 0.0, 0.0):
        assert not np.allclose(matrix_to_euler(R_off), np.subtract(target, matrix_to_euler(R_s)), atol=0.5)


def test_identity_offset_reproduces_the_source(posed_head):
    from gazenet_app.training.render import render_head

    head, _, verts = posed_head
    rgb = _texture(128)
    out, lm, _ = render_head(rgb, head, np.eye(3), mirror_texture=True, feather=False)
    x0, y0 = verts[:, :2].min(0).astype(int) + 4
    x1, y1 = verts[:, :2].max(0).astype(int) - 4
    diff = np.abs(out[y0:y1, x0:x1].astype(int) - rgb[y0:y1, x0:x1])
    assert np.median(diff) <= 1 and diff.mean() < 4


def test_montage_png_is_palette_compressed_and_reads_back_close(tmp_path):
    """The docs montage is written as a 256-colour PNG that still looks like the input."""
    import cv2
    import numpy as np

    from gazenet_app.training.montage import _write_png

    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur(rng.integers(0, 255, (96, 160, 3), dtype=np.uint8), (9, 9), 3)
    out = tmp_path / "m.png"
    _write_png(out, img)
    back = cv2.cvtColor(cv2.imread(str(out)), cv2.COLOR_BGR2RGB)
    assert back.shape == img.shape
    assert np.abs(back.astype(int) - img.astype(int)).mean() < 6
