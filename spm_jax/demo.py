"""Tracks the target of a generated video and writes an annotated MP4.

  python -m spm_jax.demo [--out DIR] [--frames N] [--seed S]

Needs no download: the video comes from :mod:`spm_jax.data.synthetic`. The
tracker uses the embedded checkpoint when the package ships one
(``spm_jax/assets``), otherwise randomly initialised weights (and says so).
"""

import argparse
import os
import time

import numpy as np


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--out', default='outputs/demo', help='output folder')
  parser.add_argument('--frames', type=int, default=120, help='video length')
  parser.add_argument('--seed', type=int, default=2026, help='video seed')
  args = parser.parse_args(argv)

  from spm_jax.data import synthetic
  from spm_jax.tracking import Tracker
  from spm_jax import video_io

  seq = synthetic.generate_sequence(args.seed, num_frames=args.frames)
  tracker = Tracker.pretrained()
  if not getattr(tracker, 'trained', False):
    print('note: no trained checkpoint is embedded yet; tracking with random weights')
  gt = seq.boxes[:, 0]
  tracker.init(seq.frames[0], gt[0])
  boxes, times = [np.asarray(gt[0], np.float64)], []
  os.makedirs(args.out, exist_ok=True)
  video_path = os.path.join(args.out, 'demo.mp4')
  height, width = seq.frames.shape[1:3]
  with video_io.Mp4Writer(video_path, 30, (width, height)) as writer:
    writer.write(video_io.draw_box(seq.frames[0], gt[0], label='init'))
    for frame in seq.frames[1:]:
      start = time.perf_counter()
      box, score = tracker.update(frame)
      times.append(time.perf_counter() - start)
      boxes.append(box)
      writer.write(video_io.draw_box(frame, box, score))
  results_path = os.path.join(args.out, 'demo.txt')
  video_io.write_results(results_path, boxes)
  fps = 1.0 / np.median(times[1:]) if len(times) > 1 else float('nan')
  print(f'tracked {len(seq.frames)} frames at {fps:.1f} fps (median, after compilation)')
  print(f'video:   {video_path}')
  print(f'results: {results_path}')


if __name__ == '__main__':
  main()
