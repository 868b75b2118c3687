"""One seedable source of randomness for initializers, dropout and data shuffling.

As in PyTorch, the default generator starts from a seed drawn from the operating system's
entropy, so an unseeded program differs from run to run; ``manual_seed(s)`` resets it and
makes every draw after it reproducible (``initial_seed()`` tells which seed is in use, to
repeat a run that was not seeded). Every function that draws also accepts an explicit
``generator=`` (a ``numpy.random.Generator``), so experiments can keep separate streams.
Draws happen on the CPU and are moved to the GPU afterwards, so a seed gives the same
numbers on both devices — except those drawn during training on a GPU (dropout's masks,
``device_uniform``): a copy per step would stall the GPU, so CuPy draws them there, seeded
by one integer from the generator. A seed then gives the same run on the GPU, and a
checkpoint (which holds the generator's state) resumes it exactly, but its masks are not
the CPU run's. The samplers of ``minigrad.random_sampling`` (``x.normal_()``, ``bernoulli``,
``multinomial``, ...) draw the same way: where their tensor is.
"""
import os

import numpy as np

from minigrad import backend

_SEEDS = 2 ** 64  # torch's seeds are 64-bit; a negative one wraps around, as there
_generator = _seed = None  # set below, at import, from the operating system's entropy


def manual_seed(seed):
    """Reset the default generator to ``seed`` (an int); returns it."""
    global _generator, _seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: expected an int seed, got {type(seed).__name__}")
    _seed = int(seed) % _SEEDS
    _generator = np.random.default_rng(_seed)
    return _generator


def seed():
    """Reseed the default generator from the operating system's entropy; returns the seed."""
    manual_seed(int.from_bytes(os.urandom(8), "little"))
    return _seed


def initial_seed():
    """The seed the default generator was last set from (by ``manual_seed`` or at import)."""
    return _seed


def default_generator():
    return _generator


def get(generator=None):
    """The generator to draw from: the one given, else the default."""
    return _generator if generator is None else generator


def get_rng_state():
    """The default generator's state (a JSON-able dict), for checkpoints."""
    return _generator.bit_generator.state


def set_rng_state(state):
    _generator.bit_generator.state = state


_device_state = None  # CuPy's generator, reseeded for every draw


def _device_generator(generator):
    """CuPy's generator, reseeded with one 63-bit integer drawn from ``generator`` (the
    default one if None), so the generator's state alone decides the device's numbers.
    cuRAND's Philox generator is counter-based: a new seed costs no set-up kernel."""
    global _device_state
    seed = int(get(generator).integers(2**63))
    if _device_state is None:
        cupy = backend.cupy
        _device_state = cupy.random.RandomState(method=cupy.cuda.curand.CURAND_RNG_PSEUDO_PHILOX4_32_10)
    _device_state.seed(seed)
    return _device_state


def device_uniform(shape, dtype, generator=None):
    """Uniform draws in [0, 1) of ``shape`` and ``dtype``, made on the GPU: nothing is copied."""
    return _device_generator(generator).random_sample(shape, dtype=dtype)


def device_normal(shape, dtype, generator=None):
    """Standard normal draws of ``shape`` and ``dtype``, made on the GPU (as ``device_uniform``)."""
    return _device_generator(generator).standard_normal(shape, dtype=dtype)


seed()
