#!/usr/bin/python3
"""Writes mlgate's own model corpus: tests/corpus/models/** and expected.tsv.

Every container variant and bypass class of the model gate gets a malicious
and a benign case, built with the real libraries where Debian has them
(python3-torch, -numpy, -sklearn, -joblib, -dill, -cloudpickle, -h5py,
-onnx) and by hand where a format has no writer here (legacy torch tar,
safetensors, GGUF, Keras v3 zips, zip tricks). The outputs are committed, so
tests need no Python:

    apt-get install python3-torch python3-numpy python3-sklearn python3-joblib \\
        python3-dill python3-cloudpickle python3-h5py python3-onnx p7zip-full
    /usr/bin/python3 tests/corpus/make_models.py          # from the repo root

Malicious payloads are structurally what real attacks ship (a __reduce__ to
os.system, eval, a nested pickle.loads, a marshalled Keras Lambda, ...) but
harmless if ever loaded: the command is `true`, evaluated code is `1+1`.
Nothing here loads a malicious file.

Outputs are deterministic (fixed zip/tar times, seeded data), except 7z
archives, whose headers depend on the p7zip version.
"""
import base64
import collections
import datetime
import decimal
import gzip
import io
import json
import marshal
import os
import pickle
import struct
import subprocess
import sys
import tarfile
import tempfile
import warnings
import zipfile
import zlib

