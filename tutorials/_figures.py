"""Figures for the lessons: written as PNG files when a lesson runs as a script, and
shown inline too when it runs as a notebook (Jupyter, or the site's build).

Every lesson imports this module (it sits beside them, so ``python tutorials/NN.py``
and a notebook opened in ``tutorials/`` both find it) and calls ``show`` once per
figure. The files go to ``$MINIGRAD_TUTORIAL_OUT`` (default ``tutorial_output/`` in
the working directory), which the tests point at a temporary folder.
"""
import os
import sys
from pathlib import Path

from minigrad.history import save_figure


def output_dir():
    """The folder the lesson writes into, created if missing."""
    out = Path(os.environ.get("MINIGRAD_TUTORIAL_OUT", "tutorial_output"))
    out.mkdir(parents=True, exist_ok=True)
    return out


def in_notebook():
    """True inside a Jupyter kernel (where a figure can be displayed), False in a plain
    ``python`` run or a terminal IPython."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    # ZMQInteractiveShell is the kernel's shell; a terminal IPython has no inline display.
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def show(figure, name=None, dpi=100, **savefig_kwargs):
    """Save ``figure`` as ``$MINIGRAD_TUTORIAL_OUT/name`` and close it; then display the
    PNG inline in a notebook, or print where it went when run as a script. Returns None,
    so that a cell ending in ``show(...)`` shows the picture and nothing else.

    ``figure`` may also be the path of a PNG some library code already wrote (e.g.
    ``History.plot``); then it is only displayed. The PNG is what is displayed in both
    cases, so the page shows exactly the file a script run writes, whatever matplotlib
    backend is active (lesson 13 forces a non-display one).
    """
    if isinstance(figure, (str, os.PathLike)):
        path = Path(figure)
    else:
        import matplotlib.pyplot as plt

        if name is None:
            raise ValueError("show(figure, name): a matplotlib figure needs a file name, e.g. '05_histograms.png'")
        path = output_dir() / name
        save_figure(figure, path, dpi=dpi, **savefig_kwargs)  # atomic, as every file minigrad saves
        plt.close(figure)
    if in_notebook():
        from IPython.display import Image, display

        display(Image(filename=str(path)))
    else:
        print("figure written to", path)
