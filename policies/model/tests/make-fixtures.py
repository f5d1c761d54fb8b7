#!/usr/bin/python3
"""Regenerates the binary fixtures of model/pickle-serialization.

Standard library only (no torch or numpy needed): the files are built byte by
byte the way torch.save, numpy.save and joblib.dump lay them out. Every
pickle here is a harmless dict or list. Run from any directory:

    /usr/bin/python3 policies/model/tests/make-fixtures.py
"""
import io
import json
import os
import pickle
import struct
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = os.path.join(HERE, "fixtures", "pickle-serialization")
STATE = {"layer.weight": [0.5, -0.25], "layer.bias": [0.0], "epoch": 3}


def write(rel, data):
    path = os.path.join(BASE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def torch_zip(name, payload_bytes=0, member_prefix="archive"):
    """A zip laid out like torch.save (>= 1.6): stored members under one
    directory, data.pkl first."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(member_prefix + "/data.pkl", pickle.dumps(STATE, protocol=2))
        z.writestr(member_prefix + "/byteorder", b"little")
        z.writestr(member_prefix + "/data/0", b"\0" * payload_bytes)
        z.writestr(member_prefix + "/version", b"3\n")
    return buf.getvalue()


def to_zip64(data):
    """Rewrites the end of a zip as a zip64 one (what torch writes for large
    checkpoints): zip64 end record + locator + classic record with the
    0xFFFF/0xFFFFFFFF escapes."""
    eocd = data.rfind(b"PK\x05\x06")
    (_, _, _, n_disk, n_total, cd_size, cd_off, _) = struct.unpack(
        "<IHHHHIIH", data[eocd:eocd + 22])
    body = data[:eocd]
    z64_off = len(body)
    z64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n_disk, n_total,
                      cd_size, cd_off)
    loc = struct.pack("<IIQI", 0x07064B50, 0, z64_off, 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF,
                      0xFFFFFFFF, 0)
    return body + z64 + loc + end


def npy(descr, payload):
    header = "{'descr': %r, 'fortran_order': False, 'shape': (2,), }" % descr
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + payload


def safetensors():
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    return struct.pack("<Q", len(header)) + header + struct.pack("<2f", 0.5, -0.25)


def main():
    # Flagged.
    write("bad/models/proto2.pkl", pickle.dumps(STATE, protocol=2))
    write("bad/models/proto4.pickle", pickle.dumps(STATE, protocol=4))
    write("bad/models/proto5.joblib", pickle.dumps(STATE, protocol=5))
    write("bad/models/proto0.pkl", pickle.dumps(STATE, protocol=0))
    write("bad/models/checkpoint.pt", torch_zip("checkpoint"))
    write("bad/models/large.pth", torch_zip("large", payload_bytes=20000, member_prefix="large"))
    write("bad/models/zip64.ckpt", to_zip64(torch_zip("zip64")))
    write("bad/models/pytorch_model.bin", torch_zip("hf", member_prefix="pytorch_model"))
    write("bad/models/truncated.pt", torch_zip("cut", member_prefix="cut")[:300])
    write("bad/models/legacy.pt", pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
          + pickle.dumps(1001, protocol=2) + pickle.dumps(STATE, protocol=2))
    write("bad/models/renamed.bin", pickle.dumps(STATE, protocol=3))
    write("bad/models/objects.npy", npy("|O", pickle.dumps([{"a": 1}, None], protocol=3)))
    write("bad/models/compressed.joblib", zlib.compress(pickle.dumps(STATE, protocol=4)))
    # Not flagged, whatever the extension says.
    write("good/models/empty.pt", b"")
    write("good/models/numeric.npy", npy("<f4", struct.pack("<2f", 1.0, 2.0)))
    write("good/models/safetensors.bin", safetensors())
    write("good/models/model.safetensors", safetensors())
    write("good/models/hdf5.bin", b"\x89HDF\r\n\x1a\n" + b"\0" * 56)
    write("good/models/gguf.bin", b"GGUF\x03\x00\x00\x00" + b"\0" * 24)
    write("good/models/notes.pkl", b"this is not a pickle, just text.\n")
    write("good/models/random.bin", bytes(range(256)) * 4)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("tokenizer/vocab.txt", "a\nb\n")
        z.writestr("tokenizer/config.json", "{}")
    write("good/models/tokenizer.bin", buf.getvalue())
    # A single file judged by content (any name).
    write("single/model.weights", pickle.dumps(STATE, protocol=4))


if __name__ == "__main__":
    main()
