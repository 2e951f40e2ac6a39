"""RoI Align / crop-and-resize against pointwise NumPy float64 references.

The references below are written from the op definitions (torchvision's
``roi_align`` and TensorFlow's ``crop_and_resize``) as explicit loops over
boxes, output cells, samples and channels, with no separable shortcut, so they
also check that the separable matmul form equals the pointwise definition.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import test_util as jtu

from spm_jax.ops.roi_align import crop_and_resize, roi_align

H, W, C = 9, 11, 3  # small map for the loop references

# Jitted once per static configuration: far quicker than op-by-op dispatch.
_roi_align = jax.jit(roi_align, static_argnums=(2, 3, 4, 5))
_crop_and_resize = jax.jit(crop_and_resize, static_argnums=(2, 3))


# ---------------------------------------------------------------- references


def _bilinear_tv(plane, y, x):
  """torchvision's bilinear_interpolate on a [H, W] plane at (y, x)."""
  h, w = plane.shape
  if y < -1.0 or y > h or x < -1.0 or x > w:
    return 0.0
  y, x = max(y, 0.0), max(x, 0.0)
  y_low, x_low = int(y), int(x)
  if y_low >= h - 1:
    y_low = y_high = h - 1
    y = float(y_low)
  else:
    y_high = y_low + 1
  if x_low >= w - 1:
    x_low = x_high = w - 1
    x = float(x_low)
  else:
    x_high = x_low + 1
  ly, lx = y - y_low, x - x_low
  hy, hx = 1.0 - ly, 1.0 - lx
  return (hy * hx * plane[y_low, x_low] + hy * lx * plane[y_low, x_high] +
          ly * hx * plane[y_high, x_low] + ly * lx * plane[y_high, x_high])


def _roi_align_ref(features, boxes, output_size, spatial_scale, sampling_ratio, aligned):
  """[H, W, C], [K, 4] x1, y1, x2, y2 pixels -> [K, oh, ow, C] float64."""
  features = np.asarray(features, np.float64)
  oh, ow = output_size
  s = sampling_ratio
  offset = 0.5 if aligned else 0.0
  out = np.zeros((len(boxes), oh, ow, features.shape[2]))
  for k, (x1, y1, x2, y2) in enumerate(np.asarray(boxes, np.float64)):
    start_x, start_y = x1 * spatial_scale - offset, y1 * spatial_scale - offset
    roi_w = x2 * spatial_scale - offset - start_x
    roi_h = y2 * spatial_scale - offset - start_y
    if not aligned:
      roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
    bin_w, bin_h = roi_w / ow, roi_h / oh
    for ph in range(oh):
      for pw in range(ow):
        for c in range(features.shape[2]):
          acc = 0.0
          for iy in range(s):
            y = start_y + ph * bin_h + (iy + 0.5) * bin_h / s
            for ix in range(s):
              x = start_x + pw * bin_w + (ix + 0.5) * bin_w / s
              acc += _bilinear_tv(features[:, :, c], y, x)
          out[k, ph, pw, c] = acc / (s * s)
  return out


def _crop_and_resize_ref(features, boxes, output_size, spatial_scale):
  """TF crop_and_resize (extrapolation 0) with boxes in pixels, float64."""
  features = np.asarray(features, np.float64)
  h, w, ch = features.shape
  oh, ow = output_size
  out = np.zeros((len(boxes), oh, ow, ch))
  for k, box in enumerate(np.asarray(boxes, np.float64)):
    x1, y1, x2, y2 = box * spatial_scale
    for j in range(oh):
      in_y = y1 + j * (y2 - y1) / (oh - 1) if oh > 1 else 0.5 * (y1 + y2)
      if in_y < 0 or in_y > h - 1:
        continue
      top, bottom = math.floor(in_y), math.ceil(in_y)
      ly = in_y - top
      for i in range(ow):
        in_x = x1 + i * (x2 - x1) / (ow - 1) if ow > 1 else 0.5 * (x1 + x2)
        if in_x < 0 or in_x > w - 1:
          continue
        left, right = math.floor(in_x), math.ceil(in_x)
        lx = in_x - left
        for c in range(ch):
          t = features[top, left, c] + (features[top, right, c] - features[top, left, c]) * lx
          b = (features[bottom, left, c] +
               (features[bottom, right, c] - features[bottom, left, c]) * lx)
          out[k, j, i, c] = t + (b - t) * ly
  return out