warnings.filterwarnings("ignore")

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
ROWS = []  # (path, expect, dangerous globals, what it tests)
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def out(path, data, expect, globs, note):
    full = os.path.join(ROOT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(data)
    ROWS.append((path, expect, ",".join(globs), note))


# --------------------------------------------------------------------------
# hand-assembled pickles

def op_str(s):
    """SHORT_BINUNICODE"""
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def proto(n):
    return b"\x80" + bytes([n])


class Shell:
    """os.system('true') through __reduce__, the way real payloads do it
    (pickles as posix.system on Linux)."""

    def __reduce__(self):
        return (os.system, ("true",))


class Evaluate:
    def __reduce__(self):
        return (eval, ("1+1",))


BENIGN = {
    "name": "benign",
    "values": [1, 2.5, "text", b"bytes", None, True],
    "set": {1, 2, 3},
    "frozen": frozenset(["a"]),
    "ordered": collections.OrderedDict(a=1, b=2),
    "counter": collections.Counter("abca"),
    "deque": collections.deque([1, 2]),
    "when": datetime.datetime(2020, 1, 2, 3, 4, 5),
    "delta": datetime.timedelta(days=1),
    "price": decimal.Decimal("1.25"),
    "complex": 1 + 2j,
    "slice": slice(1, 5, 2),
    "range": range(3),
    "raw": bytearray(b"xyz"),
}


def pickles():
    for p in range(6):
        out("pickle/benign_p%d.pkl" % p, pickle.dumps(BENIGN, protocol=p), "pass", [],
            "dict of builtins, collections, datetime, Decimal, protocol %d (Python 3 "
            "pickles bytes at protocols 0-2 via _codecs.encode and names __builtin__ there)" % p)
    for p in range(6):
        out("pickle/malicious_reduce_p%d.pkl" % p, pickle.dumps(Shell(), protocol=p), "block",
            ["posix.system"], "__reduce__ to os.system('true'), protocol %d (pickled as posix.system)" % p)
    out("pickle/malicious_global_p0.pkl", b"cos\nsystem\n(S'true'\ntR.", "block", ["os.system"],
        "GLOBAL 'os system' + TUPLE + REDUCE, protocol 0 text opcodes")
    out("pickle/malicious_eval_p4.pkl", pickle.dumps(Evaluate(), protocol=4), "block",
        ["builtins.eval"], "builtins.eval('1+1') via STACK_GLOBAL, protocol 4")
    out("pickle/malicious_py2_builtin_eval.pkl", b"c__builtin__\neval\n(S'1+1'\ntR.", "block",
        ["__builtin__.eval"], "Python 2 module name __builtin__ (Python 3 renames it to builtins)")
    out("pickle/benign_py2_names.pkl",
        b"(lp0\nc__builtin__\nset\np1\n((lp2\nI1\natp3\nRp4\nac__builtin__\nxrange\np5\n(I3\ntRp6\na.",
        "pass", [], "Python 2 names __builtin__.set and __builtin__.xrange (renamed to builtins.set/range)")

    # memo and STACK_GLOBAL tricks: the names reach STACK_GLOBAL through
    # PUT/GET, MEMOIZE and POP so that a look-back scanner sees other strings
    evil = (proto(4) + op_str("os") + b"\x94" + op_str("decoy") + b"\x94" + b"0"
            + op_str("system") + b"\x94" + b"0" + b"h\x00" + b"h\x02" + b"\x93"
            + op_str("true") + b"\x85R.")
    out("pickle/malicious_memo_stack_global.pkl", evil, "block", ["os.system"],
        "STACK_GLOBAL whose module and name come from the memo (MEMOIZE, POP, BINGET), "
        "with a decoy string in between (picklescan issue #22 style)")
    good = (proto(4) + op_str("collections") + b"\x94" + b"0" + op_str("decoy") + b"\x94" + b"0"
            + op_str("OrderedDict") + b"\x94" + b"0" + b"h\x00" + b"h\x02" + b"\x93"
            + b")R.")
    out("pickle/benign_memo_stack_global.pkl", good, "pass", [],
        "same memo shape resolving to collections.OrderedDict (the stack left empty, as a "
        "pickler would)")
    swapped = (proto(4) + op_str("system") + b"\x94" + op_str("os") + b"\x94"
               + b"h\x01" + b"h\x00" + b"\x93" + op_str("true") + b"\x85R.")
    out("pickle/malicious_memo_swapped.pkl", swapped, "block", ["os.system"],
        "strings pushed in the wrong order, re-read from the memo in the right one")
    nonstr = proto(4) + b"K*" + op_str("system") + b"\x93" + op_str("true") + b"\x85R."
    out("pickle/malicious_stack_global_nonstring.pkl", nonstr, "block", [],
        "STACK_GLOBAL with an int as module: CPython stops ('STACK_GLOBAL requires str'), "
        "so it is a malformed stream, never data that passes")
    dotted = proto(4) + op_str("pathlib") + op_str("os.system") + b"\x93" + op_str("true") + b"\x85R."
    out("pickle/malicious_dotted_name.pkl", dotted, "block", ["pathlib.os.system"],
        "dotted name resolved through attributes: pathlib -> os -> system")
    dunder = (proto(4) + op_str("collections") + op_str("OrderedDict.__init__.__globals__")
              + b"\x93.")
    out("pickle/malicious_dunder_walk.pkl", dunder, "block",
        ["collections.OrderedDict.__init__.__globals__"],
        "dotted name walking special attributes to a module's globals")

    # INST / OBJ / NEWOBJ_EX
    out("pickle/malicious_inst.pkl", b"(S'true'\nios\nsystem\n.", "block", ["os.system"],
        "INST opcode (imports and calls in one opcode), protocol 0")
    out("pickle/benign_inst.pkl", b"(icollections\nOrderedDict\n.", "pass", [],
        "INST collections.OrderedDict")
    out("pickle/malicious_obj.pkl", proto(1) + b"(cos\nsystem\nX\x04\x00\x00\x00trueo.", "block",
        ["os.system"], "OBJ opcode calling os.system, protocol 1")
    newobj_ex = (proto(4) + op_str("subprocess") + op_str("Popen") + b"\x93"
                 + op_str("true") + b"\x85" + b"}" + b"\x92.")
    out("pickle/malicious_newobj_ex.pkl", newobj_ex, "block", ["subprocess.Popen"],
        "NEWOBJ_EX on subprocess.Popen (cls.__new__ path)")
    gadget = (proto(2) + b"c__builtin__\ngetattr\n" + b"c__builtin__\n__import__\n"
              + b"X\x02\x00\x00\x00os\x85R" + b"X\x06\x00\x00\x00system\x86R"
              + b"X\x04\x00\x00\x00true\x85R.")
    out("pickle/malicious_getattr_import.pkl", gadget, "block",
        ["__builtin__.getattr", "__builtin__.__import__"],
        "getattr(__import__('os'), 'system')('true'): nothing but builtins")
    out("pickle/benign_newobj.pkl", pickle.dumps(__import__("argparse").Namespace(lr=0.1, epochs=3), protocol=4),
        "pass", [], "argparse.Namespace via NEWOBJ-free reduce (copyreg path), protocol 4")

    # nested pickles
    inner = pickle.dumps(Shell(), protocol=4)
    nested = proto(4) + op_str("pickle") + op_str("loads") + b"\x93" + b"C" + bytes([len(inner)]) + inner + b"\x85R."
    out("pickle/malicious_nested_loads.pkl", nested, "block", ["pickle.loads", "posix.system"],
        "pickle.loads(b'<pickle of os.system>'): outer import dangerous, inner pickle scanned")
    class NestedLoads:
        def __reduce__(self):
            return (pickle.loads, (inner,))

    out("pickle/malicious_nested_codecs.pkl", pickle.dumps(NestedLoads(), protocol=2), "block",
        ["pickle.loads", "posix.system"],
        "pickle.loads(_codecs.encode(str, 'latin1')), protocol 2: the nested bytes only exist "
        "after a call")
    data_only = pickle.dumps({"blob": inner, "note": "pickle bytes kept as data"}, protocol=4)
    out("pickle/benign_pickle_bytes_as_data.pkl", data_only, "pass", [],
        "pickle bytes stored as plain data (no loads call): not a nested pickle")

    # EXT codes: the copyreg extension registry is empty by default, so any
    # EXT names an import nobody can know
    out("pickle/malicious_ext1.pkl", proto(2) + b"\x82\x01" + b"X\x04\x00\x00\x00true\x85R.", "block",
        ["?.?"], "EXT1 code 1 called with 'true': unresolvable import")
    out("pickle/malicious_ext4.pkl", proto(2) + b"\x84\xff\xff\xff\x7f" + b")R.", "block",
        ["?.?"], "EXT4 code 0x7fffffff")
    ext_data = pickle.dumps([b"\x82\x01\x83\x01\x00\x84\x01\x00\x00\x00"], protocol=3)
    out("pickle/benign_ext_bytes_as_data.pkl", ext_data, "pass", [],
        "EXT opcode bytes inside a bytes literal (data, not opcodes)")

    # several pickles in one stream
    b1 = pickle.dumps([1, 2, 3], protocol=2)
    b2 = pickle.dumps(collections.OrderedDict(x=1), protocol=4)
    out("pickle/malicious_multi_last.pkl", b1 + b2 + b1 + pickle.dumps(Shell(), protocol=2), "block",
        ["posix.system"], "four pickles back to back, os.system only in the last one")
    out("pickle/benign_multi.pkl", b1 + b2 + b1, "pass", [], "three benign pickles back to back")

    # truncated streams
    mal = pickle.dumps(Shell(), protocol=2)
    cut = mal.index(b"system") + len(b"system\n")
    out("pickle/malicious_truncated.pkl", mal[:cut], "block", ["posix.system"],
        "stream cut right after GLOBAL posix.system (no STOP): imports before the error still count")
    ok = pickle.dumps(BENIGN, protocol=2)
    out("pickle/benign_complete.pkl", ok, "pass", [], "the benign stream, complete")
    out("pickle/malformed_truncated_benign.pkl", ok[: len(ok) // 2], "block", [],
        "benign stream cut in half: malformed artifact (a loader fails on it)")


# --------------------------------------------------------------------------
# torch

def torch_models():
    import torch
    import torch.nn as nn

    torch.manual_seed(0)

    def save(obj, **kw):
        # The legacy format names storages str(storage._cdata), a memory
        # address: give torch.serialization a str() that numbers addresses
        # in order of appearance, for reproducible bytes.
        ids = {}
        pystr = str

        class StrType(type):
            def __instancecheck__(cls, o):
                return isinstance(o, pystr)

        class det_str(pystr, metaclass=StrType):
            def __new__(cls, x=""):
                if isinstance(x, int) and x > (1 << 16):
                    x = ids.setdefault(x, len(ids))
                return pystr(x)

        b = io.BytesIO()
        torch.serialization.str = det_str
        try:
            torch.save(obj, b, **kw)
        finally:
            del torch.serialization.str
        return b.getvalue()

    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4, 2))
    out("torch/sequential_full.pt", save(model), "pass", [],
        "torch.save of a whole nn.Module (Sequential: Conv2d, BatchNorm2d, ReLU, Flatten, Linear), zip format")
    out("torch/state_dict.pt", save(model.state_dict()), "pass", [], "torch.save of a state_dict")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.zeros(2, 3, 3, 3)).sum().backward()
    opt.step()
    ckpt = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3,
            "shape": torch.Size([2, 3]), "device": torch.device("cpu"), "dtype": torch.float32}
    out("torch/checkpoint.pt", save(ckpt), "pass", [],
        "training checkpoint: state_dict, Adam state, epoch, torch.Size, device, dtype")
    out("torch/legacy_state_dict.pt", save(model.state_dict(), _use_new_zipfile_serialization=False),
        "pass", [], "legacy (non-zip) stream: magic number, protocol, sys_info, object, storage keys, raw storages")
    out("torch/legacy_full.pt", save(model, _use_new_zipfile_serialization=False), "pass", [],
        "legacy stream of a whole nn.Module (class source kept in persistent ids)")

    class Evil(nn.Module):
        def __reduce__(self):
            return (os.system, ("true",))

    evil_ckpt = {"model": model.state_dict(), "hook": Evil()}
    out("torch/malicious_reduce.pt", save(evil_ckpt), "block", ["posix.system"],
        "zip checkpoint whose data.pkl holds an object reducing to os.system")
    out("torch/malicious_legacy.pt", save(evil_ckpt, _use_new_zipfile_serialization=False), "block",
        ["posix.system"], "legacy stream with the same payload in the object pickle")

    good = save(model.state_dict())
    zin = zipfile.ZipFile(io.BytesIO(good))
    root = zin.namelist()[0].split("/")[0]

    def rezip(members, name_map=lambda n: n):
        b = io.BytesIO()
        with zipfile.ZipFile(b, "w", zipfile.ZIP_STORED) as z:
            for n, data in members:
                z.writestr(zipfile.ZipInfo(name_map(n), ZIP_TIME), data)
        return b.getvalue()

    members = [(n, zin.read(n)) for n in zin.namelist()]
    out("torch/renamed_root.pt", rezip(members, lambda n: n.replace(root + "/", "weights_v2/", 1)),
        "pass", [], "state_dict zip whose root folder is renamed (torch loads any root name)")
    evil_pkl = pickle.dumps(Shell(), protocol=2)
    swapped = [(n, evil_pkl if n.endswith("/data.pkl") else d) for n, d in members]
    out("torch/malicious_renamed_root.pt",
        rezip(swapped, lambda n: n.replace(root + "/", "weights_v2/", 1)), "block", ["posix.system"],
        "renamed root folder and a malicious data.pkl")
    out("torch/malicious_extra_member.pt", rezip(members + [(root + "/extra/optimizer.pkl", evil_pkl)]),
        "block", ["posix.system"], "benign checkpoint plus an extra .pkl member holding os.system")
    out("torch/malicious_extra_member_noext.pt", rezip(members + [(root + "/extra_state", evil_pkl)]),
        "block", ["posix.system"], "extra member without a .pkl name that is a pickle (content decides; "
        "outside data/, whose members torch reads as raw storage bytes)")

    scripted = torch.jit.script(model)
    b = io.BytesIO()
    torch.jit.save(scripted, b)
    ts = b.getvalue()
    out("torch/torchscript.pt", ts, "pass", [],
        "TorchScript archive (torch.jit.save): data.pkl names __torch__ classes, code/ holds TorchScript")
    tz = zipfile.ZipFile(io.BytesIO(ts))
    tmembers = [(n, tz.read(n)) for n in tz.namelist()]
    tbad = [(n, evil_pkl if n.endswith("/constants.pkl") else d) for n, d in tmembers]
    out("torch/malicious_torchscript_constants.pt", rezip(tbad), "block", ["posix.system"],
        "TorchScript archive whose constants.pkl reduces to os.system")

    # legacy tar format (torch < 0.4): members sys_info, pickle, storages,
    # tensors. torch 1.13 still loads it; it cannot write it, so build it.
    def legacy_tar(obj_pickle):
        sys_info = pickle.dumps(dict(protocol_version=1001, little_endian=True,
                                     type_sizes=dict(short=2, int=4, long=4)), protocol=2)
        st = io.BytesIO()
        pickle.dump(1, st, protocol=2)
        pickle.dump((0, "cpu", torch.FloatStorage), st, protocol=2)
        st.write(struct.pack("<q", 4) + struct.pack("<4f", 1.0, 2.0, 3.0, 4.0))
        pickle.dump([], st, protocol=2)
        tn = io.BytesIO()
        pickle.dump(0, tn, protocol=2)
        b = io.BytesIO()
        with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
            for name, data in (("sys_info", sys_info), ("pickle", obj_pickle),
                               ("storages", st.getvalue()), ("tensors", tn.getvalue())):
                ti = tarfile.TarInfo(name)
                ti.size = len(data)
                ti.mtime = 0
                t.addfile(ti, io.BytesIO(data))
        return b.getvalue()

    class Ref:
        """A storage reference pickled as persistent id '0'."""

    class P(pickle.Pickler):
        def persistent_id(self, o):
            return "0" if isinstance(o, Ref) else None

    def rebuild_pickle(extra):
        b = io.BytesIO()
        obj = collections.OrderedDict(weight=_Rebuild(Ref()))
        if extra is not None:
            obj["extra"] = extra
        P(b, protocol=2).dump(obj)
        return b.getvalue()

    class _Rebuild:
        def __init__(self, ref):
            self.ref = ref

        def __reduce__(self):
            return (torch._utils._rebuild_tensor, (self.ref, 0, (4,), (1,)))

    benign_tar = legacy_tar(rebuild_pickle(None))
    with tempfile.NamedTemporaryFile(suffix=".pt") as tf:  # the tar loader needs a real file
        tf.write(benign_tar)
        tf.flush()
        check = torch.load(tf.name)
    assert check["weight"].tolist() == [1.0, 2.0, 3.0, 4.0], check
    out("torch/legacy_tar.pt", benign_tar, "pass", [],
        "legacy tar format (sys_info, pickle, storages, tensors), hand-built, loads in torch 1.13")
    out("torch/malicious_legacy_tar.pt", legacy_tar(rebuild_pickle(Shell())), "block", ["posix.system"],
        "legacy tar format whose 'pickle' member reduces to os.system")


