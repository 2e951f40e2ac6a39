r"""Tracks one object in a video file, an image folder or a camera.

::

  python scripts/track.py --video clip.mp4 --box 120,80,40,60 --out outputs/track
  python scripts/track.py --frames DIR/img --box 120,80,40,60     # OTB-style image folder
  python scripts/track.py --webcam 0 --select                    # draw the first box
  python scripts/track.py --video clip.mp4 --box ... --checkpoint MODEL_DIR \
      [--config configs/spm_alexnet.py:variant=cm_only] [--dump-scores] [--draw-proposals]

Boxes are ``x,y,w,h`` in frame pixels with a 0-based top-left corner (OTB
convention). Without ``--checkpoint`` the embedded default model is used
(``Tracker.pretrained()``); ``--checkpoint`` takes a folder written by
``spm_jax.export.save_model`` (``config.json`` + ``variables.msgpack``, e.g.
the output of ``scripts/convert_weights.py``) or an embedded model's name
(``default``, ``procedural``: ``spm_jax/embedded_models.py``), checked against
``--config`` when one is given.

Writes into ``--out``:

* ``NAME.mp4``: every frame with the box and its score (``mp4v`` codec),
* ``NAME.txt``: OTB results, one ``x,y,w,h`` line per frame (the first is the
  initial box),
* ``NAME_time.txt``: seconds per frame,
* with ``--dump-scores``, ``NAME_scores.jsonl``: one JSON object per tracked
  frame with the K proposals (``x, y, w, h`` frame pixels) and their CM, FM and
  fused scores -- the numbers of the paper's fig. 5 -- plus the chosen box and
  ``chosen``, the index of the candidate it comes from.

Speed is printed every ``--log-every`` frames and drawn on the video.

Every argument (box, checkpoint, config, source, output folder) is checked
before any output is opened, and the outputs are written as
``NAME.partial.*`` and renamed when complete, so a failed run never replaces
the files of an earlier one. Ctrl+C (a camera's stop button; or
``--max-frames``) stops between frames: the frames tracked so far are written
and the script exits with code 130 (before the first tracked frame nothing is
written). A frame that cannot be read mid-video ends the run the same way
(exit 2). Bad input is a one-line error and exit code 2 (``--verbose`` adds the
traceback).
"""

# pylint: disable=g-import-not-at-top,wrong-import-position
import argparse

from spm_jax import cli
cli.defer_interrupts()  # Ctrl-C: stop between frames, exit 130 (before the slow imports).

from spm_jax import embedded_models


# -------------------------------------------------------------- arguments ---
def build_parser():
  parser = argparse.ArgumentParser(
      description=__doc__.splitlines()[0],
      formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split('::')[0])
  src = parser.add_mutually_exclusive_group(required=True)
  src.add_argument('--video', help='video file readable by OpenCV (mp4, avi, ...)')
  src.add_argument('--frames', help='folder of images, natural order (0001.jpg, ...)')
  src.add_argument('--webcam', type=int, metavar='N', help='camera index (/dev/videoN)')
  parser.add_argument('--box', help='first-frame box x,y,w,h (frame pixels, 0-based)')
  parser.add_argument('--select', action='store_true',
                      help='draw the first box with the mouse (needs a display and an '
                           'OpenCV build with GUI support)')
  parser.add_argument('--config', default=None,
                      help='config file with optional argument, e.g. '
                           'configs/spm_alexnet.py:variant=cm_only (default: the checkpoint\'s)')
  parser.add_argument('--checkpoint', default=None,
                      help='exported model folder (config.json + variables.msgpack) or '
                           f'embedded model name ({embedded_models.names()}); '
                           'default: the embedded default model')
  parser.add_argument('--out', default='outputs/track', help='output folder')
  parser.add_argument('--name', default=None, help='output file stem (default: from the source)')
  parser.add_argument('--dump-scores', '--dump_scores', dest='dump_scores', action='store_true',
                      help='write per-frame CM/FM scores of the top-K proposals (JSON lines)')
  parser.add_argument('--draw-proposals', '--draw_proposals', dest='draw_proposals',
                      action='store_true', help='draw the K proposals with C/F scores')
  parser.add_argument('--max-frames', '--max_frames', dest='max_frames', type=int, default=None,
                      help='stop after this many frames')
  parser.add_argument('--fps', type=float, default=None,
                      help='frame rate of the output video (default: the source\'s, or 30)')
  parser.add_argument('--codec', default='mp4v', help='four-character video codec')
  parser.add_argument('--log-every', '--log_every', dest='log_every', type=int, default=50,
                      help='print the speed every N frames (0: only at the end)')
  cli.add_verbose_flag(parser)
  return parser


def main(argv=None):
  """Runs the script; exits 2 on bad input and 130 after Ctrl-C (``spm_jax.cli``)."""
  parser = build_parser()

  def run():
    from spm_jax import video_tracking
    return video_tracking.track(parser.parse_args(argv))

  return cli.run(run, argv)


if __name__ == '__main__':
  main()
