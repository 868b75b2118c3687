"""``cupy.cuda.memory`` stood in: a pool that answers CuPy's questions (nothing is pooled)."""


class OutOfMemoryError(MemoryError):
    def __init__(self, size=0, total=0, limit=0):
        super().__init__(f"Out of memory allocating {size:,} bytes (allocated so far: {total:,} bytes)")


class MemoryPointer:
    """Where an array's data starts (``ptr``), as ``ndarray.data`` gives it."""

    def __init__(self, ptr):
        self.ptr = ptr

    def __int__(self):
        return self.ptr


class MemoryPool:
    def __init__(self):
        self._limit = 0

    def used_bytes(self):
        return 0

    def total_bytes(self):
        return 0

    def free_bytes(self):
        return 0

    def free_all_blocks(self, stream=None):
        pass

    def n_free_blocks(self):
        return 0

    def set_limit(self, size=None, fraction=None):
        self._limit = size or 0

    def get_limit(self):
        return self._limit


class PinnedMemoryPool(MemoryPool):
    pass


default_pool = MemoryPool()
default_pinned_pool = PinnedMemoryPool()