# --------------------------------------------------------------------------
# numpy

def h5_file(path):
    """An HDF5 file without object timestamps (reproducible bytes), and a
    group maker that keeps it that way."""
    import h5py
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    f = h5py.File(h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl))
    gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    gcpl.set_obj_track_times(False)

    def group(parent, path_):
        for part in path_.split("/"):
            if part not in parent:
                h5py.h5g.create(parent.id, part.encode(), gcpl=gcpl)
            parent = parent[part]
        return parent
    return f, group


def numpy_models():
    import numpy as np

    def npy(a):
        b = io.BytesIO()
        np.save(b, a, allow_pickle=True)
        return b.getvalue()

    out("numpy/int.npy", npy(np.arange(12, dtype=np.int32).reshape(3, 4)), "pass", [],
        "plain int32 .npy (no pickle)")
    out("numpy/object.npy", npy(np.array([1, "two", 3.0, None], dtype=object)), "pass", [],
        "object-dtype .npy: the array is a pickle of numpy globals only")
    # a real attack: the header says object dtype, the payload is any pickle
    hdr_src = npy(np.array([None], dtype=object))
    hl = struct.unpack("<H", hdr_src[8:10])[0]
    header = hdr_src[: 10 + hl]
    out("numpy/malicious_object.npy", header + pickle.dumps(Shell(), protocol=3), "block", ["posix.system"],
        "object-dtype .npy whose pickle reduces to os.system")

    def npz(arrays, compress):
        b = io.BytesIO()
        with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
            for name, data in arrays:
                z.writestr(zipfile.ZipInfo(name + ".npy", ZIP_TIME), data)
        return b.getvalue()

    ints = npy(np.arange(5))
    objs = npy(np.array([{"a": 1}, [1, 2]], dtype=object))
    out("numpy/arrays.npz", npz([("a", ints), ("b", npy(np.eye(2)))], False), "pass", [], "npz of int/float arrays")
    out("numpy/object_member.npz", npz([("a", ints), ("obj", objs)], True), "pass", [],
        "deflated npz with an object-dtype member (numpy globals, dict, list)")
    out("numpy/malicious_object_member.npz",
        npz([("a", ints), ("obj", header + pickle.dumps(Shell(), protocol=3))], True), "block",
        ["posix.system"], "deflated npz whose object member reduces to os.system")


