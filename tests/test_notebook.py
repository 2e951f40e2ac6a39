"""notebooks/quickstart.ipynb runs top to bottom on CPU (as CI and a Colab user run it)."""

import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(ROOT, 'notebooks', 'quickstart.ipynb')


@pytest.mark.slow
def test_quickstart_notebook_executes(monkeypatch):
  nbformat = pytest.importorskip('nbformat', reason='notebook tests need the test extras')
  nbclient = pytest.importorskip('nbclient', reason='notebook tests need the test extras')
  pytest.importorskip('ipykernel', reason='notebook tests need the test extras')
  monkeypatch.setenv('JAX_PLATFORMS', 'cpu')
  monkeypatch.setenv('MPLBACKEND', 'module://matplotlib_inline.backend_inline')
  # The kernel imports the checkout even when the package is not installed.
  monkeypatch.setenv('PYTHONPATH', ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''))

  nb = nbformat.read(NOTEBOOK, as_version=4)
  client = nbclient.NotebookClient(nb, timeout=600, kernel_name='python3',
                                   resources={'metadata': {'path': os.path.dirname(NOTEBOOK)}})
  client.execute()  # raises CellExecutionError naming the failing cell

  outputs = [o for cell in nb.cells if cell.cell_type == 'code' for o in cell.get('outputs', [])]
  assert not [o for o in outputs if o.output_type == 'error']
  images = [o for o in outputs if o.output_type == 'display_data' and 'image/png' in o.data]
  assert len(images) >= 4  # frames, fig. 5 scores, success curve, loss curve
  text = ''.join(o.get('text', '') for o in outputs if o.output_type == 'stream')
  assert 'success AUC' in text and 'fps after compilation' in text
  assert 'after 8 steps' in text or 'skipping the training demo' in text


def test_notebook_is_clean_and_colab_ready():
  """Stored without outputs; the first code cell installs the package on Colab."""
  nbformat = pytest.importorskip('nbformat', reason='notebook tests need the test extras')
  nb = nbformat.read(NOTEBOOK, as_version=4)
  nbformat.validate(nb)
  code = [c for c in nb.cells if c.cell_type == 'code']
  assert all(not c.get('outputs') and c.get('execution_count') is None for c in code)
  first = code[0].source
  assert 'google.colab' in first and 'pip' in first and 'spm-jax' in first
