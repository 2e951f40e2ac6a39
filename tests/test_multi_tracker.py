"""MultiTracker: per-slot equality with Tracker, masks, no recompilation, errors."""

import jax
import numpy as np
import pytest

from spm_jax import config_file
from spm_jax import models
from spm_jax.data import synthetic
from spm_jax.tracking import MultiTracker, Tracker, make_track_fns

spm_alexnet = config_file.load_module('spm_alexnet')


@pytest.fixture(scope='module')
def tiny():
  config = spm_alexnet.get_config('runlocal')
  return config, models.init_variables(config, jax.random.key(0))


@pytest.fixture(scope='module')
def streams():
  """Three generated videos: frames [T, H, W, 3] and the target's boxes [T, 4]."""
  seqs = [synthetic.generate_sequence(seed, num_frames=14) for seed in (1, 2, 3)]
  return [(s.frames, s.boxes[:, 0]) for s in seqs]


def test_slots_match_single_trackers(tiny, streams):
  config, variables = tiny
  fns = make_track_fns(config)
  multi = MultiTracker(config, variables, capacity=5)
  slots = [3, 0, 4]  # not in order, slots 1 and 2 stay free
  singles = []
  for slot, (frames, boxes) in zip(slots, streams):
    multi.add(slot, frames[0], boxes[0])
    single = Tracker(config, variables, fns=fns)
    single.init(frames[0], boxes[0])
    singles.append(single)
  num_frames = len(streams[0][0])
  for t in range(1, num_frames):
    if t == 8:  # a target leaves, a new one (stream 0 again, re-initialised) comes in
      multi.remove(3)
      multi.add(3, streams[0][0][t - 1], streams[0][1][t - 1])
      singles[0] = Tracker(config, variables, fns=fns)
      singles[0].init(streams[0][0][t - 1], streams[0][1][t - 1])
    results = multi.update({slot: frames[t] for slot, (frames, _) in zip(slots, streams)})
    assert sorted(results) == sorted(slots)
    for slot, single, (frames, _) in zip(slots, singles, streams):
      box, score = single.update(frames[t])
      np.testing.assert_allclose(results[slot][0], box, atol=1e-4, err_msg=f'slot {slot} frame {t}')
      assert results[slot][0].dtype == np.float64 and results[slot][0].shape == (4,)
      np.testing.assert_allclose(results[slot][1], score, atol=1e-5)


def test_slots_without_frame_keep_their_state(tiny, streams):
  config, variables = tiny
  multi = MultiTracker(config, variables, capacity=3)
  (fa, ba), (fb, bb) = streams[:2]
  multi.add(0, fa[0], ba[0])
  multi.add(2, fb[0], bb[0])
  center, size = multi._center[2].copy(), multi._size[2].copy()
  out = multi.update({0: fa[1]})
  assert list(out) == [0]
  np.testing.assert_array_equal(multi._center[2], center)
  np.testing.assert_array_equal(multi._size[2], size)
  # Slot 2 later continues exactly as a single tracker that skipped nothing.
  single = Tracker(config, variables)
  single.init(fb[0], bb[0])
  np.testing.assert_allclose(multi.update({2: fb[1]})[2][0], single.update(fb[1])[0], atol=1e-4)
  assert multi.update({}) == {}


def test_adding_and_removing_never_recompiles(tiny, streams):
  config, variables = tiny
  multi = MultiTracker(config, variables, capacity=4)
  (fa, ba), (fb, bb), (fc, bc) = streams
  multi.add(1, fa[0], ba[0])
  multi.update({1: fa[1]})
  sizes = (multi._step._cache_size(), multi._write._cache_size(), multi._template_fn._cache_size())
  assert sizes == (1, 1, 1)
  multi.add(0, fb[0], bb[0])
  multi.add(3, fc[0], bc[0] * [1, 1, 1.5, 0.7])  # another box size
  multi.update({0: fb[1], 1: fa[2], 3: fc[1]})
  multi.remove(1)
  multi.update({3: fc[2]})
  multi.update({0: np.zeros((100, 150, 3), np.uint8)})  # a frame of another size
  multi.add(1, fc[2], bc[2])
  multi.update({0: fb[2], 1: fc[3]})
  assert (multi._step._cache_size(), multi._write._cache_size(),
          multi._template_fn._cache_size()) == sizes
  assert multi.active_slots == [0, 1, 3] and multi.free_slots() == [2]


def test_capacity_comes_from_the_config(tiny):
  config, variables = tiny
  assert MultiTracker(config, variables).capacity == 64  # no tracking.capacity key: default
  config = spm_alexnet.get_config('runlocal')
  config.tracking.capacity = 3
  assert MultiTracker(config, variables).capacity == 3
  assert MultiTracker(config, variables, capacity=2).capacity == 2
  with pytest.raises(ValueError, match='capacity'):
    MultiTracker(config, variables, capacity=0)


@pytest.mark.parametrize('slot, message', [
    (4, r'out of range \[0, 4\)'),
    (-1, 'out of range'),
    (1.0, 'must be an int'),
    ('0', 'must be an int'),
    (True, 'must be an int'),
])
def test_bad_slots_are_refused(tiny, slot, message):
  config, variables = tiny
  multi = MultiTracker(config, variables, capacity=4)
  frame = np.zeros((240, 320, 3), np.uint8)
  with pytest.raises(ValueError, match=message):
    multi.add(slot, frame, (10, 10, 20, 20))
  with pytest.raises(ValueError, match=message):
    multi.remove(slot)
  with pytest.raises(ValueError, match=message):
    multi.update({slot: frame})


def test_free_and_used_slots_are_refused(tiny):
  config, variables = tiny
  multi = MultiTracker(config, variables, capacity=2)
  frame = np.zeros((240, 320, 3), np.uint8)
  with pytest.raises(ValueError, match='slot 1 is already free'):
    multi.remove(1)
  with pytest.raises(ValueError, match='slot 0 is free'):
    multi.update({0: frame})
  multi.add(0, frame, (10, 10, 20, 20))
  with pytest.raises(ValueError, match='slot 0 is already in use'):
    multi.add(0, frame, (10, 10, 20, 20))
  multi.remove(0)
  with pytest.raises(ValueError, match='already free'):
    multi.remove(0)


@pytest.mark.parametrize('box, message', [
    ((10, 10, 0, 20), 'zero or negative size'),
    ((400, 10, 20, 20), 'outside'),
    ((np.nan, 10, 20, 20), 'NaN'),
    ((10, 10, 20), '4 numbers'),
])
def test_bad_boxes_are_refused_like_tracker(tiny, box, message):
  config, variables = tiny
  multi = MultiTracker(config, variables, capacity=2)
  with pytest.raises(ValueError, match=message):
    multi.add(0, np.zeros((240, 320, 3), np.uint8), box)
  assert multi.active_slots == []


@pytest.mark.parametrize('frame, message', [
    (np.zeros((240, 320, 3), np.float32), 'uint8'),
    (np.zeros((240, 320), np.uint8), r'\[H, W, 3\].*grayscale'),
    (np.zeros((240, 320, 4), np.uint8), r'\[H, W, 3\]'),
    ([[1, 2, 3]], 'NumPy array'),
])
def test_bad_frames_are_refused_like_tracker(tiny, frame, message):
  config, variables = tiny
  multi = MultiTracker(config, variables, capacity=2)
  with pytest.raises(ValueError, match=message):
    multi.add(0, frame, (10, 10, 20, 20))
  multi.add(0, np.zeros((240, 320, 3), np.uint8), (10, 10, 20, 20))
  with pytest.raises(ValueError, match=message):
    multi.update({0: frame})