# --------------------------------------------------------------------------
# scikit-learn, joblib, dill, cloudpickle

def sklearn_joblib():
    import numpy as np
    import joblib
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.RandomState(0)
    X = rng.rand(40, 3)
    y = (X[:, 0] > 0.5).astype(int)
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    out("sklearn/pipeline.pkl", pickle.dumps(pipe, protocol=4), "pass", [],
        "pickle of a fitted StandardScaler + LogisticRegression pipeline")
    out("sklearn/decision_tree_p2.pkl", pickle.dumps(tree, protocol=2), "pass", [],
        "pickle (protocol 2) of a fitted DecisionTreeClassifier (sklearn.tree._tree.Tree state)")

    def jl(obj, compress=0):
        b = io.BytesIO()
        joblib.dump(obj, b, compress=compress)
        return b.getvalue()

    out("joblib/array.joblib", jl(np.arange(20.0).reshape(4, 5)), "pass", [],
        "joblib.dump of a numpy array: pickle with an inline raw array buffer")
    out("joblib/pipeline.joblib", jl(pipe), "pass", [], "joblib.dump of the fitted pipeline, uncompressed")
    out("joblib/pipeline_compress3.joblib", jl(pipe, 3), "pass", [],
        "joblib.dump(compress=3): zlib stream around the pickle and its array buffers")
    out("joblib/tree_compress3.joblib", jl(tree, 3), "pass", [], "joblib.dump(compress=3) of a decision tree")
    evil = {"model": pipe, "hook": Shell()}
    out("joblib/malicious.joblib", jl(evil), "block", ["posix.system"],
        "joblib file whose pickle also holds an os.system reduce (after inline arrays)")
    out("joblib/malicious_compress3.joblib", jl(evil, 3), "block", ["posix.system"],
        "the same, compress=3 (zlib)")
    out("joblib/malicious_gzip.joblib", jl(evil, ("gzip", 3)), "block", ["posix.system"],
        "the same, compress=('gzip', 3)")

    import dill
    import cloudpickle
    out("dill/benign.pkl", dill.dumps({"weights": [0.1, 0.2], "name": "m"}), "pass", [],
        "dill.dumps of plain data (standard pickle opcodes only)")
    src = "def hook():\n    import os\n    return os.system('true')\n"
    ns = {}
    exec(compile(src, "payload", "exec"), ns)
    out("dill/malicious_function.pkl", dill.dumps(ns["hook"], recurse=True), "block",
        ["dill._dill._create_function", "dill._dill._create_code"],
        "dill-serialised function whose code calls os.system (code object rebuilt at load)")
    out("cloudpickle/benign.pkl", cloudpickle.dumps({"weights": [0.1, 0.2]}), "pass", [],
        "cloudpickle.dumps of plain data")
    out("cloudpickle/malicious_function.pkl", cloudpickle.dumps(ns["hook"]), "block",
        ["cloudpickle.cloudpickle._make_function"],
        "cloudpickle-serialised function calling os.system (CodeType rebuilt at load)")


