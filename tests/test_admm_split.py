"""admm.split: cutting a named Sequential into net1 and net2."""
from collections import OrderedDict

import numpy as np
import pytest

import minigrad
from minigrad import nn
from admm.models import mlp
from admm.split import split


def test_split_names_the_halves_and_copies_the_dual_layer():
    minigrad.manual_seed(0)
    parts = split(mlp(20, 8, 3), at="relu2")
    assert parts.trunk.names() == ["flatten", "fc1", "relu1", "fc2", "relu2"]
    assert parts.head.names() == ["fc3", "relu3", "fc4"]
    assert parts.net1.names() == ["flatten", "fc1", "relu1", "fc2", "relu2", "fc3"]
    # the dual layer starts equal to conv3′ (fc3 here) but is its own array
    np.testing.assert_array_equal(parts.dual.weight.array, parts.head[0].weight.array)
    assert parts.dual.weight.array is not parts.head[0].weight.array


def test_inference_through_the_halves_is_the_model():
    minigrad.manual_seed(1)
    model = mlp(20, 8, 3)
    x = minigrad.tensor(np.random.default_rng(0).random((5, 20), dtype=np.float32))
    expected = model(x).numpy()
    np.testing.assert_array_equal(split(model, "relu2")(x).numpy(), expected)


def test_unknown_layer_lists_the_names():
    with pytest.raises(ValueError, match=r"no layer named 'pool9'.*'fc1', 'relu1'"):
        split(mlp(20, 8, 3), at="pool9")


def test_split_leaving_net2_empty_is_refused():
    with pytest.raises(ValueError, match="leaves net2 empty"):
        split(mlp(20, 8, 3), at="fc4")


def test_split_before_a_layer_without_weights_is_refused():
    with pytest.raises(ValueError, match="'relu1'.*no parameters"):
        split(mlp(20, 8, 3), at="fc1")


def test_only_named_sequentials_split():
    with pytest.raises(TypeError, match="nn.Sequential"):
        split(nn.Linear(3, 3), at="0")
    model = nn.Sequential(OrderedDict([("a", nn.Linear(3, 3)), ("b", nn.Linear(3, 2))]))
    assert split(model, "a").head.names() == ["b"]


@pytest.mark.parametrize("shape, pool2", [((1, 28, 28), (32, 7, 7)), ((3, 32, 32), (32, 8, 8))])
def test_caffenet_splits_at_pool2_for_both_image_sizes(shape, pool2):
    from admm.models import build
    model, cut = build("caffenet", shape)
    parts = split(model, cut)
    assert cut == "pool2" and parts.head.names()[0] == "conv3"
    x = minigrad.tensor(np.random.default_rng(0).random((2,) + shape, dtype=np.float32))
    p = parts.trunk(x)
    assert p.shape == (2,) + pool2
    assert parts.dual(p).shape == (2, 64) + pool2[1:]
    assert parts.head(p).shape == (2, 10)
