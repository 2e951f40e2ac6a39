"""The three-type pair sampler of SPM-Tracker (paper sec. 4.2).

A training pair is a template object and a search image. The paper draws pairs
from videos and still images at 4 : 1 and of three types at 2 : 1 : 1:

* same-instance: the template's own object in another frame of its video, at
  most ``max_frame_gap`` frames away (a still image pairs with itself; the
  augmentations make the two crops differ, as in DaSiamRPN);
* same-category: another object of the template's category from another
  video / image of the same dataset (categories are per dataset);
* different-category: an object of another category from another video /
  image; we look for a search image holding no object of the template's
  category (up to ``max_tries`` draws) so that "negative for both stages" is
  true of the image.

Only visible frames (not occluded, not out of view) are drawn as template or
search frames. When a type cannot be drawn (a dataset with one category, one
video of a category) the pair falls back to same-instance, and
``PairSpec.pair_type`` reports the type actually drawn.
"""

import dataclasses

import numpy as np

SAME_INSTANCE, SAME_CATEGORY, DIFFERENT_CATEGORY = 0, 1, 2
PAIR_TYPES = ('same_instance', 'same_category', 'different_category')


@dataclasses.dataclass(frozen=True)
class PairSpec:
  """Which records and objects make one pair (no pixels).

  Attributes:
    source: index of the data source.
    pair_type: SAME_INSTANCE, SAME_CATEGORY or DIFFERENT_CATEGORY.
    template_record, search_record: record ids in that source.
    template_track, search_track: track ids (the records' ``track_ids``) of the
      template object and of the object the search crop is centred on.
    category: category id of the template object (within the source).
  """
  source: int
  pair_type: int
  template_record: int
  template_track: int
  search_record: int
  search_track: int
  category: int


class PairSampler:
  """Draws :class:`PairSpec` s from a list of :class:`spm_jax.data.index.SourceIndex`."""

  def __init__(self, indexes, video_weight=4.0, still_weight=1.0,
               pair_type_weights=(2.0, 1.0, 1.0), max_frame_gap=100, max_tries=10):
    """Args:
      indexes: list of SourceIndex (videos and/or stills).
      video_weight, still_weight: videos : stills (4 : 1 in the paper); when
        only one kind is present it gets every pair.
      pair_type_weights: same-instance : same-category : different-category.
      max_frame_gap: largest |search frame - template frame| of a video pair.
      max_tries: draws before a pair type falls back.
    """
    self.indexes = list(indexes)
    self.max_frame_gap = int(max_frame_gap)
    self.max_tries = int(max_tries)
    usable = [i for i, ix in enumerate(self.indexes) if ix.usable_tracks.size]
    self.by_kind = {k: [i for i in usable if self.indexes[i].kind == k] for k in ('video', 'still')}
    if not usable:
      raise ValueError('no data source has a track with a visible frame')
    w = np.asarray([video_weight if self.by_kind['video'] else 0.0,
                    still_weight if self.by_kind['still'] else 0.0], np.float64)
    self.kind_p = w / w.sum()
    t = np.asarray(pair_type_weights, np.float64)
    self.type_p = t / t.sum()

  def _visible_frame(self, ix, track, rng, near=None):
    """A record of ``track`` at a visible frame (within the gap of frame ``near``)."""
    ok = ix.track_visible[track]
    if near is not None:
      ok = ok & (np.abs(ix.track_frames[track] - near) <= self.max_frame_gap)
    choices = np.flatnonzero(ok)
    j = choices[rng.integers(choices.size)]
    return int(ix.track_records[track][j]), int(ix.track_frames[track][j])

  def _other_video_track(self, ix, rng, template_track, same_category):
    """A usable track of (another) category in another video, or None."""
    cat, video = ix.track_category[template_track], ix.track_video[template_track]
    for _ in range(self.max_tries):
      if same_category:
        pool = ix.category_tracks[int(cat)]
      else:
        pool = ix.usable_tracks
      k = int(pool[rng.integers(pool.size)])
      if ix.track_video[k] == video:
        continue
      if not same_category and ix.track_category[k] == cat:
        continue
      yield k

  def sample(self, rng):
    """Draws one pair with ``rng`` (a numpy Generator) -> :class:`PairSpec`."""
    kind = ('video', 'still')[rng.choice(2, p=self.kind_p)]
    sources = self.by_kind[kind]
    s = sources[rng.integers(len(sources))]
    ix = self.indexes[s]
    pair_type = int(rng.choice(3, p=self.type_p))
    tt = int(ix.usable_tracks[rng.integers(ix.usable_tracks.size)])
    t_rec, t_frame = self._visible_frame(ix, tt, rng)
    cat = int(ix.track_category[tt])
    search = None
    if pair_type == SAME_CATEGORY:
      for k in self._other_video_track(ix, rng, tt, same_category=True):
        search = (k, self._visible_frame(ix, k, rng)[0])
        break
    elif pair_type == DIFFERENT_CATEGORY:
      for k in self._other_video_track(ix, rng, tt, same_category=False):
        search = (k, self._visible_frame(ix, k, rng)[0])
        if cat not in ix.record_categories[search[1]]:
          break
    if search is None:
      pair_type = SAME_INSTANCE
      search = (tt, self._visible_frame(ix, tt, rng, near=t_frame)[0])
    k, s_rec = search
    return PairSpec(source=s, pair_type=pair_type, template_record=t_rec,
                    template_track=int(ix.track_id[tt]), search_record=s_rec,
                    search_track=int(ix.track_id[k]), category=cat)