# --------------------------------------------------------------------------
# Keras

def keras_models():
    import numpy as np

    def dense(name, units, act="relu"):
        return {"module": "keras.layers", "class_name": "Dense",
                "config": {"name": name, "units": units, "activation": act, "use_bias": True},
                "registered_name": None}

    def config(layers):
        return {"module": "keras", "class_name": "Sequential",
                "config": {"name": "sequential", "layers": [
                    {"module": "keras.layers", "class_name": "InputLayer",
                     "config": {"batch_shape": [None, 4], "dtype": "float32", "name": "input"},
                     "registered_name": None}] + layers},
                "registered_name": None, "build_config": {"input_shape": [None, 4]}}

    def weights_h5():
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "w.h5")
            f, group = h5_file(p)
            with f:
                g = group(f, "layers/dense/vars")
                g.create_dataset("0", data=np.zeros((4, 2), np.float32), track_times=False)
                g.create_dataset("1", data=np.zeros((2,), np.float32), track_times=False)
            return open(p, "rb").read()

    w = weights_h5()
    meta = json.dumps({"keras_version": "3.3.3", "date_saved": "2024-01-01@00:00:00"}).encode()

    def keras_zip(cfg, extra=()):
        b = io.BytesIO()
        with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(zipfile.ZipInfo("metadata.json", ZIP_TIME), meta)
            z.writestr(zipfile.ZipInfo("config.json", ZIP_TIME), json.dumps(cfg, indent=1))
            z.writestr(zipfile.ZipInfo("model.weights.h5", ZIP_TIME), w)
            for n, d in extra:
                z.writestr(zipfile.ZipInfo(n, ZIP_TIME), d)
        return b.getvalue()

    out("keras/model.keras", keras_zip(config([dense("dense", 2)])), "pass", [],
        "Keras v3 .keras zip: Sequential(Dense) config.json, metadata.json, model.weights.h5")
    code = marshal.dumps(compile("lambda x: __import__('os').system('true') or x", "<lambda>", "eval"))
    lam = {"module": "keras.layers", "class_name": "Lambda",
           "config": {"name": "lambda", "function": {"class_name": "__lambda__", "config": {
               "code": base64.b64encode(code).decode(), "defaults": None, "closure": None}},
               "arguments": {}}, "registered_name": None}
    out("keras/malicious_lambda.keras", keras_zip(config([dense("dense", 2), lam])), "block", [],
        "Lambda layer carrying marshalled Python bytecode (runs os.system when the model is built)")
    custom = {"module": "os", "class_name": "system", "config": {"command": "true"},
              "registered_name": "os>system"}
    out("keras/malicious_custom_module.keras", keras_zip(config([dense("dense", 2), custom])), "block", [],
        "layer whose module/registered_name point outside keras (os.system)")
    pkgcustom = {"module": "mypackage.layers", "class_name": "MyLayer", "config": {"name": "my"},
                 "registered_name": "mypackage>MyLayer"}
    out("keras/custom_layer_registered.keras", keras_zip(config([dense("dense", 2), pkgcustom])), "block", [],
        "custom layer from a third-party module (imported at load: unknown code, blocks under strict)")
    out("keras/malicious_embedded_py.keras",
        keras_zip(config([dense("dense", 2)]), [("custom_objects.py", b"import os\nos.system('true')\n")]),
        "block", [], "benign config plus an embedded Python file in the archive")

    def h5_model(cfg):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "m.h5")
            f, group = h5_file(p)
            with f:
                f.attrs["keras_version"] = "2.13.1"
                f.attrs["backend"] = "tensorflow"
                f.attrs["model_config"] = json.dumps(cfg)
                g = group(f, "model_weights/dense/dense")
                g.create_dataset("kernel:0", data=np.zeros((4, 2), np.float32), track_times=False)
            return open(p, "rb").read()

    cfg2 = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "Dense", "config": {"name": "dense", "units": 2, "activation": "relu"}}]}}
    out("keras/model.h5", h5_model(cfg2), "pass", [], "Keras HDF5 model: model_config attribute with Dense")
    lam2 = {"class_name": "Lambda", "config": {"name": "lambda", "function": [
        base64.b64encode(code).decode(), None, None], "function_type": "lambda"}}
    cfg3 = {"class_name": "Sequential", "config": {"name": "sequential",
                                                    "layers": cfg2["config"]["layers"] + [lam2]}}
    out("keras/malicious_lambda.h5", h5_model(cfg3), "block", [],
        "Keras HDF5 model_config with a Lambda layer (marshalled bytecode)")


