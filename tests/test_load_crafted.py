"""``mg.load`` on files it did not write: it reads only the arrays its header names,
bounds every array by the file's size before allocating it, and answers anything wrong
with one error, ``CheckpointError`` naming the file — never MemoryError,
RecursionError, AttributeError, ValueError... Crafted cases first, then a hypothesis
fuzz over mutated valid files and structured garbage, with the memory each load takes
measured (tracemalloc sees NumPy's allocations)."""
import io
import json
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.checkpoint import CheckpointError

VALID = {"weight": mg.arange(12.0).reshape(3, 4), "step": 3, "names": ["a", "b"], "bias": np.ones(4)}


def _valid_bytes():
    buffer = io.BytesIO()
    mg.save(VALID, buffer)
    return buffer.getvalue()


def _npy(shape, dtype, payload=None):
    """A .npy member: a header claiming ``shape``/``dtype``, then ``payload`` (default: the
    bytes the header promises)."""
    buffer = io.BytesIO()
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    if payload is None:
        payload = bytes(int(np.prod(shape)) * np.dtype(dtype).itemsize)
    return buffer.getvalue() + payload


def _meta(state, format="minigrad-save"):
    return _array_npy(np.array(json.dumps({"format": format, "version": 1, "state": state})))


def _array_npy(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _zip(members, compression=zipfile.ZIP_STORED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _load(data, tmp_path, name="crafted.pt"):
    """mg.load on ``data`` written to a file; returns (result or the error, peak bytes allocated)."""
    path = tmp_path / name
    path.write_bytes(data)
    tracemalloc.start()
    try:
        try:
            outcome = mg.load(path)
        except CheckpointError as error:
            outcome = error
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return outcome, peak


def _refused(data, tmp_path, match=None):
    outcome, peak = _load(data, tmp_path)
    assert isinstance(outcome, CheckpointError), f"loaded {outcome!r}"
    assert "crafted.pt" in str(outcome)
    if match:
        assert match in str(outcome), str(outcome)
    assert peak < 4 * len(data) + (4 << 20), f"peak {peak} bytes for a {len(data)}-byte file"
    return outcome


def test_a_valid_file_round_trips(tmp_path):
    back, _ = _load(_valid_bytes(), tmp_path)
    np.testing.assert_array_equal(back["weight"].numpy(), VALID["weight"].numpy())
    assert back["step"] == 3 and back["names"] == ["a", "b"]


def test_members_the_header_does_not_name_are_never_read(tmp_path):
    # 64 MiB of zeros deflate to ~64 KiB: np.load's eager read of every member took it all
    bomb = zipfile.ZipFile(io.BytesIO(_valid_bytes()))
    members = {info.filename: bomb.read(info) for info in bomb.infolist()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        archive.writestr("unused.npy", _npy((64 << 20,), "u1"), compress_type=zipfile.ZIP_DEFLATED)
    data = buffer.getvalue()
    assert len(data) < 1 << 20
    back, peak = _load(data, tmp_path)
    assert back["step"] == 3
    assert peak < 4 << 20, f"loading took {peak} bytes"


@pytest.mark.parametrize("case, data, match", [
    ("not a zip", b"\x93NUMPY" + b"\0" * 100, "corrupt"),
    ("a bare .npy", _array_npy(np.arange(3)), "corrupt"),
    ("empty", b"", "corrupt"),
    ("a zip without __meta__", _zip({"a0.npy": _array_npy(np.arange(3))}), "no __meta__"),
    ("a huge shape", _zip({"__meta__.npy": _meta({"__array__": "a0"}), "a0.npy": _npy((10**12,), "f8", b"")}),
     "header says"),
    ("a shape whose bytes overflow int64", _zip({"__meta__.npy": _meta({"__array__": "a0"}),
                                                 "a0.npy": _npy((2**40, 2**40), "f8", b"")}), "header says"),
    ("a referenced compression bomb", _zip({"__meta__.npy": _meta({"__array__": "a0"}),
                                            "a0.npy": _npy((32 << 20,), "u1")}, zipfile.ZIP_DEFLATED),
     "compressed"),
    ("object dtype", _zip({"__meta__.npy": _meta({"__array__": "a0"}),
                           "a0.npy": _npy((2,), "O", b"\0" * 16)}), "objects"),
    ("deep nesting", _zip({"__meta__.npy": _array_npy(np.array(
        '{"format": "minigrad-save", "version": 1, "state": ' + "[" * 100000 + "]" * 100000 + "}"))}), None),
    ("nesting deeper than the recursion limit",
     _zip({"__meta__.npy": _array_npy(np.array(
         '{"format": "minigrad-save", "version": 1, "state": ' + "[" * 990 + "]" * 990 + "}"))}), None),
    ("meta a list", _zip({"__meta__.npy": _array_npy(np.array("[1, 2]"))}), "not a JSON object"),
    ("meta not JSON", _zip({"__meta__.npy": _array_npy(np.array("{{{"))}), "corrupt"),
    ("meta a number array", _zip({"__meta__.npy": _array_npy(np.arange(5))}), "corrupt"),
    ("an array named by a list", _zip({"__meta__.npy": _meta({"__array__": ["a0"]})}), "not a string"),
    ("a missing array", _zip({"__meta__.npy": _meta({"__array__": "a7"})}), "missing"),
    ("a dict that is not one", _zip({"__meta__.npy": _meta({"__dict__": 5})}), "corrupt"),
    ("a tensor without requires_grad", _zip({"__meta__.npy": _meta({"__tensor__": "a0"}),
                                             "a0.npy": _array_npy(np.arange(3.0))}), "corrupt"),
    ("an unhashable key", _zip({"__meta__.npy": _meta({"__dict__": [[[1], 2]]})}), "corrupt"),
    ("one member read twice over", _zip({"__meta__.npy": _meta([{"__array__": "a0"}] * 2),
                                         "a0.npy": _array_npy(np.zeros(1000))}), None),
])
def test_crafted_files_raise_only_the_documented_error(case, data, match, tmp_path):
    if case == "one member read twice over":  # the same array twice is one read, and loads
        back, peak = _load(data, tmp_path)
        assert back[0] is back[1] and peak < 1 << 20
        return
    _refused(data, tmp_path, match)


def test_overlapping_members_cannot_multiply_memory(tmp_path):
    # ten directory entries on one stored array would read it ten times: the arrays read
    # together must fit in the file
    payload = _array_npy(np.zeros(10_000))
    meta = _meta([{"__array__": f"a{i}"} for i in range(10)])
    back, _ = _load(_zip({"__meta__.npy": meta, **{f"a{i}.npy": payload for i in range(10)}}), tmp_path)
    assert len(back) == 10  # ten distinct members: they fit, and load
    _refused(_overlapping(meta, payload, 10), tmp_path)


def _overlapping(meta, payload, copies):
    """A zip whose ``copies`` central-directory entries a0 … a9 all point at one stored member."""
    data = _zip({"__meta__.npy": meta, "a0.npy": payload})
    end = data.rindex(b"PK\x05\x06")  # end of central directory record
    start = int.from_bytes(data[end + 16:end + 20], "little")
    entries, position = [], start
    while position < end:  # each entry: 46 fixed bytes, then name, extra field and comment
        size = 46 + sum(int.from_bytes(data[position + k:position + k + 2], "little") for k in (28, 30, 32))
        entries.append(data[position:position + size])
        position += size
    target = next(e for e in entries if e[46:52] == b"a0.npy")
    directory = b"".join(entries) + b"".join(target.replace(b"a0.npy", f"a{i}.npy".encode())
                                             for i in range(1, copies))
    record = bytearray(data[end:end + 22])
    record[8:10] = record[10:12] = (len(entries) + copies - 1).to_bytes(2, "little")
    record[12:16] = len(directory).to_bytes(4, "little")
    return data[:start] + directory + bytes(record)


# ---- fuzz -----------------------------------------------------------------------------------------
def _check(data, tmp_path):
    outcome, peak = _load(data, tmp_path)
    if isinstance(outcome, CheckpointError):
        assert "crafted.pt" in str(outcome)
    assert peak < 4 * len(data) + (4 << 20), f"peak {peak} bytes for a {len(data)}-byte file"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8),
       cut=st.one_of(st.none(), st.integers(0, 10**6)))
def test_fuzz_mutated_valid_files(edits, cut, tmp_path):
    data = bytearray(_valid_bytes())
    for position, value in edits:
        data[position % len(data)] = value
    if cut is not None:
        data = data[:cut % len(data)]
    _check(bytes(data), tmp_path)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5)
    | st.sampled_from(["a0", "a1", "__array__", "__tensor__", "__dict__", "__tuple__"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["__array__", "__tensor__", "__dict__", "__tuple__", "requires_grad", "x"]), children,
        max_size=3),
    max_leaves=12)
headers = st.tuples(st.lists(st.integers(0, 2**62), max_size=3).map(tuple),
                    st.sampled_from(["<f4", "<f8", "|u1", "<i8", "|b1", ">f4", "<U3"]),
                    st.binary(max_size=64))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(state=json_values, arrays=st.lists(headers, max_size=3),
       compressed=st.booleans(), format=st.sampled_from(["minigrad-save", "minigrad-checkpoint", "other"]))
def test_fuzz_structured_garbage(state, arrays, compressed, format, tmp_path):
    members = {"__meta__.npy": _meta(state, format)}
    for i, (shape, dtype, payload) in enumerate(arrays):
        members[f"a{i}.npy"] = _npy(shape, dtype, payload)
    _check(_zip(members, zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED), tmp_path)
