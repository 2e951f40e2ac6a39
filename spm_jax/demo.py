"""Tracks the target of a generated video and writes an annotated MP4.

  python -m spm_jax.demo [--out DIR] [--frames N] [--seed S] [--checkpoint DIR_OR_NAME]

Needs no download: the video comes from :mod:`spm_jax.data.synthetic`. The
tracker uses the embedded default model when the package ships one
(``spm_jax/assets/default``, see ``Tracker.pretrained``), otherwise randomly
initialised weights (and says so). ``--checkpoint`` takes an exported model
folder or an embedded model's name (``procedural``: the model trained on these
procedural videos, :mod:`spm_jax.embedded_models`).

Writes ``DIR/demo.mp4`` (prediction in green with its score, ground truth in
red) and ``DIR/demo.txt`` (OTB results: one ``x,y,w,h`` line per frame, frame
pixels, 0-based; the first line is the initial box), and prints the speed and
the success AUC against the ground truth. The files are written as
``demo.partial.*`` and renamed when complete; bad arguments are a one-line
error with exit code 2 (``--verbose`` adds the traceback), Ctrl-C exits with
code 130 and leaves earlier outputs as they were.
"""

import os

import numpy as np
from absl import app
from absl import flags

from spm_jax import cli
from spm_jax import embedded_models

FLAGS = flags.FLAGS
DEFAULT_FRAMES = 120  # Length of the generated video.
DEFAULT_SEED = 2026  # Its seed.


def define_flags():
  """The command line, its defaults the README command's (``cli.absl_run`` defines it)."""
  flags.DEFINE_string('out', 'outputs/demo', 'Output folder.')
  flags.DEFINE_integer('frames', DEFAULT_FRAMES, 'Video length (>= 2).')
  flags.DEFINE_integer('seed', DEFAULT_SEED, 'Video seed.')
  flags.DEFINE_string('checkpoint', None, 'Exported model folder (config.json + '
                      f'variables.msgpack) or embedded model name ({embedded_models.names()}); '
                      'default: the embedded default model.')


def main(argv=None):
  """Runs the demo on ``argv`` (without the program name; default ``sys.argv[1:]``).

  Returns:
    dict ``video``, ``results`` (paths), ``fps``, ``auc``. Exits with code 2 on
    bad arguments and 130 after Ctrl-C (``spm_jax.cli``).
  """
  return cli.absl_run(_run, argv, define_flags)


def _run(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  args = FLAGS
  if args.frames < 2:
    raise cli.UserError(f'--frames must be at least 2, got {args.frames}')
  if not 0 <= args.seed < 2 ** 32:
    raise cli.UserError(f'--seed must be in [0, 2**32), got {args.seed}')
  if args.checkpoint is not None and not os.path.isdir(embedded_models.resolve(args.checkpoint)):
    raise cli.UserError(f'--checkpoint {args.checkpoint!r} is neither a folder (an exported model '
                        'folder holds config.json and variables.msgpack) nor an embedded model '
                        f'name ({embedded_models.names()})')
  cli.check_writable_folder(args.out, '--out')

  from spm_jax import video_io, video_tracking
  from spm_jax.data import synthetic
  from spm_jax.evaluation import metrics

  seq = synthetic.generate_sequence(args.seed, num_frames=args.frames)
  tracker, _ = video_tracking.build_tracker(None, args.checkpoint)
  gt = seq.boxes[:, 0].astype(np.float64)  # [T, 4] x, y, w, h of the target
  video_path = os.path.join(args.out, 'demo.mp4')
  results_path = os.path.join(args.out, 'demo.txt')
  outputs = video_io.PendingOutputs({'video': video_path, 'results': results_path})
  height, width = seq.frames.shape[1:3]
  meter = video_io.FpsMeter()

  def annotate(frame, index, box, score, label=None):
    out = video_io.draw_box(frame, gt[index], color=video_io.GROUND_TRUTH_COLOR, thickness=1)
    out = video_io.draw_box(out, box, score, label=label)
    fps = meter.fps if meter.times else float('nan')
    return video_io.draw_text(out, f'#{index}  {fps:.1f} fps  green: SPM  red: truth')

  boxes = []
  try:
    with video_io.Mp4Writer(outputs.partial['video'], 30, (width, height)) as writer:
      for i, frame, box, score in video_tracking.tracked_frames(tracker, seq.frames[0], gt[0],
                                                                seq.frames[1:], meter):
        if i == 0:
          meter.times.pop()  # the template, not a tracked frame
        boxes.append(box)
        writer.write(annotate(frame, i, box, score, label='init' if i == 0 else None))
    cli.raise_if_interrupted()
    video_io.write_results(outputs.partial['results'], boxes)
  except BaseException:
    outputs.discard()
    raise
  outputs.commit()
  auc = metrics.success_auc(np.asarray(boxes), gt)
  print(f'tracked {len(seq.frames)} frames at {meter.median_fps:.1f} fps '
        '(median, after compilation)')
  print(f'success AUC against the ground truth: {auc:.3f}')
  print(f'video:   {os.path.abspath(video_path)}')
  print(f'results: {os.path.abspath(results_path)}')
  return {'video': video_path, 'results': results_path, 'fps': meter.median_fps, 'auc': auc}


if __name__ == '__main__':
  main()
