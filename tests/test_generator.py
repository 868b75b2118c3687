"""minigrad.Generator: torch.Generator's methods on a NumPy Generator, taken by every
``generator=`` argument; and the default generator that ``manual_seed`` returns."""
import numpy as np
import pytest
from torch_twins import raises_as_torch, torch_or_skip

import minigrad as mg
from minigrad.data import ArrayDataset, DataLoader, random_split


def test_a_seed_gives_numpys_stream_for_that_seed():
    g = mg.Generator()
    assert g.manual_seed(42) is g and g.initial_seed() == 42 and g.device == "cpu"
    np.testing.assert_array_equal(g.integers(0, 1000, 20), np.random.default_rng(42).integers(0, 1000, 20))


def test_manual_seed_returns_the_default_generator_with_the_same_stream_as_before():
    g = mg.manual_seed(7)
    assert isinstance(g, mg.Generator) and g.initial_seed() == mg.initial_seed() == 7
    np.testing.assert_array_equal(mg.randn(5).numpy(), np.random.default_rng(7).standard_normal(5).astype(np.float32))


def test_a_generator_is_a_stream_apart_from_the_default_one():
    mg.manual_seed(0)
    expected = mg.rand(4).numpy()
    mg.manual_seed(0)
    mg.rand(3, generator=mg.Generator().manual_seed(1))  # draws from its own stream only
    np.testing.assert_array_equal(mg.rand(4).numpy(), expected)


def test_every_generator_argument_takes_it():
    def draws():
        g = mg.Generator().manual_seed(3)
        data = ArrayDataset(np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10))
        first, _ = random_split(data, [6, 4], generator=g)
        loader = DataLoader(data, batch_size=5, shuffle=True, generator=g)
        return (mg.randn(3, generator=g).numpy(), mg.randperm(6, generator=g).numpy(), list(first.indices),
                next(iter(loader))[1].numpy(), mg.nn.functional.dropout(mg.ones(8), 0.5, generator=g).numpy())
    for ours, again in zip(draws(), draws()):
        np.testing.assert_array_equal(ours, again)


def test_state_round_trip_and_reseeding():
    g = mg.Generator().manual_seed(5)
    state = g.get_state()
    first = g.random(4)
    assert g.set_state(state) is g
    np.testing.assert_array_equal(g.random(4), first)
    seed = g.seed()
    assert g.initial_seed() == seed and 0 <= seed < 2**64
    assert mg.Generator().initial_seed() != mg.Generator().initial_seed()  # unseeded: from entropy


def test_methods_and_return_values_as_torch():
    torch = torch_or_skip()
    for lib in (torch, mg):
        g = lib.Generator()
        assert g.manual_seed(3) is g and g.initial_seed() == 3 and str(g.device) == "cpu"


def test_an_unknown_device_raises_as_torch():
    raises_as_torch(lambda lib: lib.Generator(device="tpu"))


def test_a_seed_that_is_no_int_is_refused():
    # torch's Generator says RuntimeError, its manual_seed() truncates 1.5 to 1; minigrad's
    # TypeError for both, as mg.manual_seed
    with pytest.raises(TypeError, match="expected an int seed, got float"):
        mg.Generator().manual_seed(1.5)
