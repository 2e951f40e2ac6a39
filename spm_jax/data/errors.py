"""Errors raised when a dataset folder or annotation file is not what we expect."""


class DatasetLayoutError(FileNotFoundError):
  """A dataset folder is missing, empty or not in the expected layout.

  The message names the path and describes the layout that was expected.
  """


class AnnotationError(ValueError):
  """An annotation file holds a value we cannot read (message: file and line)."""
