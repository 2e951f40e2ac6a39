"""Host-side index of an image data source: tracks, their frames and categories.

The pair sampler needs, without decoding images, which records show which track
in which frame, whether it is visible, and the category of every object. One
pass over the data source collects this (it reads each record once; the image
bytes are read and dropped).
"""

import dataclasses

import numpy as np


@dataclasses.dataclass
class SourceIndex:
  """Index of one data source (a dataset of :mod:`spm_jax.data.features` examples).

  Attributes:
    kind: 'video' or 'still'.
    category_names: [C] class names; category ids index this list.
    track_video: [K] int32 video index of each track.
    track_id: [K] int32 track id within its video (the records' ``track_ids``).
    track_category: [K] int32 category id.
    track_records: K arrays [F_k] int64 record ids in frame order.
    track_frames: K arrays [F_k] int32 frame indices.
    track_visible: K arrays [F_k] bool.
    record_categories: R arrays of the category ids of each record's objects.
    usable_tracks: [K'] int64 tracks with at least one visible frame.
    category_tracks: category id -> [n] int64 usable tracks of that category.
  """
  kind: str
  category_names: list
  track_video: np.ndarray
  track_id: np.ndarray
  track_category: np.ndarray
  track_records: list
  track_frames: list
  track_visible: list
  record_categories: list
  usable_tracks: np.ndarray
  category_tracks: dict


def build_index(source, kind):
  """Scans ``source`` (random access, len() and [i]) into a :class:`SourceIndex`."""
  if kind not in ('video', 'still'):
    raise ValueError(f"kind must be 'video' or 'still', got {kind!r}")
  cat_ids, tracks, record_categories = {}, {}, []
  for r in range(len(source)):
    ex = source[r]
    vi, fi = int(ex['video_index']), int(ex['frame_index'])
    cats = []
    for tid, name, vis in zip(ex['track_ids'], ex['categories'], ex['visible']):
      name = name.decode() if isinstance(name, bytes) else str(name)
      c = cat_ids.setdefault(name, len(cat_ids))
      cats.append(c)
      tracks.setdefault((vi, int(tid)), (c, []))[1].append((fi, r, bool(vis)))
    record_categories.append(np.asarray(cats, np.int32))
  keys = sorted(tracks)
  track_records, track_frames, track_visible = [], [], []
  for k in keys:
    rows = sorted(tracks[k][1])
    track_frames.append(np.asarray([f for f, _, _ in rows], np.int32))
    track_records.append(np.asarray([r for _, r, _ in rows], np.int64))
    track_visible.append(np.asarray([v for _, _, v in rows], bool))
  track_category = np.asarray([tracks[k][0] for k in keys], np.int32)
  usable = np.asarray([i for i, v in enumerate(track_visible) if v.any()], np.int64)
  category_tracks = {}
  for i in usable:
    category_tracks.setdefault(int(track_category[i]), []).append(i)
  names = sorted(cat_ids, key=cat_ids.get)
  return SourceIndex(
      kind=kind, category_names=names,
      track_video=np.asarray([k[0] for k in keys], np.int32),
      track_id=np.asarray([k[1] for k in keys], np.int32),
      track_category=track_category, track_records=track_records, track_frames=track_frames,
      track_visible=track_visible, record_categories=record_categories, usable_tracks=usable,
      category_tracks={c: np.asarray(v, np.int64) for c, v in category_tracks.items()})
