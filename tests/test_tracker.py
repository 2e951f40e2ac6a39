"""The tracking step (fusion, proposal selection) and the Tracker on a video."""

import os
import shutil

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spm_jax import config_file
from spm_jax import models
from spm_jax.tracking import Tracker, make_track_fns
from spm_jax.tracking import step as step_ops

spm_alexnet = config_file.load_module('spm_alexnet')


def test_fusion_matches_equation_2_by_hand():
  uc = jnp.array([0.8, 0.2])
  uf = jnp.array([0.4, 0.6])
  bc = jnp.array([[10.0, 20.0, 30.0, 40.0], [0.0, 0.0, 10.0, 10.0]])
  bf = jnp.array([[14.0, 16.0, 26.0, 44.0], [4.0, 8.0, 2.0, 6.0]])
  u, b = step_ops.fuse(uc, uf, bc, bf, score_weight=0.5, box_weight=3.0)
  # u = 0.5 * uc + 0.5 * uf.
  np.testing.assert_allclose(u, [0.6, 0.4], rtol=1e-6)
  # Box 0: weights 0.8 / 2.0 = 0.4 and 1.2 / 2.0 = 0.6.
  np.testing.assert_allclose(b[0], [0.4 * 10 + 0.6 * 14, 0.4 * 20 + 0.6 * 16,
                                    0.4 * 30 + 0.6 * 26, 0.4 * 40 + 0.6 * 44], rtol=1e-6)
  # Box 1: weights 0.2 / 2.0 = 0.1 and 1.8 / 2.0 = 0.9.
  np.testing.assert_allclose(b[1], [3.6, 7.2, 2.8, 6.4], rtol=1e-6)


def test_cosine_window_peaks_at_centre():
  w = step_ops.cosine_window(jnp.array([[135.5, 135.5], [63.5, 135.5], [0.0, 0.0],
                                        [135.5 + 8 * 4.5, 135.5]]), 19, 8, 63.5)
  np.testing.assert_allclose(w[:3], [1.0, 0.0, 0.0], atol=1e-6)
  np.testing.assert_allclose(w[3], np.hanning(37)[27], rtol=1e-5)  # a half-cell position


def test_size_change_penalty_matches_float64_by_hand():
  prev = np.array([40.0, 20.0])
  sizes = np.array([[40.0, 20.0], [60.0, 30.0], [20.0, 40.0], [30.0, 18.0]])
  k = 0.16

  def side(w, h):  # context side with p = (w + h) / 2
    p = (w + h) / 2.0
    return np.sqrt((w + p) * (h + p))

  want = []
  for w, h in sizes:
    s = side(w, h) / side(*prev)
    r = (w / h) / (prev[0] / prev[1])
    want.append(np.exp(-(max(r, 1 / r) * max(s, 1 / s) - 1.0) * k))
  got = step_ops.size_change_penalty(jnp.asarray(sizes, jnp.float32),
                                     jnp.asarray(prev, jnp.float32), k)
  np.testing.assert_allclose(got, want, rtol=1e-6)
  # Hand values: unchanged -> 1; 1.5x both sides -> exp(-0.5 k); ratio 2 -> 1/2 with the
  # same area but the context side sqrt(50 * 70) / sqrt(70 * 50) = 1 -> exp(-3 k).
  np.testing.assert_allclose(got[:3], [1.0, np.exp(-0.08), np.exp(-0.48)], rtol=1e-6)
  np.testing.assert_array_equal(step_ops.size_change_penalty(
      jnp.asarray(sizes, jnp.float32), jnp.asarray(prev, jnp.float32), 0.0), np.ones(4))


