"""The CPU memory accounting of the batch experiment, against hand counts."""
import numpy as np

import minigrad
from minigrad import nn
from admm.experiments.memory import graph_bytes, largest_batch, linear_fit, step_bytes


def test_graph_bytes_counts_each_buffer_once():
    a, b = (minigrad.tensor(np.ones(100, np.float32), requires_grad=True) for _ in range(2))
    # a, b and a*b (400 bytes each) + the 4-byte sum; a view of a*b adds nothing
    assert graph_bytes((a * b).sum()) == 3 * 400 + 4
    assert graph_bytes((a * b)[10:].sum()) == 3 * 400 + 4


def test_step_bytes_adds_weights_gradients_and_momentum():
    layer = nn.Linear(3, 2)
    x = minigrad.tensor(np.ones((5, 3), np.float32))
    loss = layer(x).sum()
    parameters = (3 * 2 + 2) * 4
    assert step_bytes(loss, [layer]) == graph_bytes(loss) + 3 * parameters


def test_linear_fit_and_the_largest_batch_under_a_cap():
    per_sample, fixed = linear_fit({4: 1000 + 4 * 250, 8: 1000 + 8 * 250})
    assert np.isclose(per_sample, 250) and np.isclose(fixed, 1000)
    assert largest_batch(250, 1000, cap=1000 + 7 * 250) == 7
    assert largest_batch(250, 1000, cap=1000 + 7 * 250 - 1) == 6
    assert largest_batch(250, 1000, cap=500) == 0


def test_micro_batches_shrink_what_each_half_holds():
    from admm.experiments.batch import held_micro_batches, micro_batched
    parts = {name: {"bytes_per_sample": 100.0, "fixed_bytes": 1000.0} for name in ("single", "net1", "net2")}
    assert held_micro_batches("pipelined", 1) == {"single": 1, "net1": 1, "net2": 1}
    # 1F1B: net1 runs one micro-batch ahead, so it holds two; the others one
    assert held_micro_batches("pipelined", 4) == {"single": 1, "net1": 2, "net2": 1}
    assert held_micro_batches("sequential", 4) == {"single": 1, "net1": 1, "net2": 1}
    fits = micro_batched(parts, 1000 + 100 * 10, 4, held_micro_batches("pipelined", 4))
    assert fits == {"single": 40, "net1": 20, "net2": 40}   # 10 samples' activations held at once