def _inputs(seed, spatial_scale, k=6):
  """Random [H, W, C] features and [K, 4] x1, y1, x2, y2 boxes in pixels.

  Random boxes (large, partly outside, small) plus fixed ones given in feature
  pixels: entirely outside on either side, inside the [-1, 0] clamp band,
  smaller than one bin, straddling an edge, the whole map.
  """
  rng = np.random.default_rng(seed)
  features = rng.normal(size=(H, W, C)).astype(np.float32)
  cx = rng.uniform(-0.2, 1.2, k) * W
  cy = rng.uniform(-0.2, 1.2, k) * H
  bw = rng.uniform(0.2, 8.0, k)
  bh = rng.uniform(0.2, 8.0, k)
  rand = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)
  fixed = np.array([
      [-6.0, -5.0, -2.0, -1.5],             # entirely outside, top-left
      [W + 1.5, H + 1.2, W + 4.0, H + 5.0],  # entirely outside, bottom-right
      [-0.9, -0.8, -0.1, 3.3],              # in the clamp band
      [2.3, 3.1, 2.42, 3.17],               # smaller than one bin
      [-2.2, 4.1, 5.3, H + 2.4],            # straddles two edges
      [0.0, 0.0, W, H],                     # the whole map
  ])
  boxes = np.concatenate([rand, fixed]) / spatial_scale
  return features, boxes.astype(np.float32)


# ---------------------------------------------------------------- roi_align


@pytest.mark.parametrize('aligned, sampling_ratio, output_size, spatial_scale', [
    (True, 2, (6, 6), 1 / 8),
    (False, 2, (6, 6), 1 / 8),
    (True, 1, (3, 5), 1.0),
    (False, 1, (4, 2), 1 / 8),
    (True, 3, (2, 3), 1 / 8),
    (False, 3, (5, 4), 1.0),
    (True, 2, (1, 1), 1.0),
])
def test_roi_align_matches_reference(aligned, sampling_ratio, output_size, spatial_scale):
  for seed in range(3):
    features, boxes = _inputs(seed, spatial_scale)
    want = _roi_align_ref(features, boxes, output_size, spatial_scale, sampling_ratio,
                          aligned)
    got = _roi_align(features, boxes, output_size, spatial_scale, sampling_ratio, aligned)
    assert got.shape == (len(boxes), *output_size, C)
    assert got.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(got), want, rtol=0, atol=1e-5)


@pytest.mark.parametrize('aligned', [True, False])
def test_roi_align_matches_reference_float64(aligned):
  features, boxes = _inputs(7, 1 / 8)
  want = _roi_align_ref(features, boxes, (3, 4), 1 / 8, 2, aligned)
  with jax.enable_x64(True):
    got = _roi_align(features.astype(np.float64), boxes.astype(np.float64), (3, 4), 1 / 8, 2,
                    aligned)
    assert got.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(got), want, rtol=0, atol=1e-12)


def test_roi_align_ramp_by_hand():
  # F[y, x] = x + 10 y is linear, so bilinear samples are exact and the mean of
  # a bin's symmetric sample grid is F at the bin centre.
  ramp = (np.arange(4)[None, :] + 10.0 * np.arange(4)[:, None])[:, :, None]
  # aligned: pixels [0.5, 3.5) -> feature coords [0, 3); bin centres 0.5, 1.5, 2.5.
  got = _roi_align(ramp, np.array([[0.5, 0.5, 3.5, 3.5]]), (3, 3), 1.0, 2, True)
  centres = np.array([0.5, 1.5, 2.5])
  np.testing.assert_allclose(got[0, :, :, 0], centres[None, :] + 10 * centres[:, None],
                             atol=1e-5)
  # not aligned, box [1, 3) x [2, 4): bin centres x = 1.5, 2.5 and y = 2.5, 3.5, but
  # samples past y = 3 clamp to row 3: samples y = 3.25, 3.75 -> 3, mean 3.
  got = _roi_align(ramp, np.array([[1.0, 2.0, 3.0, 4.0]]), (2, 2), 1.0, 2, False)
  np.testing.assert_allclose(got[0, :, :, 0], [[26.5, 27.5], [31.5, 32.5]], atol=1e-5)
  # A box past x = W + 1 reads nothing; one sample in the clamp band [-1, 0) reads
  # column 0 and the other, x = 0.5, reads 0.5 (y samples 0.25, 0.75).
  got = _roi_align(ramp, np.array([[5.5, 0.0, 7.5, 1.0], [-1.0, 0.0, 1.0, 1.0]]), (1, 1), 1.0,
                  2, False)
  np.testing.assert_allclose(got[0, 0, 0, 0], 0.0, atol=1e-6)
  y = np.array([0.25, 0.75])
  np.testing.assert_allclose(got[1, 0, 0, 0], np.mean((0.0 + 0.5) / 2 + 10 * y), atol=1e-5)