def test_size_change_penalty_steers_the_step():
  """The step picks argmax(penalty x fused score) (window off), recomputed in NumPy."""
  config = spm_alexnet.get_config('runlocal')
  config.tracking.min_score = 0.0
  config.tracking.window_influence = 0.0
  variables = models.init_variables(config, jax.random.key(0))
  frames, gt = moving_square_video(6, seed=4)
  picks = {}
  for k in (0.0, 2.0):
    config.tracking.penalty_k = k
    tracker = Tracker(config, variables, fns=make_track_fns(config))
    tracker.init(frames[0], gt[0])
    picks[k] = []
    for frame in frames[1:]:
      prev = np.asarray(tracker._state.size, np.float64)
      tracker.update(frame)
      out = {key: np.asarray(v, np.float64) for key, v in tracker.last_outputs.items()}
      uc, uf = out['cm_scores'], out['fm_scores']
      wc = uc / (3.0 * uf + uc)  # eq. (2), W_box 3 (x, y, w, h is linear in the boxes)
      fused = wc[:, None] * out['proposals'] + (1 - wc[:, None]) * out['refined']
      pen = np.ones(len(uc))
      for i, (w, h) in enumerate(fused[:, 2:]):
        side = lambda a, b: np.sqrt((a + (a + b) / 2) * (b + (a + b) / 2))
        sc = side(w, h) / side(*prev)
        rc = (w / h) / (prev[0] / prev[1])
        pen[i] = np.exp(-(max(sc, 1 / sc) * max(rc, 1 / rc) - 1) * k)
      score = np.where(out['valid'], pen * (0.5 * uc + 0.5 * uf), -np.inf)
      # The step's pick is a candidate of (float32-) maximal score: a random model
      # has near-ties between same-sized anchors, which float64 may order otherwise.
      match = np.all(np.isclose(fused, out['estimate'], rtol=1e-4, atol=1e-3), axis=1)
      assert match.any(), (out['estimate'], fused)
      best = int(np.flatnonzero(match)[np.argmax(score[match])])
      assert score[best] >= score.max() - 1e-6
      chosen = int(out['chosen'])  # the step's own index of its pick
      assert match[chosen] and score[chosen] >= score.max() - 1e-6
      picks[k].append(best)
  assert picks[0.0] != picks[2.0]  # the penalty changed at least one choice


def test_size_scale_scales_the_chosen_size_before_the_update():
  """``tracking.size_scale`` s: same choice, estimate w, h times s, state by hand.

  The new size is ``(1 - lr) prev + lr s wh`` with ``lr = size_lr x score``
  (no penalty in ``runlocal``), ``wh`` the unscaled run's estimate.
  """
  config = spm_alexnet.get_config('runlocal')
  config.tracking.min_score = 0.0
  variables = models.init_variables(config, jax.random.key(0))
  frames, gt = moving_square_video(2, seed=5)
  out = {}
  for s in (1.0, 0.9):
    config.tracking.size_scale = s
    tracker = Tracker(config, variables, fns=make_track_fns(config))
    tracker.init(frames[0], gt[0])
    _, score = tracker.update(frames[1])
    size = np.asarray(tracker._state.size, np.float64)  # the box before the frame clips it
    out[s] = (size, float(score), np.asarray(tracker.last_outputs['estimate'], np.float64))
  (size1, score1, est1), (size9, score9, est9) = out[1.0], out[0.9]
  assert score9 == score1
  centre = lambda b: b[:2] + b[2:] / 2
  np.testing.assert_allclose(centre(est9), centre(est1), atol=1e-3)
  np.testing.assert_allclose(est9[2:], 0.9 * est1[2:], rtol=1e-5)
  lr = config.tracking.size_lr * score1
  expected = (1 - lr) * gt[0, 2:] + lr * 0.9 * est1[2:]
  np.testing.assert_allclose(size9, expected, rtol=1e-4)
  np.testing.assert_allclose(size1, (1 - lr) * gt[0, 2:] + lr * est1[2:], rtol=1e-4)


def test_select_proposals_near_candidate_then_nms():
  config = spm_alexnet.get_config().tracking
  config.num_candidates = 3
  config.pre_nms_top_n = 6
  boxes = jnp.array([
      [100, 100, 140, 140],  # 0: near the previous box, suppressed by the near box 1
      [101, 100, 141, 140],  # 1: near (IoU .95), the best near score -> first slot
      [10, 10, 50, 50],  # 2: best score, far away
      [12, 10, 52, 50],  # 3: suppressed by 2
      [200, 200, 240, 240],  # 4: kept
      [0, 200, 40, 240],  # 5: below 0.1 x max -> filtered
  ], jnp.float32)
  scores = jnp.array([0.5, 0.6, 0.9, 0.85, 0.3, 0.05])
  prev = jnp.array([100, 100, 140, 140], jnp.float32)
  idx, valid = step_ops.select_proposals(boxes, scores, prev, config)
  assert list(np.asarray(idx)) == [1, 2, 4] and np.all(valid)
  # No near candidate: all slots from NMS, padded and masked.
  far = jnp.array([300, 300, 320, 320], jnp.float32)
  config.num_candidates = 5
  idx, valid = step_ops.select_proposals(boxes, scores, far, config)
  assert list(np.asarray(idx)[np.asarray(valid)]) == [2, 1, 4]
  assert list(np.asarray(valid)) == [True, True, True, False, False]


