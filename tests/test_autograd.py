"""The graph walk: order, fan-out, broadcasting, grad(), higher order, modes, errors."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.tensor import result


def test_chain_rule_on_a_scalar_expression():
    x, y = mg.tensor(2.0, requires_grad=True), mg.tensor(3.0, requires_grad=True)
    z = (x * y + x.exp()) * y  # dz/dx = (y + eˣ)·y, dz/dy = 2xy + eˣ
    z.backward()
    assert np.isclose(x.grad.item(), (3 + np.exp(2)) * 3)
    assert np.isclose(y.grad.item(), 2 * 2 * 3 + np.exp(2))


def test_fan_out_sums_gradients():
    x = mg.tensor(3.0, requires_grad=True)
    y = x * x * x  # x used three times
    y.backward()
    assert np.isclose(x.grad.item(), 27.0)


def test_broadcasting_is_undone():
    a = mg.tensor(np.ones((2, 3)), requires_grad=True)
    b = mg.tensor(np.ones((3,)), requires_grad=True)
    c = mg.tensor(np.ones((2, 1)), requires_grad=True)
    (a * b + c).sum().backward()
    assert b.grad.shape == (3,) and np.allclose(b.grad.numpy(), 2)
    assert c.grad.shape == (2, 1) and np.allclose(c.grad.numpy(), 3)


def test_twenty_thousand_node_chain():
    x = mg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    y.backward()
    assert np.isclose(x.grad.item(), 1.0001 ** 20_000, rtol=1e-3)


def test_grad_accumulates_across_backward_calls_like_pytorch():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * x).sum().backward()
    assert np.allclose(x.grad.numpy(), [4.0, 8.0])
    assert isinstance(x.grad, mg.Tensor)


def test_grad_function_leaves_dot_grad_alone():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (g,) = mg.grad((x ** 3).sum(), [x])
    assert np.allclose(g.numpy(), [3.0, 12.0]) and x.grad is None


def test_hessian_vector_product():
    # f(x) = Σ xᵢ³ → H = diag(6x); H v = 6 x ⊙ v
    x = mg.tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    v = np.array([1.0, 2.0, 3.0])
    (g,) = mg.grad((x ** 3).sum(), [x], create_graph=True)
    (hv,) = mg.grad((g * mg.tensor(v)).sum(), [x])
    assert np.allclose(hv.numpy(), 6 * x.numpy() * v)


def test_third_derivative_of_tanh():
    x = mg.tensor(0.3, requires_grad=True, dtype=np.float64)
    y = x.tanh()
    (d1,) = mg.grad(y, [x], create_graph=True)
    (d2,) = mg.grad(d1, [x], create_graph=True)
    (d3,) = mg.grad(d2, [x])
    t = np.tanh(0.3)
    assert np.isclose(d3.item(), -2 * (1 - t * t) * (1 - 3 * t * t))


def test_unused_input_is_reported_or_none():
    x, y = mg.tensor(1.0, requires_grad=True), mg.tensor(2.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="input 1"):
        mg.grad(x * 2, [x, y])
    assert mg.grad(x * 2, [x, y], allow_unused=True)[1] is None


def test_backward_on_non_scalar_needs_a_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape minigrad.Size\(\[2\]\)"):
        (x * 2).backward()
    (x * 2).backward(np.array([1.0, 10.0], dtype=np.float32))
    assert np.allclose(x.grad.numpy(), [2.0, 20.0])


def test_backward_without_graph_is_explained():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor(1.0).backward()


def test_no_grad_records_nothing_and_detach_cuts():
    x = mg.tensor(1.0, requires_grad=True)
    with mg.no_grad():
        y = x * 2
    assert y.node is None and not y.requires_grad
    z = (x * 2).detach() * x
    z.backward()
    assert np.isclose(x.grad.item(), 2.0)


def test_retain_grad_keeps_intermediate_gradient():
    x = mg.tensor(2.0, requires_grad=True)
    h = (x * 3).retain_grad()
    (h * h).backward()
    assert np.isclose(h.grad.item(), 12.0) and np.isclose(x.grad.item(), 36.0)


def test_first_order_node_refuses_create_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = result(x.array * 2, "kernel_double", (x,), (lambda g, out: g * 2,), first_order=True)
    with pytest.raises(RuntimeError, match="kernel_double.*first-order"):
        mg.grad(y.sum(), [x], create_graph=True)
    assert np.allclose(mg.grad(y.sum(), [x])[0].numpy(), 2.0)


def test_dtype_rules():
    assert mg.tensor([1, 2]).dtype == np.int64              # int lists become int64 (PyTorch)
    assert mg.tensor([1.0, 2]).dtype == np.float32          # float lists float32
    assert mg.tensor([True]).dtype == np.bool_              # bool lists bool
    assert mg.tensor(np.zeros(2)).dtype == np.float64      # arrays keep their dtype
    assert mg.tensor(np.arange(3)).dtype.kind == "i"        # integer labels stay integers
    x32, x64 = mg.tensor([1.0]), mg.tensor(np.ones(1))
    assert (x32 * 2.5).dtype == np.float32                  # Python numbers adopt the tensor's dtype
    assert (x32 + x64).dtype == np.float64                  # tensors of two float dtypes promote
    assert (mg.tensor([1, 2]) * 2.5).dtype == np.float32   # int tensor ∘ Python float: float32
    with pytest.raises(RuntimeError, match="floating point"):
        mg.tensor(np.arange(3), requires_grad=True)


def test_gradients_keep_the_dtype():
    x = mg.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    (x.exp() * 2).sum().backward()
    assert x.grad.dtype == np.float32


def test_shape_errors_name_the_op_and_shapes():
    a, b = mg.tensor(np.ones((2, 3))), mg.tensor(np.ones((4, 5)))
    with pytest.raises(RuntimeError, match=r"matmul: shapes minigrad.Size\(\[2, 3\]\) and minigrad.Size\(\[4, 5\]\)"):
        a @ b
    with pytest.raises(RuntimeError, match=r"add: shapes \(2, 3\) and \(4, 5\)"):
        a + b
    with pytest.raises(RuntimeError, match="reshape"):
        a.reshape(4)


def test_large_inputs_give_no_nan():
    x = mg.tensor(np.array([[1000.0, -1000.0, 0.0]]), requires_grad=True)
    ls = x.log_softmax(axis=1)
    assert np.all(np.isfinite(ls.numpy()))
    assert np.allclose(x.softmax(axis=1).numpy(), [[1, 0, 0]])
    assert np.isclose(x.logsumexp().item(), 1000.0)
    assert np.isfinite(mg.tensor([-800.0, 800.0]).sigmoid().numpy()).all()
    ls.sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))


def test_cuda_request_without_gpu_is_explained():
    if mg.cuda_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="device 'cuda' is not available"):
        mg.tensor([1.0]).to("cuda")


def test_comparisons_and_item():
    x = mg.tensor([1.0, 2.0, 3.0])
    assert (x > 1.5).numpy().tolist() == [False, True, True]
    assert (x == x).numpy().all()
    assert mg.tensor([4.0]).item() == 4.0
    with pytest.raises(RuntimeError, match="3 elements"):
        x.item()


def test_mixing_devices_names_both():
    from types import SimpleNamespace

    from minigrad.ops.base import check_devices
    cpu = SimpleNamespace(shape=(2,), device="cpu", array=np.zeros(2))
    gpu = SimpleNamespace(shape=(2,), device="cuda", array=object())  # another array type
    with pytest.raises(RuntimeError, match=r"mul: inputs are on different devices \(\(2,\) on cpu, \(2,\) on cuda\)"):
        check_devices("mul", cpu, gpu)


@pytest.mark.parametrize("library", ["minigrad", "torch"])
def test_set_grad_enabled_switches_at_once_as_torch(library):
    """torch.set_grad_enabled(False) called alone turns recording off; in a ``with`` block the
    previous setting comes back at its end; as a decorator it applies to each call only.
    The same assertions run on torch itself where it is installed."""
    lib = mg if library == "minigrad" else pytest.importorskip("torch")
    x = lib.ones(2, requires_grad=True)
    try:
        lib.set_grad_enabled(False)
        assert not lib.is_grad_enabled() and not (x * 2).requires_grad
    finally:
        lib.set_grad_enabled(True)
    assert (x * 2).requires_grad
    with lib.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert lib.is_grad_enabled()

    @lib.set_grad_enabled(False)
    def doubled():
        return x * 2
    assert lib.is_grad_enabled() and not doubled().requires_grad and lib.is_grad_enabled()


def test_no_grad_decorator_restores_after_recursion_and_errors():
    x = mg.ones(2, requires_grad=True)

    @mg.no_grad()
    def depth(n):
        if n == 0:
            raise ValueError("bottom")
        return depth(n - 1)
    with pytest.raises(ValueError):
        depth(3)
    assert mg.is_grad_enabled() and (x * 2).requires_grad


def test_grad_mode_is_per_thread():
    import threading
    seen = []
    with mg.no_grad():
        worker = threading.Thread(target=lambda: seen.append(mg.is_grad_enabled()))
        worker.start()
        worker.join()
    assert seen == [True]  # a new thread starts with recording on, as in PyTorch