# --------------------------------------------------------------------------
# safetensors (hand-built: no writer on Debian 12)

def safetensors_file(header, data, pad=True):
    h = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


def safetensors_models():
    w = struct.pack("<6f", *range(6))
    b_ = struct.pack("<2f", 0.5, 1.5)
    good = {"__metadata__": {"format": "pt"},
            "weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
            "bias": {"dtype": "F32", "shape": [2], "data_offsets": [24, 32]}}
    out("safetensors/good.safetensors", safetensors_file(good, w + b_), "pass", [],
        "two F32 tensors tiling the data exactly")
    overlap = json.loads(json.dumps(good))
    overlap["bias"]["data_offsets"] = [16, 24]
    out("safetensors/bad_overlap.safetensors", safetensors_file(overlap, w + b_), "block", [],
        "offsets overlap and leave a gap (data not tiled)")
    shape = json.loads(json.dumps(good))
    shape["weight"]["shape"] = [4, 3]
    out("safetensors/bad_shape.safetensors", safetensors_file(shape, w + b_), "block", [],
        "dtype x shape (48 bytes) differs from the offsets (24 bytes)")
    out("safetensors/bad_trailing.safetensors", safetensors_file(good, w + b_ + b"\0" * 8), "block", [],
        "8 bytes after the last tensor")
    raw = safetensors_file(good, w + b_)
    out("safetensors/bad_header_length.safetensors", struct.pack("<Q", 1 << 40) + raw[8:], "block", [],
        "header length of 1 TiB (far beyond the file and any cap)")
    h = b'{"weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"weight":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}'
    out("safetensors/bad_duplicate_key.safetensors", struct.pack("<Q", len(h)) + h + b"\0" * 16, "block", [],
        "the same tensor name twice in the header")
    h = b'{"weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8],}}'
    out("safetensors/bad_json.safetensors", struct.pack("<Q", len(h)) + h + b"\0" * 8, "block", [],
        "header is not strict JSON (trailing comma)")
    dt = json.loads(json.dumps(good))
    dt["bias"]["dtype"] = "F33"
    out("safetensors/bad_dtype.safetensors", safetensors_file(dt, w + b_), "block", [], "unknown dtype F33")


# --------------------------------------------------------------------------
# GGUF (hand-built, version 3)

def gguf_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_kv(key, vtype, value):
    out_ = gguf_str(key) + struct.pack("<I", vtype)
    if vtype == 8:
        out_ += gguf_str(value)
    elif vtype == 4:
        out_ += struct.pack("<I", value)
    elif vtype == 6:
        out_ += struct.pack("<f", value)
    return out_


def gguf_file(kvs, ntensors=1, kv_count=None, tensor_dims=(4, 2)):
    head = b"GGUF" + struct.pack("<I", 3) + struct.pack("<Q", ntensors)
    head += struct.pack("<Q", len(kvs) if kv_count is None else kv_count)
    body = b"".join(gguf_kv(*kv) for kv in kvs)
    tinfo = b""
    for i in range(ntensors):
        tinfo += gguf_str("blk.%d.weight" % i) + struct.pack("<I", len(tensor_dims))
        tinfo += b"".join(struct.pack("<Q", d) for d in tensor_dims)
        tinfo += struct.pack("<I", 0) + struct.pack("<Q", i * 32)  # F32, offset
    data = head + body + tinfo
    data += b"\0" * ((32 - len(data) % 32) % 32)
    return data + b"\0" * (32 * ntensors)


def gguf_models():
    base = [("general.architecture", 8, "llama"), ("general.name", 8, "tiny"),
            ("general.alignment", 4, 32), ("llama.context_length", 4, 128)]
    out("gguf/good.gguf", gguf_file(base), "pass", [], "GGUF v3: four metadata keys, one F32 tensor")
    tmpl = ("{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}\n"
            "{% endfor %}<|assistant|>\n")
    out("gguf/chat_template.gguf", gguf_file(base + [("tokenizer.chat_template", 8, tmpl)]), "pass", [],
        "GGUF with an ordinary Jinja chat template (presence is reported, not blocked)")
    ssti = ("{% for c in ().__class__.__base__.__subclasses__() %}{% if c.__name__ == 'Popen' %}"
            "{{ c('true', shell=True) }}{% endif %}{% endfor %}")
    out("gguf/malicious_chat_template.gguf", gguf_file(base + [("tokenizer.chat_template", 8, ssti)]),
        "block", [], "chat template that walks __subclasses__ to Popen (Jinja SSTI, CVE-2024-34359 class)")
    out("gguf/bad_kv_count.gguf", gguf_file(base, kv_count=1 << 40), "block", [],
        "metadata count of 2^40 in a 300-byte file")
    bad = bytearray(gguf_file(base))
    # the first key's length field (right after the 24-byte header) -> 2^62
    bad[24:32] = struct.pack("<Q", 1 << 62)
    out("gguf/bad_string_length.gguf", bytes(bad), "block", [], "a key length of 2^62 bytes")
    out("gguf/bad_tensor_dims.gguf", gguf_file(base, tensor_dims=(1 << 40, 1 << 40)), "block", [],
        "tensor of 2^80 elements whose data cannot be in the file")


