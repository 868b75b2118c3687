"""One seedable source of randomness for initializers, dropout and data shuffling.

As in PyTorch, the default generator starts from a seed drawn from the operating system's
entropy, so an unseeded program differs from run to run; ``manual_seed(s)`` resets it and
makes every draw after it reproducible (``initial_seed()`` tells which seed is in use, to
repeat a run that was not seeded). Every function that draws also accepts an explicit
``generator=`` (a ``Generator``, torch's name, or any ``numpy.random.Generator``), so
experiments can keep separate streams.
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
_generator = None  # set below, at import, from the operating system's entropy


def _checked_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: expected an int seed, got {type(seed).__name__}")
    return int(seed) % _SEEDS


def _entropy_seed():
    """A 64-bit seed from the operating system's entropy."""
    return int.from_bytes(os.urandom(8), "little")


class Generator(np.random.Generator):
    """``torch.Generator``: a stream of random numbers of its own, seeded with
    ``manual_seed``, for any function that takes ``generator=``::

        g = mg.Generator().manual_seed(42)
        train, test = random_split(data, [0.8, 0.2], generator=g)

    It is a NumPy Generator (PCG64) with torch's methods on top, so the seed s gives the
    stream of ``numpy.random.default_rng(s)`` — minigrad's own numbers, not torch's (the
    two libraries' algorithms differ). ``device`` ("cpu" or "cuda") is taken for torch's
    signature and kept; draws are made on the host for either (see above), so one
    generator serves tensors on both devices. Unseeded, it starts from the operating
    system's entropy, as torch's."""

    def __init__(self, device="cpu"):
        seed = _entropy_seed()
        super().__init__(np.random.PCG64(seed))
        self.device, self._initial_seed = backend.device(device), seed

    def manual_seed(self, seed):
        """Restart the stream from ``seed`` (an int); returns this generator."""
        self._initial_seed = _checked_seed(seed)
        self.bit_generator.state = np.random.PCG64(self._initial_seed).state
        return self

    def seed(self):
        """Restart from a seed drawn from the operating system's entropy; returns it."""
        return self.manual_seed(_entropy_seed()).initial_seed()

    def initial_seed(self):
        """The seed this generator was last started from."""
        return self._initial_seed

    def get_state(self):
        """The stream's position (a dict, JSON-able; torch gives a byte tensor)."""
        return self.bit_generator.state

    def set_state(self, state):
        """Go back to a position ``get_state`` returned; returns this generator."""
        self.bit_generator.state = state
        return self


def manual_seed(seed):
    """Reset the default generator to ``seed`` (an int); returns it (a ``Generator``)."""
    global _generator
    _generator = Generator().manual_seed(seed)
    return _generator


def seed():
    """Reseed the default generator from the operating system's entropy; returns the seed."""
    return manual_seed(_entropy_seed()).initial_seed()


def initial_seed():
    """The seed the default generator was last set from (by ``manual_seed`` or at import)."""
    return _generator.initial_seed()


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
