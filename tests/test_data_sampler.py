"""The pair sampler draws the paper's ratios, bounded gaps and visible frames only."""

import numpy as np

from spm_jax.data import index, sampler


def _example(video, frame, objects):
  """objects: [(track_id, category, visible)]."""
  return {
      'video_index': video, 'frame_index': frame,
      'track_ids': np.asarray([o[0] for o in objects], np.int32),
      'categories': np.asarray([o[1].encode() for o in objects], object),
      'visible': np.asarray([o[2] for o in objects], bool),
      'boxes': np.zeros((len(objects), 4), np.float32),
  }


def _video_source():
  """12 videos x 30 frames; video v has a track of category v % 3, visible except
  frames 10..14; videos 0..3 also hold a second track of category 'dog'."""
  recs = []
  for v in range(12):
    for f in range(30):
      objs = [(0, f'c{v % 3}', not 10 <= f < 15)]
      if v < 4:
        objs.append((1, 'dog', True))
      recs.append(_example(v, f, objs))
  order = np.random.default_rng(0).permutation(len(recs))  # writing order != record order
  return [recs[i] for i in order]


def _still_source():
  return [_example(i, 0, [(0, f'c{i % 4}', True), (1, f'c{(i + 1) % 4}', True)]) for i in range(20)]


def test_ratios_gap_and_visibility():
  vids = _video_source()
  stills = _still_source()
  ix = [index.build_index(vids, 'video'), index.build_index(stills, 'still')]
  s = sampler.PairSampler(ix, max_frame_gap=5)
  rng = np.random.default_rng(1)
  n = 4000
  specs = [s.sample(rng) for _ in range(n)]
  kinds = np.asarray([p.source for p in specs])
  types = np.asarray([p.pair_type for p in specs])
  # Binomial bounds at 5 sigma.
  def check(count, p):
    assert abs(count - n * p) < 5 * np.sqrt(n * p * (1 - p)), (count, n * p)
  check((kinds == 0).sum(), 0.8)
  for t, p in enumerate((0.5, 0.25, 0.25)):
    check((types == t).sum(), p)
  for p in specs:
    src = vids if p.source == 0 else stills
    t, q = src[p.template_record], src[p.search_record]
    t_row = list(t['track_ids']).index(p.template_track)
    q_row = list(q['track_ids']).index(p.search_track)
    assert t['visible'][t_row] and q['visible'][q_row]
    t_cat = t['categories'][t_row]
    if p.pair_type == sampler.SAME_INSTANCE:
      assert q['video_index'] == t['video_index'] and p.search_track == p.template_track
      assert abs(int(q['frame_index']) - int(t['frame_index'])) <= 5
    else:
      assert q['video_index'] != t['video_index']
    if p.pair_type == sampler.SAME_CATEGORY:
      assert q['categories'][q_row] == t_cat
    if p.pair_type == sampler.DIFFERENT_CATEGORY:
      assert t_cat not in list(q['categories'])


def test_videos_only_and_fallback():
  # One category in one video: no same/different-category pair can be drawn.
  recs = [_example(0, f, [(0, 'x', True)]) for f in range(5)]
  s = sampler.PairSampler([index.build_index(recs, 'video')])
  rng = np.random.default_rng(0)
  assert all(s.sample(rng).pair_type == sampler.SAME_INSTANCE for _ in range(50))
