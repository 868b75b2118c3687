"""``cupy.cuda.runtime`` stood in: one device, with properties shaped like an H100's
(sizes only; the stand-in computes with NumPy on the CPU)."""


class CUDARuntimeError(RuntimeError):
    pass


def getDeviceCount():
    return 1


def getDevice():
    return 0


def setDevice(device):
    if device != 0:
        raise CUDARuntimeError(f"cudaErrorInvalidDevice: invalid device ordinal {device}")


def getDeviceProperties(device):
    setDevice(device)
    return {"name": b"CuPy stand-in (NumPy on the CPU)", "totalGlobalMem": 80 * 2 ** 30, "major": 9,
            "minor": 0, "multiProcessorCount": 132, "maxThreadsPerBlock": 1024, "warpSize": 32,
            "sharedMemPerBlock": 48 * 1024, "clockRate": 1980000, "memoryClockRate": 2619000,
            "memoryBusWidth": 5120, "l2CacheSize": 50 * 2 ** 20}


def driverGetVersion():
    return 12040


def runtimeGetVersion():
    return 12040


def deviceSynchronize():
    pass


def memGetInfo():
    from cupy.cuda import Device
    return Device(0).mem_info