# --------------------------------------------------------------------------
# ONNX

def onnx_models():
    import onnx
    from onnx import TensorProto, helper

    def model(init):
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
        g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "g", [x], [y], [init])
        m = helper.make_model(g, producer_name="mlgate-corpus", opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 8
        return m.SerializeToString()

    inline = helper.make_tensor("w", TensorProto.FLOAT, [2], [1.0, 2.0])
    out("onnx/model.onnx", model(inline), "pass", [], "ONNX Add graph with an inline initializer")

    def external(location):
        t = TensorProto()
        t.name = "w"
        t.data_type = TensorProto.FLOAT
        t.dims.extend([2])
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", location), ("offset", "0"), ("length", "8")):
            e = t.external_data.add()
            e.key, e.value = k, v
        return t

    out("onnx/external_ok/model.onnx", model(external("weights.bin")), "pass", [],
        "external data in the model's folder (weights.bin beside it)")
    out("onnx/external_ok/weights.bin", struct.pack("<2f", 1.0, 2.0), "pass", [],
        "the external weights of external_ok/model.onnx (raw floats)")
    out("onnx/malicious_external_escape.onnx", model(external("../../../../etc/passwd")), "block", [],
        "external data location climbing out of the model folder")
    out("onnx/malicious_external_absolute.onnx", model(external("/etc/passwd")), "block", [],
        "absolute external data location")


# --------------------------------------------------------------------------
# zip tricks, 7z, tar

def zip_bytes(members, compress=zipfile.ZIP_STORED, **kw):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", compress, **kw) as z:
        for n, d in members:
            zi = zipfile.ZipInfo(n, ZIP_TIME)
            zi.compress_type = compress
            z.writestr(zi, d)
    return b.getvalue()


def archives():
    good_pkl = pickle.dumps(BENIGN, protocol=4)
    evil_pkl = pickle.dumps(Shell(), protocol=4)
    out("zip/benign.zip", zip_bytes([("data.pkl", good_pkl)]), "pass", [], "zip holding a benign pickle")
    out("zip/malicious.zip", zip_bytes([("data.pkl", evil_pkl)]), "block", ["posix.system"],
        "zip holding an os.system pickle")
    out("zip/malicious_wrong_ext.zip", zip_bytes([("readme.txt", evil_pkl)]), "block", ["posix.system"],
        "pickle member named .txt (content decides, not the name)")
    # local header name differs from the central directory name
    z = bytearray(zip_bytes([("data.pkl", evil_pkl)]))
    assert z[30:38] == b"data.pkl"
    z[30:38] = b"datap.kl"
    out("zip/malicious_name_mismatch.zip", bytes(z), "block", ["posix.system"],
        "local header says datap.kl, central directory data.pkl (CVE-2025-1944 class)")
    # flag bits picklescan trusted
    z = bytearray(zip_bytes([("data.pkl", evil_pkl)]))
    z[6] |= 0x20
    cd = z.rindex(b"PK\x01\x02")
    z[cd + 8] |= 0x20
    out("zip/malicious_flag_bits.zip", bytes(z), "block", ["posix.system"],
        "general-purpose flag bit 0x20 set on a stored member (CVE-2025-1945 class)")
    # bad CRC: content changed after the CRC was computed
    z = bytearray(zip_bytes([("data.pkl", evil_pkl)]))
    z[14:18] = b"\xde\xad\xbe\xef"
    cd = z.rindex(b"PK\x01\x02")
    z[cd + 16:cd + 20] = b"\xde\xad\xbe\xef"
    out("zip/malicious_bad_crc.zip", bytes(z), "block", ["posix.system"],
        "member whose CRC does not match its bytes (CVE-2025-10156 class)")
    b = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(b, "w") as zz:
            zz.writestr(zipfile.ZipInfo("data.pkl", ZIP_TIME), good_pkl)
            zz.writestr(zipfile.ZipInfo("data.pkl", ZIP_TIME), evil_pkl)
    out("zip/malicious_duplicate_names.zip", b.getvalue(), "block", ["posix.system"],
        "two members named data.pkl: benign first, os.system second")
    out("zip/malicious_traversal.zip", zip_bytes([("../../tmp/evil.pkl", good_pkl)]), "block", [],
        "member name climbing out of the extraction folder")
    out("zip/malicious_absolute_path.zip", zip_bytes([("/tmp/evil.pkl", good_pkl)]), "block", [],
        "absolute member name")
    # 60 MiB of zeros deflates to about 60 KiB: ratio about 1000:1
    bomb = zip_bytes([("weights.bin", b"\0" * (60 << 20))], zipfile.ZIP_DEFLATED)
    out("zip/malicious_bomb_ratio.zip", bomb, "block", [],
        "one member inflating about 1000:1 (60 MiB from %d bytes)" % len(bomb))
    out("zip/malicious_prepended.zip", b"\x89PNG\r\n\x1a\n" + b"\0" * 1024 + zip_bytes([("data.pkl", evil_pkl)]),
        "block", ["posix.system"], "1 KiB of other data before the zip (zip readers find the end record)")
    out("zip/benign_zip64.zip", _zip64([("data.pkl", good_pkl)]), "pass", [], "zip64 extra fields on a benign member")
    out("zip/malicious_zip64.zip", _zip64([("data.pkl", evil_pkl)]), "block", ["posix.system"],
        "zip64 extra fields on an os.system member")
    out("zip/malicious_nested.zip", zip_bytes([("inner.zip", zip_bytes([("data.pkl", evil_pkl)]))]),
        "block", ["posix.system"], "zip inside a zip, the inner one holding the os.system pickle")
    out("zip/encrypted.zip", zipcrypto("secret.pkl", evil_pkl, b"password"), "pass", [],
        "password-protected (ZipCrypto) member: unscannable, reported as a warning, never silently "
        "passed as clean (README of the peer corpora: pass)")
    with tempfile.TemporaryDirectory() as d:
        for name, pk, expect, globs in (("benign.7z", good_pkl, "pass", []),
                                        ("malicious.7z", evil_pkl, "block", ["posix.system"])):
            sub = os.path.join(d, name + ".d")
            os.makedirs(sub)
            p = os.path.join(sub, "data.pkl")
            open(p, "wb").write(pk)
            os.utime(p, (0, 0))
            ap = os.path.join(d, name)
            subprocess.run(["7z", "a", "-bd", "-mtm=off", "-mtc=off", "-mta=off", ap, p],
                           check=True, capture_output=True)
            out("archive/" + name, open(ap, "rb").read(), expect, globs,
                "7z archive holding data.pkl (%s)" % ("benign" if expect == "pass" else "os.system"))

    def tar(members, gz=False):
        b = io.BytesIO()
        with tarfile.open(fileobj=b, mode="w", format=tarfile.USTAR_FORMAT) as t:
            for n, d in members:
                ti = tarfile.TarInfo(n)
                ti.size = len(d)
                ti.mtime = 0
                t.addfile(ti, io.BytesIO(d))
        data = b.getvalue()
        return gzip.compress(data, mtime=0) if gz else data

    out("archive/benign.tar", tar([("model/data.pkl", good_pkl)]), "pass", [], "tar holding a benign pickle")
    out("archive/malicious.tar", tar([("model/config.json", b"{}"), ("model/data.pkl", evil_pkl)]), "block",
        ["posix.system"], "tar holding an os.system pickle")
    out("archive/malicious.tar.gz", tar([("model/data.pkl", evil_pkl)], gz=True), "block", ["posix.system"],
        "gzip-compressed tar holding an os.system pickle")


def zipcrypto(name, data, password):
    """A one-member zip with traditional PKWARE encryption (flag bit 0), with
    a fixed encryption header so the bytes are reproducible."""
    crc = zlib.crc32(data)
    table = [0] * 256
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table[n] = c
    k = [0x12345678, 0x23456789, 0x34567890]

    def update(b):
        k[0] = (k[0] >> 8) ^ table[(k[0] ^ b) & 0xFF]
        k[1] = ((k[1] + (k[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        k[2] = (k[2] >> 8) ^ table[(k[2] ^ (k[1] >> 24)) & 0xFF]

    for b in password:
        update(b)
    enc = bytearray()
    for b in bytes(range(1, 12)) + bytes([crc >> 24]) + data:
        t = (k[2] | 2) & 0xFFFF
        enc.append(b ^ (((t * (t ^ 1)) >> 8) & 0xFF))
        update(b)
    fname = name.encode()
    dostime, dosdate = 0, (2020 - 1980) << 9 | 1 << 5 | 1
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 1, 0, dostime, dosdate, crc, len(enc),
                        len(data), len(fname), 0) + fname + bytes(enc)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 1, 0, dostime, dosdate, crc,
                          len(enc), len(data), len(fname), 0, 0, 0, 0, 0, 0) + fname
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local), 0)
    return local + central + end


def _zip64(members):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_STORED) as z:
        for n, d in members:
            with z.open(zipfile.ZipInfo(n, ZIP_TIME), "w", force_zip64=True) as f:
                f.write(d)
    return b.getvalue()


