"""The CUDA kernels index in 32 bits (``kernels.cuda_launch.divmod32``): an array of
2³¹ elements or more is refused before any kernel runs, with the op and the size named."""
import numpy as np
import pytest

import kernels.conv
from kernels import cuda_launch


def test_the_limit_is_2_to_the_31():
    cuda_launch.check_index_range("op", 2**31 - 1, np.zeros(3))
    with pytest.raises(RuntimeError, match=r"op: an array of 2,147,483,648 elements .* 32 bits"):
        cuda_launch.check_index_range("op", 2**31)


def test_conv2d_refuses_columns_past_the_limit_before_allocating_them():
    # 1024 images × 32·32 pixels × 256·3·3 taps = 2.4e9 column entries; x is a
    # zero-stride view, so the test allocates nothing of that size
    x = np.broadcast_to(np.float32(0), (1024, 256, 32, 32))
    w = np.zeros((8, 256, 3, 3), np.float32)
    with pytest.raises(RuntimeError, match=r"conv2d: an array of 2,415,919,104 elements"):
        kernels.conv.forward(x, w, None, 1, 1)
