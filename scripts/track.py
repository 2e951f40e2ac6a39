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
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from spm_jax import cli
cli.defer_interrupts()  # Ctrl-C: stop between frames, exit 130 (before the slow imports).

from spm_jax import embedded_models
from spm_jax import video_io

UserError = cli.UserError


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


def load_config(spec):
  """``path/to/config.py[:arg]`` -> the file's ``get_config(arg)``; UserError otherwise."""
  from spm_jax import config_file
  try:
    return config_file.load(spec)
  except FileNotFoundError as e:
    raise UserError(str(e)) from e
  except (ValueError, KeyError, TypeError) as e:
    raise UserError(f'cannot build the config {spec!r}: {e}') from e


def build_tracker(config_spec, checkpoint):
  """A Tracker from ``--config`` / ``--checkpoint`` (see the module docstring)."""
  import jax
  from spm_jax import export, models
  from spm_jax.tracking import Tracker
  config = load_config(config_spec) if config_spec else None
  if checkpoint:
    try:
      config, variables = export.load_checked(checkpoint, config)
    except (FileNotFoundError, ValueError) as e:
      raise UserError(str(e)) from e
    return Tracker(config, variables), f'checkpoint {checkpoint}'
  if config is not None:
    print('warning: --config without --checkpoint: RANDOMLY INITIALISED weights', flush=True)
    return Tracker(config, models.init_variables(config, jax.random.key(config.seed))), 'random'
  tracker = Tracker.pretrained()
  if not getattr(tracker, 'trained', False):
    print('note: no trained checkpoint is embedded yet; tracking with random weights', flush=True)
    return tracker, 'random (no embedded checkpoint)'
  return tracker, 'embedded default model'


def select_box(frame):
  """Lets the user draw a box on ``frame`` (RGB); returns x, y, w, h.

  Raises:
    UserError when no display is available, OpenCV has no GUI support, or the
    selection was cancelled.
  """
  import cv2
  if sys.platform.startswith('linux') and not (os.environ.get('DISPLAY') or
                                               os.environ.get('WAYLAND_DISPLAY')):
    raise UserError('--select needs a display (DISPLAY is not set); pass the first box with '
                    '--box x,y,w,h instead')
  try:
    x, y, w, h = cv2.selectROI('select the target, then press ENTER or SPACE',
                               cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), showCrosshair=True)
    cv2.destroyAllWindows()
  except cv2.error as e:
    raise UserError('--select needs an OpenCV build with GUI support (opencv-python, not '
                    f'opencv-python-headless); pass --box x,y,w,h instead ({e.msg.strip()})') from e
  if w <= 0 or h <= 0:
    raise UserError('no box selected (selection cancelled)')
  return np.array([x, y, w, h], np.float64)


def _source_name(args):
  if args.name:
    return args.name
  if args.video:
    return os.path.splitext(os.path.basename(os.path.normpath(args.video)))[0]
  if args.frames:
    folder = os.path.normpath(args.frames)
    base = os.path.basename(folder)
    return os.path.basename(os.path.dirname(folder)) if base == 'img' else base
  return f'webcam{args.webcam}'


def _to_list(x):
  return np.asarray(x).tolist()


def check_args(args):
  """Refuses bad arguments (UserError naming the argument) before anything is read or written.

  Returns:
    the first box, float64 [4] x, y, w, h frame pixels, or None with ``--select``.
  """
  if args.box is None and not args.select:
    raise UserError('give the first box with --box x,y,w,h or draw it with --select')
  box = None
  if args.box is not None:
    try:
      box = video_io.parse_box(args.box)
    except ValueError as e:
      raise UserError(f'--box: {e}') from e
  if args.max_frames is not None and args.max_frames < 1:
    raise UserError(f'--max-frames must be positive, got {args.max_frames}')
  if args.fps is not None and not (np.isfinite(args.fps) and args.fps > 0):
    raise UserError(f'--fps must be a positive number of frames per second, got {args.fps:g}')
  if args.log_every < 0:
    raise UserError(f'--log-every must be 0 (only at the end) or positive, got {args.log_every}')
  if len(args.codec) != 4:
    raise UserError(f'--codec must be a four-character code such as mp4v, got {args.codec!r}')
  if args.name is not None and (not args.name or os.sep in args.name or args.name in ('.', '..')):
    raise UserError(f'--name must be a file stem without {os.sep!r}, got {args.name!r}')
  if args.video is not None and os.path.isdir(args.video):
    raise UserError(f'--video {args.video!r} is a folder; pass a folder of images with --frames')
  if args.frames is not None and os.path.isfile(args.frames):
    raise UserError(f'--frames {args.frames!r} is a file; pass a video file with --video')
  if args.checkpoint is not None and not os.path.isdir(args.checkpoint):
    raise UserError(f'--checkpoint {args.checkpoint!r} is not a folder (an exported model '
                    'folder holds config.json and variables.msgpack)')
  cli.check_writable_folder(args.out, '--out')
  return box


