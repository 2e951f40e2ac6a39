r"""Tracks one object in a video file, an image folder or a camera.

::

  python scripts/track.py --video clip.mp4 --box 120,80,40,60 --out outputs/track
  python scripts/track.py --frames DIR/img --box 120,80,40,60     # OTB-style image folder
  python scripts/track.py --webcam 0 --select                    # draw the first box
  python scripts/track.py --video clip.mp4 --box ... --checkpoint MODEL_DIR \
      [--config configs/spm_alexnet.py:variant=cm_only] [--dump_scores] [--draw_proposals]

Boxes are ``x,y,w,h`` in frame pixels with a 0-based top-left corner (OTB
convention). Without ``--checkpoint`` the embedded default model is used
(``Tracker.pretrained()``); ``--checkpoint`` takes a folder written by
``spm_jax.export.save_model`` (``config.json`` + ``variables.msgpack``, e.g.
the output of ``scripts/convert_weights.py``) or an embedded model's name
(``default``, ``procedural``: ``spm_jax/embedded_models.py``), checked against
``--config`` when one is given (``--config.FIELD=VALUE`` overrides a field).

Writes into ``--out``:

* ``NAME.mp4``: every frame with the box and its score (``mp4v`` codec),
* ``NAME.txt``: OTB results, one ``x,y,w,h`` line per frame (the first is the
  initial box),
* ``NAME_time.txt``: seconds per frame,
* with ``--dump_scores``, ``NAME_scores.jsonl``: one JSON object per tracked
  frame with the K proposals (``x, y, w, h`` frame pixels) and their CM, FM and
  fused scores -- the numbers of the paper's fig. 5 -- plus the chosen box and
  ``chosen``, the index of the candidate it comes from.

Speed is printed every ``--log_every`` frames and drawn on the video.

Every argument (box, checkpoint, config, source, output folder) is checked
before any output is opened, and the outputs are written as
``NAME.partial.*`` and renamed when complete, so a failed run never replaces
the files of an earlier one. Ctrl+C (a camera's stop button; or
``--max_frames``) stops between frames: the frames tracked so far are written
and the script exits with code 130 (before the first tracked frame nothing is
written). A frame that cannot be read mid-video ends the run the same way
(exit 2). Bad input is a one-line error and exit code 2 (``--verbose`` adds the
traceback).
"""

# pylint: disable=g-import-not-at-top,wrong-import-position
from spm_jax import cli
cli.defer_interrupts()  # Ctrl-C: stop between frames, exit 130 (before the slow imports).

from absl import app
from absl import flags
from ml_collections import config_flags

from spm_jax import embedded_models

FLAGS = flags.FLAGS


def define_flags():
  """The command line (``cli.absl_run`` defines it when the command runs)."""
  flags.DEFINE_string('video', None, 'Video file readable by OpenCV (mp4, avi, ...).')
  flags.DEFINE_string('frames', None, 'Folder of images, natural order (0001.jpg, ...).')
  flags.DEFINE_integer('webcam', None, 'Camera index N (/dev/videoN).')
  flags.mark_flags_as_mutual_exclusive(['video', 'frames', 'webcam'], required=True)
  flags.DEFINE_string('box', None, 'First-frame box x,y,w,h (frame pixels, 0-based).')
  flags.DEFINE_bool('select', False, 'Draw the first box with the mouse (needs a display and '
                    'an OpenCV build with GUI support).')
  config_flags.DEFINE_config_file(
      'config', None, "Config file[:arg], e.g. configs/spm_alexnet.py:variant=cm_only "
      "(default: the checkpoint's).")
  flags.DEFINE_string('checkpoint', None, 'Exported model folder (config.json + '
                      f'variables.msgpack) or embedded model name ({embedded_models.names()}); '
                      'default: the embedded default model.')
  flags.DEFINE_string('out', 'outputs/track', 'Output folder.')
  flags.DEFINE_string('name', None, 'Output file stem (default: from the source).')
  flags.DEFINE_bool('dump_scores', False,
                    'Write per-frame CM/FM scores of the top-K proposals (JSON lines).')
  flags.DEFINE_bool('draw_proposals', False, 'Draw the K proposals with C/F scores.')
  flags.DEFINE_integer('max_frames', None, 'Stop after this many frames.')
  flags.DEFINE_float('fps', None, "Frame rate of the output video (default: the source's, or 30).")
  flags.DEFINE_string('codec', 'mp4v', 'Four-character video codec.')
  flags.DEFINE_integer('log_every', 50, 'Print the speed every N frames (0: only at the end).')


def run(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  from spm_jax import video_tracking
  return video_tracking.track(FLAGS)


def main(argv=None):
  """Runs the script on ``argv`` (without the program name; default ``sys.argv[1:]``).

  Returns ``video_tracking.track``'s dict; exits 2 on bad input and 130 after
  Ctrl-C (``spm_jax.cli``).
  """
  return cli.absl_run(run, argv, define_flags)


if __name__ == '__main__':
  main()
