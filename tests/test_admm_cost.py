"""``python -m admm cost``: every cut of the network, its halves' shares, the traffic and
the speedup bound, consistent with one another and with hand counts on the MLP."""
import json

from admm.cli import main
from admm.experiments.cost import bytes_sent, cuts, pipelined_bound, stage_seconds
from admm.models import caffenet, mlp


def test_cuts_are_the_layers_before_a_layer_with_weights():
    assert cuts(caffenet()) == ["pool1", "pool2", "pool3", "flatten"]
    assert cuts(mlp()) == ["flatten", "relu1", "relu2", "relu3"]


def test_stage_times_and_bytes_follow_the_mode():
    rows = [{"layer": n, "forward_s": f, "backward_s": b, "backward_weights_only_s": w, "output_bytes": o}
            for n, f, b, w, o in [("a", 1, 2, 2, 100), ("cut", 0, 1, 0, 40), ("c", 3, 6, 5, 80), ("d", 1, 1, 1, 4)]]
    assert stage_seconds(rows, "cut", "decoupled") == (4, 3 + 6 + 2)   # net2's first layer sends ∂ℓ/∂cut back
    assert stage_seconds(rows, "cut", "admm") == (4 + 9, 3 + 5 + 2)    # the dual copy runs in net1 too
    assert stage_seconds(rows, "cut", "frozen") == (4, 3 + 5 + 2)
    assert bytes_sent(rows, "cut", "decoupled", 10) == 40 + 80 + 40    # cut + indices, ∂ℓ/∂cut back
    assert bytes_sent(rows, "cut", "admm", 10) == 40 + 80 + 80         # the target of the dual layer back
    # equal halves: two stages give 2× at most, and M micro-batches reach it as the bubble shrinks
    assert pipelined_bound(2.0, 1.0, 1.0, 1) == 1.0
    assert pipelined_bound(2.0, 1.0, 1.0, 2) == 2 / 1.5
    assert pipelined_bound(2.0, 1.0, 1.0, 4) < pipelined_bound(2.0, 1.0, 1.0, 8) < 2.0


def test_cost_command_writes_every_cut(tmp_path):
    assert main(["cost", "--arch", "mlp", "--batch", "32", "--repeats", "1", "--quiet", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "cost.json").read_text())
    assert (tmp_path / "cost.png").stat().st_size > 1000
    assert list(result["cuts"]) == ["flatten", "relu1", "relu2", "relu3"]
    layers = {r["layer"]: r for r in result["layers"]}
    assert layers["fc2"]["output_bytes"] == 32 * 64 * 4 and layers["fc2"]["output_shape"] == [64]
    for cut in result["cuts"].values():
        assert abs(cut["speedup_bound"] - 1 / max(cut["compute_shares"])) < 1e-9
        assert abs(sum(cut["memory_shares"]) - 1) < 1e-9
        assert cut["pipelined_bound"]["2"] <= cut["pipelined_bound"]["8"] <= cut["speedup_bound"] + 1e-9
    relu2 = result["cuts"]["relu2"]
    assert relu2["bytes_sent_per_iteration"] == 32 * 64 * 4 + 32 * 8 + 32 * 64 * 4   # admm: relu2 out, fc3 target back