def misc():
    png = (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    png += struct.pack(">I", zlib.crc32(png[12:29]))
    idat = zlib.compress(b"\0\0")
    png += struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    png += struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    out("misc/png_renamed.pt", png, "pass", [], "a 1x1 PNG named .pt: not a model, not a pickle")
    out("misc/text_renamed.pt", b"This is a README, not a checkpoint.\ncos\nsystem\n", "pass", [],
        "text named .pt, containing 'cos\\nsystem' as text (not a pickle stream)")
    out("misc/empty.pt", b"", "pass", [], "empty file named .pt")


def main():
    import shutil
    if os.environ.get("PYTHONHASHSEED") != "0":
        # TorchScript's code/ depends on set order: pin the hash seed
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)
    for fn in (pickles, torch_models, numpy_models, sklearn_joblib, keras_models, safetensors_models,
               gguf_models, onnx_models, archives, misc):
        fn()
    with open(os.path.join(ROOT, "expected.tsv"), "w") as f:
        f.write("path\texpect\tdangerous_globals\tnote\n")
        for r in sorted(ROWS):
            f.write("\t".join(r) + "\n")
    total = sum(os.path.getsize(os.path.join(ROOT, r[0])) for r in ROWS)
    print("%d files, %d bytes" % (len(ROWS), total), file=sys.stderr)


if __name__ == "__main__":
    main()