# ------------------------------------------------------------------ track ---
def run(args):
  """Tracks ``args``' source; returns a dict of output paths and the speed."""
  box = check_args(args)
  try:
    source = video_io.FrameSource.open(video=args.video, frames=args.frames, webcam=args.webcam,
                                       max_frames=args.max_frames)
  except video_io.VideoReadError as e:
    raise UserError(str(e)) from e
  name = _source_name(args)
  paths = {'video': os.path.join(args.out, f'{name}.mp4'),
           'results': os.path.join(args.out, f'{name}.txt'),
           'times': os.path.join(args.out, f'{name}_time.txt')}
  if args.dump_scores:
    paths['scores'] = os.path.join(args.out, f'{name}_scores.jsonl')

  with source:
    frames = iter(source)
    try:
      first = next(frames)
    except (StopIteration, video_io.VideoReadError) as e:
      raise UserError(f'no frame could be read from {source.name!r}: {e}') from e
    if args.select:
      box = select_box(first)
    try:
      box, inside = video_io.check_box_in_frame(box, first.shape)
    except ValueError as e:
      raise UserError(str(e)) from e
    if inside < 0.5:
      print(f'warning: only {inside:.0%} of the box {box.tolist()} lies inside the '
            f'{first.shape[1]}x{first.shape[0]} frame', flush=True)

    height, width = first.shape[:2]
    cli.raise_if_interrupted()
    tracker, weights = build_tracker(args.config, args.checkpoint)
    cli.raise_if_interrupted()  # Nothing written yet.
    outputs = video_io.PendingOutputs(paths)
    try:
      writer = video_io.Mp4Writer(outputs.partial['video'], args.fps or source.fps,
                                  (width, height), codec=args.codec)
    except video_io.VideoWriterError as e:
      outputs.discard()
      raise UserError(str(e).replace(outputs.partial['video'], paths['video'])) from e

    print(f'tracking {source.name} ({width}x{height}) from box {box.tolist()} '
          f'with {weights}', flush=True)
    meter = video_io.FpsMeter()
    boxes, times = [box], [0.0]
    dump = open(outputs.partial['scores'], 'w') if args.dump_scores else None
    keep = False  # Rename the outputs into place when the run ends?
    try:
      start = time.perf_counter()
      tracker.init(first, box)
      times[0] = time.perf_counter() - start
      writer.write(video_io.draw_text(video_io.draw_box(first, box, label='init'), '#0'))
      shown = None
      for index, frame in enumerate(frames, start=1):
        if cli.stop_requested():
          break
        if frame is None:  # an unreadable image: keep the box, keep the numbering
          boxes.append(boxes[-1])
          times.append(0.0)
          base = shown if shown is not None else first
          writer.write(video_io.draw_text(base, f'#{index}  unreadable frame skipped'))
          continue
        if frame.shape != first.shape:
          raise UserError(f'frame {index} of {source.name!r} is {frame.shape[1]}x'
                          f'{frame.shape[0]}, the first was {width}x{height}')
        meter.start()
        pred, score = tracker.update(frame)
        times.append(meter.stop())
        boxes.append(pred)
        out = tracker.last_outputs
        shown = frame
        if args.draw_proposals:
          fm = None if tracker.config.model.variant == 'cm_only' else out['fm_scores']
          shown = video_io.draw_proposals(shown, out['proposals'], out['cm_scores'], fm,
                                          out['valid'])
        shown = video_io.draw_box(shown, pred, score)
        shown = video_io.draw_text(shown, f'#{index}  {meter.fps:.1f} fps')
        writer.write(shown)
        if dump is not None:
          dump.write(json.dumps({
              'frame': index, 'box': _to_list(pred), 'score': float(score),
              'proposals': _to_list(out['proposals']), 'cm_scores': _to_list(out['cm_scores']),
              'fm_scores': _to_list(out['fm_scores']),
              'fused_scores': _to_list(out['fused_scores']), 'valid': _to_list(out['valid']),
              'chosen': int(out['chosen']),
          }) + '\n')
        if args.log_every and index % args.log_every == 0:
          print(f'frame {index}: {meter.fps:.1f} fps', flush=True)
      # Interrupted before the first tracked frame: nothing worth replacing earlier outputs.
      keep = len(boxes) > 1 or not cli.stop_requested()
    except video_io.VideoReadError as e:
      keep = True
      raise UserError(f'{e} (results up to frame {len(boxes) - 1} are written)') from e
    finally:
      writer.close()
      if dump is not None:
        dump.close()
      if keep:
        video_io.write_results(outputs.partial['results'], boxes)
        np.savetxt(outputs.partial['times'], np.asarray(times), fmt='%.6f')
        outputs.commit()
      else:
        outputs.discard()
    if cli.stop_requested():
      if not keep:
        raise KeyboardInterrupt
      print(f'interrupted: the outputs hold frames 0 to {len(boxes) - 1}', flush=True)

  fps = meter.median_fps
  print(f'tracked {len(boxes)} frames at {fps:.1f} fps (median, after compilation)')
  if source.unreadable:
    print(f'{len(source.unreadable)} unreadable images were skipped (their result rows repeat '
          f'the previous box): {", ".join(os.path.basename(p) for p in source.unreadable)}')
  for key, path in paths.items():
    print(f'{key + ":":9}{os.path.abspath(path)}')
  return dict(paths, fps=fps, num_frames=len(boxes))


def main(argv=None):
  """Runs the script; exits 2 on bad input and 130 after Ctrl-C (``spm_jax.cli``)."""
  parser = build_parser()
  return cli.run(lambda: run(parser.parse_args(argv)), argv)


if __name__ == '__main__':
  main()
