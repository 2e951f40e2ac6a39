"""Where a tracker's success comes from: keeping the target, and boxing it tightly.

Success AUC mixes two things: how often the tracker is on the target at all,
and how well its box fits when it is. These numbers take them apart (host-side
NumPy, float64):

* ``on_target``: the share of scored frames with IoU > ``on_target_iou``
  (0.3: the tracker is on the target, not on a distractor or background);
* ``iou_on_target``: the mean IoU over those frames (how tight the box is);
* ``size_error``: the median over those frames of the log size ratio
  ``log(sqrt(w h) / sqrt(w_gt h_gt))`` in ``num_bins`` stretches of the video
  (by relative position: frames ``1 .. N-1`` cut into equal parts, so 100-frame
  videos give frames 1-20, 21-40, 41-60, 61-80 and 81-99). A size regression
  with a bias drifts: its error grows from bin to bin.

Frame 0 (the given box) is never scored; frames whose ground truth is missing
(NaN rows) are skipped. All frames of all sequences are pooled, so a longer
video weighs more (the benchmarks of this project have equal lengths).
"""

import numpy as np

from spm_jax.evaluation import metrics


def frame_bins(num_frames, num_bins=5):
  """[num_frames] int: the stretch of the video each frame is in; -1 for frame 0.

  Frame ``i >= 1`` is in bin ``floor((i - 1) * num_bins / (num_frames - 1))``.
  """
  if num_frames < 2:
    return np.full((num_frames,), -1, dtype=np.int64)
  i = np.arange(num_frames)
  bins = ((i - 1) * num_bins) // (num_frames - 1)
  bins[0] = -1
  return bins


def box_statistics(pairs, on_target_iou=0.3, num_bins=5):
  """Pooled box statistics of one tracker on a benchmark.

  Args:
    pairs: iterable of ``(pred, gt)``, one per sequence, each ``[N, 4]``
      x, y, w, h in pixels (0-based top-left corner); ``gt`` rows with NaN
      are skipped.
    on_target_iou: IoU above which a frame counts as on the target.
    num_bins: stretches of the video for the size error.

  Returns:
    dict: 'on_target' (share of scored frames), 'iou_on_target' (mean IoU on
    those frames), 'size_error' ([num_bins] medians of the log size ratio on
    those frames; NaN for a bin without such frames), 'num_frames' (scored
    frames).
  """
  ious, log_ratios, bins = [], [], []
  for pred, gt in pairs:
    pred = np.asarray(pred, np.float64)
    gt = np.asarray(gt, np.float64)
    if pred.shape != gt.shape:
      raise ValueError(f'pred has shape {pred.shape} but gt has {gt.shape}')
    keep = metrics.valid_frames(gt)
    keep[:1] = False
    with np.errstate(invalid='ignore', divide='ignore'):
      ratio = 0.5 * np.log((pred[:, 2] * pred[:, 3]) / (gt[:, 2] * gt[:, 3]))
    ious.append(np.nan_to_num(metrics.iou(pred, gt), nan=0.0)[keep])
    log_ratios.append(ratio[keep])
    bins.append(frame_bins(len(gt), num_bins)[keep])
  if not sum(len(x) for x in ious):
    raise ValueError('no scored frames (every sequence has fewer than 2 valid frames)')
  iou, log_ratio, bin_of = (np.concatenate(x) for x in (ious, log_ratios, bins))
  on = iou > on_target_iou
  size_error = np.array([np.median(log_ratio[on & (bin_of == b)])
                         if np.any(on & (bin_of == b)) else np.nan
                         for b in range(num_bins)])
  return dict(on_target=float(on.mean()),
              iou_on_target=float(iou[on].mean()) if on.any() else float('nan'),
              size_error=size_error, num_frames=int(len(iou)))


def format_table(stats_by_name):
  """Plain-text table of ``box_statistics`` outputs, one row per name."""
  width = max([len(n) for n in stats_by_name] + [7])
  num_bins = max(len(s['size_error']) for s in stats_by_name.values())
  lines = [f'{"tracker":<{width}}  on target  IoU there  median log size error by stretch '
           f'of the video (1..{num_bins})']
  for name, s in stats_by_name.items():
    sizes = ' '.join(f'{e:+.3f}' for e in s['size_error'])
    lines.append(f'{name:<{width}}  {100 * s["on_target"]:8.1f} %  {s["iou_on_target"]:9.3f}  '
                 f'{sizes}')
  return '\n'.join(lines)
