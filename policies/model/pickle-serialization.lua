-- model/pickle-serialization: model artifacts stored in a format whose
-- loader executes code (pickle and the formats built on it) should be
-- converted to safetensors. The format is recognised from the bytes, not
-- only the extension: raw pickle streams, PyTorch zip checkpoints (their
-- */data.pkl), legacy PyTorch checkpoints, numpy object arrays and
-- compressed joblib files. Whether a given pickle is malicious is not
-- decided here (that needs an opcode scanner).

local HEAD = 4096
local ZIP_MAX_ENTRIES = 65536

-- torch.save's legacy (pre-1.6) format begins with the pickled magic
-- number 0x1950a86a20f9469cfc6c (protocol 2, LONG1 of 10 bytes).
local TORCH_LEGACY = "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"

local PICKLE_EXT = {[".pkl"] = true, [".pickle"] = true, [".joblib"] = true}
local TORCH_EXT = {[".pt"] = true, [".pth"] = true, [".ckpt"] = true}

-- Opcodes that can start a pickle of protocol 0 or 1 (text-ish streams
-- without the PROTO opcode).
local P01_START = {}
for c in ("(}])cdlNIJKLMFGSTUVXi"):gmatch(".") do P01_START[c] = true end

-- Opcodes that can follow PROTO in a protocol 2+ stream.
local OPCODES = {}
for c in ("(.012FIJKLMNPQRSTUVXabcdeghijlmopqrstu}])GBC"):gmatch(".") do OPCODES[c:byte()] = true end
for b = 0x80, 0x98 do OPCODES[b] = true end

local COMPRESSION = {
  {magic = "\x1f\x8b", name = "gzip"},
  {magic = "\xfd7zXZ\0", name = "xz"},
  {magic = "BZh", name = "bz2"},
  {magic = "\x04\x22\x4d\x18", name = "lz4"},
  {magic = "ZF", name = "zlib"}, -- joblib's own zlib container
  {magic = "\x78\x01", name = "zlib"},
  {magic = "\x78\x5e", name = "zlib"},
  {magic = "\x78\x9c", name = "zlib"},
  {magic = "\x78\xda", name = "zlib"},
}

-- Byte access without reading whole artifacts: checkpoints are gigabytes,
-- and all this policy needs is the head, the zip directory or the last byte.
local function reader(path, size)
  local rd = {path = path, size = size}
  function rd.range(off, n) -- 0-based offset
    local data, err = mlgate.fs.read_range(path, off, n)
    if not data then error(err, 0) end
    return data
  end
  return rd
end

local CD_MAX = 16 * 1024 * 1024

