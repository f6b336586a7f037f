"""Every notebook in examples/ runs top to bottom in a Jupyter kernel (nbclient) and shows its plots.

The notebooks are stored without outputs; each one answers an operator question with plots, so each
must produce ``image/png`` outputs, and the rich displays (the report, the cluster, explanations)
must come out as HTML.
"""

from __future__ import annotations

import pathlib

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))


def test_there_are_at_least_three_notebooks_stored_without_outputs():
    assert len(NOTEBOOKS) >= 3
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path.name} is stored with outputs"


def _outputs(nb, mime):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if mime in o.get("data", {})]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_produces_its_plots(path, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    plot_cells = [c for c in nb.cells if c.cell_type == "code" and ".plot." in c.source]
    assert plot_cells, f"{path.name} draws no plot"
    for cell in plot_cells:
        assert any("image/png" in o.get("data", {}) for o in cell.outputs), f"no picture from: {cell.source}"
    # The report (or the cluster) shows as a table, not as a repr.
    assert any("<table" in o["data"]["text/html"] for o in _outputs(nb, "text/html"))
