"""What every command line of the package does on bad input and on Ctrl-C.

* **Bad input** (a missing file, a bad value, an unknown config field): one line
  ``error: ...`` on stderr naming the argument and the problem, exit code 2,
  no traceback. ``--verbose`` prints the traceback as well.
* **Ctrl-C** (SIGINT): the first one only sets a flag; long loops test it
  between frames or training steps (:func:`stop_requested`,
  :func:`raise_if_interrupted`), close their files and stop. The script then
  exits with code 130 (128 + SIGINT, the shell's convention), also when the
  signal came at the last moment. A second Ctrl-C stops at once (still exit
  130, no traceback). Deferring the signal keeps ``KeyboardInterrupt`` out of
  JAX compilation, OpenCV writers and imports, where it can crash the process.

Every command line uses absl flags (``config_flags`` for ``--config``)::

  def main(argv):             # absl's: the positional arguments, program name first
    ...

  if __name__ == '__main__':
    cli.absl_run(main)        # in place of app.run(main)

Commands that tests run in-process define their flags in a function and expose
``main(argv=None)``, ``argv`` without the program name::

  def define_flags():
    flags.DEFINE_string('out', ...)

  def main(argv=None):
    return cli.absl_run(_run, argv, define_flags)
"""

import os
import re
import signal
import sys
import threading
import traceback

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT.
VERBOSE_FLAG = '--verbose'

# Exceptions whose message describes bad input; they exit with EXIT_USAGE.
USER_ERRORS = (OSError, ValueError, TypeError, KeyError)


class UserError(Exception):
  """Bad input; its message (one line) is printed without a traceback."""


# ---------------------------------------------------------------- Ctrl-C ---
_stop = threading.Event()
_installed = []


def stop_requested():
  """True once SIGINT arrived (while :func:`defer_interrupts` is installed)."""
  return _stop.is_set()


def raise_if_interrupted():
  """Raises KeyboardInterrupt when SIGINT arrived: call it where stopping is safe."""
  if _stop.is_set():
    raise KeyboardInterrupt


def _on_sigint(signum, frame):  # pylint: disable=unused-argument
  if _stop.is_set():  # The second Ctrl-C: stop now.
    raise KeyboardInterrupt
  _stop.set()
  print('interrupted: stopping at the next safe point (Ctrl-C again to stop at once)',
        file=sys.stderr, flush=True)


def defer_interrupts():
  """SIGINT sets the flag of :func:`stop_requested` instead of raising (main thread only).

  Scripts call it first thing, before the slow imports; calling it again keeps
  a request that already arrived.
  """
  if threading.current_thread() is threading.main_thread() and not _installed:
    signal.signal(signal.SIGINT, _on_sigint)
    _installed.append(True)


# ---------------------------------------------------------------- errors ---
def one_line(text):
  """``text`` with its lines joined by ``; `` (messages may span lines)."""
  return '; '.join(line.strip() for line in str(text).splitlines() if line.strip())


def config_field_error(exc, argv):
  """A UserError for an unknown ``--config.FIELD`` override, or None.

  ml_collections raises ``AttributeError('\\'total_step\\'\\nDid you mean
  "total_steps" instead of "total_step"?')`` from inside flag parsing.
  """
  text = str(exc).replace("\\'", "'").replace('\\n', '\n')
  names = re.findall(r"'([A-Za-z_]\w*)'", text)
  if not names:
    return None
  field = names[0]
  hint = re.search(r'Did you mean "([^"]+)"', text)
  arg = next((a.split('=')[0] for a in argv if a.startswith('--config.') and
              re.search(rf'[.]{re.escape(field)}\b', a.split('=')[0])), None)
  if arg is None:
    return None
  return UserError(f'{arg}: the config has no field {field!r}' +
                   (f' (did you mean "{hint.group(1)}"?)' if hint else ''))


def _report(exc, verbose):
  if verbose:
    traceback.print_exception(exc)
  if isinstance(exc, UserError):  # Written for the user: kept as is (details may follow).
    message, code = str(exc), EXIT_USAGE
  elif isinstance(exc, USER_ERRORS):
    message, code = one_line(exc) or type(exc).__name__, EXIT_USAGE
  else:
    message, code = f'{type(exc).__name__}: {one_line(exc)}', 1
  hint = '' if verbose or isinstance(exc, UserError) else f' ({VERBOSE_FLAG} shows the traceback)'
  print(f'error: {message}{hint}', file=sys.stderr, flush=True)
  return code


