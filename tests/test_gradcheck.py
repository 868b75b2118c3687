"""gradcheck itself: it passes correct VJPs and catches wrong ones, with a readable message."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.tensor import result


def wrong_square(x):
    # forward x², but a VJP that forgets the factor 2
    return result(x.array ** 2, "wrong_square", (x,), (lambda g, y: g * x,))


@pytest.mark.parametrize("mode", ["elementwise", "directional"])
def test_catches_a_wrong_vjp(mode):
    x = mg.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    with pytest.raises(mg.GradcheckError, match="input 0.*analytic.*numeric"):
        mg.gradcheck(wrong_square, [x], mode=mode)


def test_names_the_element():
    x = mg.tensor(np.array([[0.0, 0.0], [0.0, 3.0]]), requires_grad=True)
    with pytest.raises(mg.GradcheckError, match=r"element \(1, 1\)"):
        mg.gradcheck(wrong_square, [x], mode="elementwise")


def test_directional_mode_on_a_large_input():
    x = mg.tensor(np.random.default_rng(0).normal(size=(60, 50)), requires_grad=True)
    assert mg.gradcheck(lambda t: (t.tanh() ** 2).sum(axis=0), [x])  # auto → directional


def test_catches_a_wrong_second_derivative():
    # tanh with a VJP whose derivative is wrong: uses a detached output, so d²/dx² misses a term
    def tanh_detached(x):
        y_data = np.tanh(x.array)
        return result(y_data, "tanh_detached", (x,), (lambda g, y: g * (1 - y.detach() ** 2),))
    x = mg.tensor(np.array([0.3, -0.7]), requires_grad=True)
    assert mg.gradcheck(tanh_detached, [x])
    with pytest.raises(mg.GradcheckError):
        mg.gradgradcheck(tanh_detached, [x])


def test_refuses_inputs_without_requires_grad():
    with pytest.raises(ValueError, match="requires_grad"):
        mg.gradcheck(lambda t: t * 2, [mg.tensor([1.0])])


def test_reports_the_worst_element_not_the_first():
    scale = np.array([1.01, 1.0, 1.0, 2.0])

    def scaled_wrong(x):  # VJP off by 1% at element 0 and by 100% at element 3
        return result(x.array * 1.0, "scaled_wrong", (x,), (lambda g, y: g * mg.tensor(scale),))
    x = mg.tensor(np.ones(4), requires_grad=True)
    with pytest.raises(mg.GradcheckError, match=r"element \(3,\)"):
        mg.gradcheck(scaled_wrong, [x], mode="elementwise")