def moving_square_video(num_frames=100, size=(240, 320), seed=0):
  """A textured square moving (and resizing) over noise; returns frames, boxes."""
  rng = np.random.default_rng(seed)
  h, w = size
  texture = rng.integers(0, 255, (96, 96, 3), dtype=np.uint8)
  frames, boxes = [], []
  for t in range(num_frames):
    frame = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    side_w = int(30 + 15 * np.sin(t / 9.0))
    side_h = int(34 + 12 * np.cos(t / 7.0))
    x = int(40 + 200 * (0.5 + 0.5 * np.sin(t / 15.0)) * (w - side_w - 40) / w)
    y = int(30 + 0.6 * (h - side_h - 60) * (0.5 + 0.5 * np.cos(t / 11.0)))
    import cv2
    frame[y:y + side_h, x:x + side_w] = cv2.resize(texture, (side_w, side_h))
    frames.append(frame)
    boxes.append((x, y, side_w, side_h))
  return frames, np.asarray(boxes, np.float64)


@pytest.fixture(scope='module')
def tiny_tracker():
  config = spm_alexnet.get_config('runlocal')
  variables = models.init_variables(config, jax.random.key(0))
  return Tracker(config, variables)


@pytest.mark.parametrize('variant', ['series_parallel', 'series', 'cm_only'])
@pytest.mark.parametrize('procedure', ['project', 'release'])
def test_tracker_boxes_finite_and_in_frame(variant, procedure):
  if procedure == 'release' and variant != 'series_parallel':
    pytest.skip('the release clamp is the same for every variant')
  config = spm_alexnet.get_config(f'variant={variant},runlocal,procedure={procedure}')
  tracker = Tracker(config, models.init_variables(config, jax.random.key(0)))
  frames, gt = moving_square_video(20 if variant != 'series_parallel' else 100)
  tracker.init(frames[0], gt[0])
  h, w = frames[0].shape[:2]
  for frame in frames[1:]:
    box, score = tracker.update(frame)
    assert box.shape == (4,) and np.all(np.isfinite(box)) and np.isfinite(score)
    assert box[2] > 0 and box[3] > 0
    if procedure == 'project':  # the box clipped to the frame
      assert box[0] >= 0 and box[1] >= 0
      assert box[0] + box[2] <= w + 1e-3 and box[1] + box[3] <= h + 1e-3
    else:  # the release: sides >= 10, centre in [0, W - w / 2] x [0, H - h / 2]
      assert box[2] >= 10 - 1e-4 and box[3] >= 10 - 1e-4
      cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
      assert -1e-3 <= cx <= max(w - box[2] / 2, 0) + 1e-3
      assert -1e-3 <= cy <= max(h - box[3] / 2, 0) + 1e-3
  out = tracker.last_outputs
  assert out['proposals'].shape == (9, 4) and out['fm_scores'].shape == (9,)


def test_no_recompilation_over_a_video(tiny_tracker):
  frames, gt = moving_square_video(100, seed=1)
  tracker = tiny_tracker
  tracker.init(frames[0], gt[0])
  tracker.update(frames[1])
  size = tracker._track_fn._cache_size()
  # New frame content, box sizes that change, a frame of another size, re-init.
  for frame in frames[2:]:
    tracker.update(frame)
  tracker.update(np.zeros((100, 150, 3), np.uint8))
  tracker.init(frames[5], gt[5] * [1, 1, 1.5, 0.7])
  tracker.update(frames[6])
  assert tracker._track_fn._cache_size() == size
  assert tracker._template_fn._cache_size() == 1


def test_step_is_deterministic_and_pure():
  config = spm_alexnet.get_config('runlocal')
  variables = models.init_variables(config, jax.random.key(3))
  frames, gt = moving_square_video(3, seed=2)
  results = []
  for _ in range(2):
    t = Tracker(config, variables, fns=make_track_fns(config))
    t.init(frames[0], gt[0])
    results.append([t.update(f)[0] for f in frames[1:]])
  np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize('box, message', [
    ((10, 10, 0, 20), 'zero or negative size'),
    ((10, 10, 20, -3), 'zero or negative size'),
    ((400, 10, 20, 20), 'outside'),
    ((-50, -50, 20, 20), 'outside'),
    ((np.nan, 10, 20, 20), 'NaN'),
    ((10, 10, 20), '4 numbers'),
])
def test_bad_boxes_are_refused(tiny_tracker, box, message):
  frame = np.zeros((240, 320, 3), np.uint8)
  with pytest.raises(ValueError, match=message):
    tiny_tracker.init(frame, box)


