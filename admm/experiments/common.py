"""What the experiments share: one in-process split run that may diverge, and saving."""
import json
import os

from minigrad.checkpoint import write_atomically
from minigrad.history import save_figure
from minigrad.train import NonFiniteLossError
from admm.demo import run_split
from admm.session import net2_side
from admm.transport import InProc


def split_history(config, name, prep, log=None):
    """Train the split run ``name`` in-process → (History, the iteration it diverged at or None).
    A divergence is a result here (eq. 10.3 blows up), so it is recorded, not raised."""
    side = net2_side(config, name, prep)
    try:
        return run_split(config, name, prep, InProc(side.handle), None, log), None
    except NonFiniteLossError as error:
        if log:
            log(f"  [{name}] {error}")
        return error.history, error.step


def norm_ratio(history, key="pool2_norm"):
    """The last finite per-iteration value of ``key`` divided by the first."""
    values = [row[key] for row in history.steps if row.get(key) is not None]
    return values[-1] / values[0] if values and values[0] > 0 else None


def save(out, name, result, figure):
    path = os.path.join(out, f"{name}.json")
    write_atomically(path, json.dumps(result, indent=1))
    save_figure(figure, os.path.join(out, f"{name}.png"))
    import matplotlib.pyplot as plt
    plt.close(figure)
    result["files"] = [path, os.path.join(out, f"{name}.png")]
    return result