-- Names of the members of a zip archive, from its central directory:
-- list of {name=, offset=}; nil and why when it cannot be read.
local function zip_members(rd)
  local tail_len = math.min(rd.size, 65535 + 22)
  local tail_off = rd.size - tail_len
  local ok, res = pcall(function()
    local tail = rd.range(tail_off, tail_len)
    local eocd, p = nil, 1
    while true do
      local f = tail:find("PK\5\6", p, true)
      if not f or f > #tail - 21 then break end
      eocd, p = f, f + 1
    end
    if not eocd then error("no end of central directory", 0) end
    local _, _, _, _, count, cd_size, cd_off = string.unpack("<I4I2I2I2I2I4I4", tail, eocd)
    if (count == 0xFFFF or cd_off == 0xFFFFFFFF) and eocd > 20
       and tail:sub(eocd - 20, eocd - 17) == "PK\6\7" then
      local _, _, z64 = string.unpack("<I4I4I8", tail, eocd - 20)
      local rec = rd.range(z64, 56)
      if #rec < 56 then error("truncated zip64 end of central directory", 0) end
      local sig, _, _, _, _, _, _, total, size64, off = string.unpack("<I4I8I2I2I4I4I8I8I8I8",
                                                                      rec)
      if sig ~= 0x06064b50 then error("bad zip64 end of central directory", 0) end
      count, cd_size, cd_off = total, size64, off
    end
    local cd = rd.range(cd_off, math.min(cd_size, CD_MAX))
    local out, at = {}, 1
    for _ = 1, math.min(count, ZIP_MAX_ENTRIES) do
      if cd:sub(at, at + 3) ~= "PK\1\2" then error("bad central directory entry", 0) end
      local nlen, xlen, clen = string.unpack("<I2I2I2", cd, at + 28)
      local lho = string.unpack("<I4", cd, at + 42)
      local name = cd:sub(at + 46, at + 45 + nlen)
      if #name ~= nlen then error("truncated central directory", 0) end
      out[#out + 1] = {name = name, offset = lho ~= 0xFFFFFFFF and lho or nil}
      at = at + 46 + nlen + xlen + clen
    end
    return out
  end)
  if not ok then return nil, tostring(res) end
  return res
end

-- .npy header dictionary, or nil.
local function npy_header(data)
  if data:sub(1, 6) ~= "\x93NUMPY" or #data < 10 then return nil end
  local major = data:byte(7)
  local ok, hlen, start = pcall(string.unpack, major == 1 and "<I2" or "<I4", data, 9)
  if not ok then return nil end
  return data:sub(start, start + hlen - 1)
end

-- What the bytes are. Returns a table {format=, confidence=, ...} for a
-- format that executes code on load, or nil.
local function classify(data, ext, rd)
  if #data == 0 then return nil end
  local b1, b2, b3 = data:byte(1, 3)

  if data:sub(1, 4) == "PK\3\4" or data:sub(1, 4) == "PK\5\6" then
    local members, why = zip_members(rd)
    local pickles = {}
    if members then
      for _, m in ipairs(members) do
        if m.name:find("data%.pkl$") or m.name:find("%.pkl$") or m.name:find("%.pickle$") then
          pickles[#pickles + 1] = m
        end
      end
      if #pickles == 0 then return nil end
      local torch = pickles[1].name:find("data%.pkl$") ~= nil
      return {format = torch and "pytorch-zip" or "zip-with-pickle", confidence = "high",
              member = pickles[1].name, offset = pickles[1].offset, members = pickles}
    end
    -- Unreadable directory: fall back on the member name in the bytes.
    local s, e = data:find("[%w_%-%.]*/?data%.pkl")
    if s then
      return {format = "pytorch-zip", confidence = "medium", member = data:sub(s, e),
              note = "zip central directory unreadable (" .. why .. ")"}
    end
    return nil
  end

  if data:sub(1, #TORCH_LEGACY) == TORCH_LEGACY then
    return {format = "pytorch-legacy", confidence = "high", protocol = 2}
  end

  if b1 == 0x80 and b2 and b2 >= 2 and b2 <= 5 and (b3 == nil or OPCODES[b3]) then
    return {format = "pickle", confidence = "high", protocol = b2}
  end

  local header = npy_header(data)
  if header then
    if header:find("|O", 1, true) then
      return {format = "numpy-object", confidence = "high"}
    end
    return nil
  end

  if PICKLE_EXT[ext] or TORCH_EXT[ext] then
    for _, c in ipairs(COMPRESSION) do
      if data:sub(1, #c.magic) == c.magic then
        return {format = "compressed-pickle", confidence = "medium", compression = c.name}
      end
    end
    -- Protocol 0/1: no PROTO opcode; a plausible first opcode and the STOP
    -- opcode as the very last byte.
    if P01_START[string.char(b1)] and rd.range(rd.size - 1, 1) == "." then
      return {format = "pickle", confidence = "medium", protocol = "0 or 1"}
    end
  end
  return nil
end

local MESSAGES = {
  ["pickle"] = "%s is a pickle (protocol %s): loading it runs any code it contains; "
    .. "convert it to safetensors (or another data-only format) and load that instead.",
  ["pytorch-zip"] = "%s is a PyTorch checkpoint whose %s is a pickle, so torch.load can run "
    .. "code from it; convert the weights to safetensors (safetensors.torch.save_file) and "
    .. "load them with safetensors.",
  ["zip-with-pickle"] = "%s is a zip archive holding the pickle %s, which runs any code it "
    .. "contains when loaded; store the contents as safetensors instead.",
  ["pytorch-legacy"] = "%s is a legacy PyTorch checkpoint (a raw pickle stream), so "
    .. "torch.load can run code from it; convert the weights to safetensors and load them "
    .. "with safetensors.",
  ["numpy-object"] = "%s holds a numpy object array, which numpy stores as a pickle (loading "
    .. "it needs allow_pickle=True); save numeric arrays or safetensors instead.",
  ["compressed-pickle"] = "%s is a %s-compressed pickle (as joblib writes them): loading it "
    .. "runs any code it contains; convert the model to safetensors, ONNX or skops.",
}

local function message(path, r)
  local f = r.format
  if f == "pickle" then return MESSAGES.pickle:format(path, tostring(r.protocol)) end
  if f == "pytorch-zip" or f == "zip-with-pickle" then return MESSAGES[f]:format(path, r.member) end
  if f == "compressed-pickle" then return MESSAGES[f]:format(path, r.compression) end
  return MESSAGES[f]:format(path)
end

return mlgate.policy {
  id = "model/pickle-serialization",
  title = "Model artifacts should not use pickle-based formats (use safetensors)",
  description = [[
Flags model and array files stored in a format whose loader executes code:
Python pickle and the formats built on it. Loading such a file runs whatever
the pickle stream says to run, so a tampered checkpoint compromises the
training or serving host. The format is recognised from the bytes, not only
the extension:
- raw pickle streams (protocol 2-5 start with 0x80 0x02..0x05; protocol 0/1
  are accepted for .pkl/.pickle/.joblib/.pt/.pth/.ckpt files when the first
  opcode is plausible and the stream ends with STOP);
- PyTorch zip checkpoints (torch.save since 1.6): a zip whose central
  directory holds */data.pkl; other zips holding *.pkl;
- legacy PyTorch checkpoints (a raw pickle starting with torch's magic number);
- .npy files with an object dtype ('descr': '|O'), stored as pickles;
- compressed pickles as joblib writes them (zlib, gzip, xz, bz2, lz4).
safetensors, HDF5 (.h5/.keras weights), GGUF, ONNX and plain numeric .npy
files are not flagged, whatever their extension.

This policy only identifies the serialisation format. It does not decide
whether a pickle is malicious: that needs a scanner of the pickle's opcodes
and imports, which is a separate (blocking) check. Hence medium severity and
advisory enforcement: converting is the durable fix, and the finding stays
visible until it is done.

Only the bytes that decide the format are read (the first 4 KiB, the zip
central directory, the last byte), so multi-gigabyte checkpoints cost
almost nothing.]],
  remediation = [[
Convert the weights to safetensors and load them with safetensors:

    import torch
    from safetensors.torch import save_file, load_file
    state = torch.load("model.pt", weights_only=True)   # in a sandbox if untrusted
    save_file(state, "model.safetensors")
    model.load_state_dict(load_file("model.safetensors"))

For scikit-learn models use skops (skops.io.dump / load with trusted types)
or ONNX; for numpy object arrays store numeric arrays, or JSON for metadata.
Until the conversion is done, keep the artifact's SHA-256 in a manifest that
is verified before loading, and load it only with torch.load(...,
weights_only=True).]],
  gate = "model",
  severity = "medium",
  confidence = "high",
  enforcement = "advisory",
  atlas = {"AML.T0011.000", "AML.T0018.002", "AML.T0010.003", "AML.M0011", "AML.M0016"},
  references = {
    "https://huggingface.co/docs/safetensors/index",
    "https://docs.python.org/3/library/pickle.html",
    "https://atlas.mitre.org/techniques/AML.T0011.000",
  },
  files = {"**/*.{pt,pth,bin,pkl,pickle,joblib,ckpt,npy}"},

  check = function(file, ctx)
    local ext = mlgate.path.ext(file.path):lower()
    local data, size = mlgate.fs.head(file.path, HEAD)
    if not data then return ctx:error(size) end
    local ok, r = pcall(classify, data, ext, reader(file.path, size))
    if not ok then return ctx:error(tostring(r)) end
    if not r then return end
    local members
    if r.members then
      members = {}
      for i, m in ipairs(r.members) do
        if i > 10 then break end
        members[i] = m.name
      end
    end
    ctx:fail{
      message = message(file.path, r),
      confidence = r.confidence,
      member = r.member,
      offset = r.offset,
      details = {format = r.format, protocol = r.protocol, compression = r.compression,
                 members = members, note = r.note, size = file.size},
    }
  end,
}