def run(fn, argv=None):
  """Calls ``fn()`` with the behaviour of the module docstring; returns its result.

  Exits (SystemExit) with EXIT_USAGE on bad input, 1 on another exception and
  EXIT_INTERRUPTED after SIGINT.
  """
  argv = sys.argv[1:] if argv is None else list(argv)
  verbose = VERBOSE_FLAG in argv
  defer_interrupts()
  try:
    result = fn()
  except KeyboardInterrupt:
    print('interrupted', file=sys.stderr, flush=True)
    sys.exit(EXIT_INTERRUPTED)
  except SystemExit as e:
    if stop_requested() and not e.code:
      sys.exit(EXIT_INTERRUPTED)
    raise
  except Exception as e:  # pylint: disable=broad-except
    if isinstance(e, AttributeError):
      e = config_field_error(e, argv) or e
    sys.exit(_report(e, verbose))
  if stop_requested():
    sys.exit(EXIT_INTERRUPTED)
  return result


_script_flags = set()  # Names that the last define_flags of absl_run defined.


def _redefine(flag_values, define_flags):
  """Deletes the flags of the last ``define_flags`` (and their ``--config.*``), runs this one."""
  for name in list(flag_values):
    if name in _script_flags or name.split('.')[0] in _script_flags:
      delattr(flag_values, name)
  before = set(flag_values)
  define_flags()
  _script_flags.clear()
  _script_flags.update(set(flag_values) - before)


def absl_run(main, argv=None, define_flags=None):
  """Parses the absl flags and returns ``main(args)``, with the behaviour of the module docstring.

  As ``absl.app.run(main)`` (``--help``, absl logging on stderr), and also: a bad
  flag value or an unknown flag or ``--config.FIELD`` is a one-line error, and it
  returns ``main``'s result instead of exiting, so a test can call it in-process
  again and again. Adds the boolean flag ``--verbose``.

  Args:
    main: function of the positional arguments (program name first).
    argv: the arguments after the program name (default ``sys.argv[1:]``); every
      flag not in it takes its default, whatever an earlier call gave it.
    define_flags: function defining the command's flags, called here after the
      flags of the previous ``define_flags`` are deleted, so that commands with
      flags of the same name (``--out``, ``--config``) run in one process.
  """
  from absl import app  # pylint: disable=import-outside-toplevel
  from absl import flags  # pylint: disable=import-outside-toplevel
  from absl import logging  # pylint: disable=import-outside-toplevel
  if 'verbose' not in flags.FLAGS:
    flags.DEFINE_bool('verbose', False, 'Print the traceback with an error message.')
  argv = sys.argv[1:] if argv is None else list(argv)

  def parse_and_run():
    app.define_help_flags()
    if define_flags is not None:
      _redefine(flags.FLAGS, define_flags)
    flags.FLAGS.unparse_flags()
    saved = sys.argv[:]
    sys.argv[1:] = argv  # config_flags reads the --config.FIELD overrides from sys.argv.
    try:
      args = flags.FLAGS([sys.argv[0]] + argv)
    except flags.Error as e:
      lines = [line.strip() for line in str(e).splitlines() if line.strip()]
      if any(line.startswith('Traceback') for line in lines):  # config_flags: keep the cause.
        lines = [lines[0], lines[-1]]
      raise UserError('; '.join(lines)) from e
    finally:
      sys.argv[:] = saved
    logging.use_absl_handler()
    try:
      return main(args)
    except app.UsageError as e:
      raise UserError(one_line(e)) from e

  return run(parse_and_run, argv)


def loaded_config(args, name='config'):
  """``args.<name>``, a ``config_flags`` config, checked: a ConfigDict or None (flag not given).

  Raises:
    UserError naming ``--<name>`` and the cause when its file failed to load
    (config_flags reports that only when the config is first used).
  """
  config = getattr(args, name)
  try:
    if config is not None:
      config.keys()
  except OSError as e:
    raise UserError(f'--{name}: {str(e).splitlines()[-1].strip()}') from e
  return config


def check_writable_folder(path, what='--out'):
  """Creates folder ``path`` (and its parents) and checks that files can be written there.

  Raises:
    UserError naming ``what`` and the path when it is a file or not writable.
  """
  if os.path.exists(path) and not os.path.isdir(path):
    raise UserError(f'{what} {path!r} is a file, not a folder')
  try:
    os.makedirs(path, exist_ok=True)
    probe = os.path.join(path, f'.write_test_{os.getpid()}')
    with open(probe, 'w'):
      pass
    os.remove(probe)
  except OSError as e:
    raise UserError(f'{what} {path!r} is not writable: {e.strerror or e}') from e