def test_roi_align_rejects_adaptive_sampling():
  features, boxes = _inputs(0, 1.0)
  for bad in (0, -1, 2.0):
    with pytest.raises(ValueError):
      roi_align(features, boxes, sampling_ratio=bad)


# ---------------------------------------------------------------- crop_and_resize


@pytest.mark.parametrize('output_size, spatial_scale', [
    ((6, 6), 1 / 8), ((3, 5), 1.0), ((1, 4), 1 / 8), ((5, 1), 1.0), ((1, 1), 1 / 8),
])
def test_crop_and_resize_matches_reference(output_size, spatial_scale):
  for seed in range(3):
    features, boxes = _inputs(seed, spatial_scale)
    want = _crop_and_resize_ref(features, boxes, output_size, spatial_scale)
    got = _crop_and_resize(features, boxes, output_size, spatial_scale)
    assert got.shape == (len(boxes), *output_size, C)
    np.testing.assert_allclose(np.asarray(got), want, rtol=0, atol=1e-5)


def test_crop_and_resize_by_hand():
  ramp = (np.arange(4)[None, :] + 10.0 * np.arange(4)[:, None])[:, :, None]
  # Corner-aligned: the box [0, 3] x [0, 3] at 4 x 4 gives back the map itself.
  got = _crop_and_resize(ramp, np.array([[0.0, 0.0, 3.0, 3.0]]), (4, 4), 1.0)
  np.testing.assert_allclose(got[0], ramp, atol=1e-5)
  # Samples x = 2, 3, 4 and y = 1.5: the last column is outside [0, 3] -> 0.
  got = _crop_and_resize(ramp, np.array([[2.0, 1.5, 4.0, 1.5]]), (1, 3), 1.0)
  np.testing.assert_allclose(got[0, 0, :, 0], [17.0, 18.0, 0.0], atol=1e-5)


# ---------------------------------------------------------------- transforms


@pytest.mark.parametrize('op', ['roi_align', 'crop_and_resize'])
def test_jit_vmap_matches_loop(op):
  fn = {'roi_align': lambda f, b: roi_align(f, b, (3, 4), 1 / 8, 2, True),
        'crop_and_resize': lambda f, b: crop_and_resize(f, b, (3, 4), 1 / 8)}[op]
  items = [_inputs(seed, 1 / 8) for seed in range(3)]
  features = np.stack([f for f, _ in items])
  boxes = np.stack([b for _, b in items])
  got = jax.jit(jax.vmap(fn))(features, boxes)
  want = np.stack([jax.jit(fn)(f, b) for f, b in items])
  np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize('op, aligned', [
    ('roi_align', True), ('roi_align', False), ('crop_and_resize', None),
])
def test_gradients_match_finite_differences(op, aligned):
  with jax.enable_x64(True):
    features, boxes = _inputs(3, 1 / 8, k=3)
    # Shift the fixed boxes off integer coordinates: the whole-map box has samples
    # exactly on the crop_and_resize validity edges, where the op is discontinuous.
    boxes[3:] += 0.013 * 8
    features, boxes = jnp.asarray(features, jnp.float64), jnp.asarray(boxes, jnp.float64)
    if op == 'roi_align':
      fn = jax.jit(lambda f, b: roi_align(f, b, (3, 2), 1 / 8, 2, aligned))
    else:
      fn = jax.jit(lambda f, b: crop_and_resize(f, b, (3, 2), 1 / 8))
    jtu.check_grads(fn, (features, boxes), order=1, modes=('fwd', 'rev'), eps=1e-6,
                    atol=1e-6, rtol=1e-6)
    # Boxes that see the map get a non-zero gradient (not silently stopped).
    g = jax.grad(lambda b: jnp.sum(fn(features, b) ** 2))(boxes)
    assert np.abs(np.asarray(g[:3])).max() > 0


def test_no_retrace_on_new_values():
  traces = []

  @jax.jit
  def fn(features, boxes):
    traces.append(1)
    return roi_align(features, boxes), crop_and_resize(features, boxes)

  for seed in range(3):
    features, boxes = _inputs(seed, 1 / 8)
    jax.block_until_ready(fn(features, boxes))
  assert len(traces) == 1