@pytest.mark.parametrize('frame, message', [
    (np.zeros((240, 320, 3), np.float32), 'uint8'),
    (np.zeros((240, 320), np.uint8), r'\[H, W, 3\].*grayscale'),
    (np.zeros((240, 320, 4), np.uint8), r'\[H, W, 3\]'),
    ([[1, 2, 3]], 'NumPy array'),
])
def test_bad_frames_are_refused(tiny_tracker, frame, message):
  with pytest.raises(ValueError, match=message):
    tiny_tracker.init(frame, (10, 10, 20, 20))
  good = np.zeros((240, 320, 3), np.uint8)
  tiny_tracker.init(good, (10, 10, 20, 20))
  with pytest.raises(ValueError, match=message):
    tiny_tracker.update(frame)


def test_update_before_init_is_refused():
  config = spm_alexnet.get_config('runlocal')
  tracker = Tracker(config, models.init_variables(config, jax.random.key(0)))
  with pytest.raises(RuntimeError, match='before Tracker.init'):
    tracker.update(np.zeros((240, 320, 3), np.uint8))


def test_set_box_moves_the_search_region():
  """After set_box the tracker searches around the new box, keeping its template.

  The embedded procedural model sees the same textured patch at two places of
  a 640 x 480 frame, 400 px apart (farther than a search region reaches):
  initialised on the left copy it stays there, moved by set_box onto the right
  copy it follows that one.
  """
  rng = np.random.default_rng(0)
  patch = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
  frame = np.full((480, 640, 3), 128, np.uint8)
  frame[200:240, 100:140] = patch
  frame[200:240, 500:540] = patch
  left, right = (100, 200, 40, 40), (500, 200, 40, 40)
  tracker = Tracker.pretrained('procedural')
  tracker.init(frame, left)
  stay, _ = tracker.update(frame)
  tracker.init(frame, left)
  tracker.set_box(right)
  moved, _ = tracker.update(frame)
  assert np.abs(stay[0] - 100) < 10 and np.abs(moved[0] - 500) < 10, (stay, moved)
  with pytest.raises(ValueError, match='zero or negative size'):
    tracker.set_box((10, 10, 0, 5))


def test_set_box_before_init_is_refused():
  config = spm_alexnet.get_config('runlocal')
  tracker = Tracker(config, models.init_variables(config, jax.random.key(0)))
  with pytest.raises(RuntimeError, match='before Tracker.init'):
    tracker.set_box((10, 10, 20, 20))


ASSETS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'spm_jax',
                      'assets')


def _leaves_equal(variables, path):
  """``variables`` hold exactly the arrays of the msgpack file at ``path``."""
  with open(path, 'rb') as f:
    want = flax.serialization.msgpack_restore(f.read())
  have_paths, have = zip(*jax.tree_util.tree_leaves_with_path(jax.device_get(variables)))
  want_paths, want = zip(*jax.tree_util.tree_leaves_with_path(want))
  return have_paths == want_paths and all(np.array_equal(a, b) for a, b in zip(have, want))


def test_pretrained_takes_an_embedded_name_or_a_folder(tmp_path):
  """A registered name, a folder (positional or ``directory=``) and no argument (the default)
  load the files of that folder; an unknown name is a one-line error listing the names."""
  procedural = os.path.join(ASSETS, 'procedural', 'variables.msgpack')
  by_name = Tracker.pretrained('procedural')
  assert by_name.trained and _leaves_equal(by_name.variables, procedural)
  copy = tmp_path / 'model'
  shutil.copytree(os.path.join(ASSETS, 'procedural'), copy)
  for tracker in (Tracker.pretrained(str(copy)), Tracker.pretrained(directory=copy)):
    assert tracker.trained and _leaves_equal(tracker.variables, procedural)
  assert _leaves_equal(Tracker.pretrained().variables,
                       os.path.join(ASSETS, 'default', 'variables.msgpack'))
  with pytest.raises(FileNotFoundError) as exc:
    Tracker.pretrained('no_such_model')
  msg = str(exc.value)
  assert '\n' not in msg and 'no_such_model' in msg and 'default, procedural' in msg, msg
  with pytest.raises(ValueError, match='not both'):
    Tracker.pretrained('procedural', directory=str(copy))
