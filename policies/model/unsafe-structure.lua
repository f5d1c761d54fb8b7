-- model/unsafe-structure: data-only formats (safetensors, GGUF, ONNX) whose
-- structure is invalid or points outside the model: such files crash or
-- mislead loaders, and ONNX external data that escapes the model folder
-- makes the loader read arbitrary files.

local PREFIXES = {"safetensors-", "gguf-", "onnx-", "npy-"}

local SEVERITY = {
  ["onnx-external-escape"] = "high",
  ["onnx-custom-domain"] = "low",
  ["npy-size-mismatch"] = "medium",
}

local function ours(code)
  for _, p in ipairs(PREFIXES) do
    if code:sub(1, #p) == p then return true end
  end
  return false
end

return mlgate.policy {
  id = "model/unsafe-structure",
  title = "safetensors, GGUF and ONNX models must be structurally valid and self-contained",
  description = [[
Formats that cannot carry code are only safe when they are what they claim:
a safetensors header must be strict JSON without duplicate keys, with
tensors that tile the data exactly (no gaps, overlaps or trailing bytes)
and sizes that match dtype x shape; a GGUF file's metadata, strings, arrays
and tensor records must lie inside the file; a .npy header must be a
valid dict whose shape matches the data; ONNX external data must stay in
the model's folder (an absolute path or ".." makes the runtime read any
file the service can). Custom ONNX operator domains are reported as low:
they need a custom runtime library.]],
  remediation = [[
Re-export the model with the reference library (safetensors.torch.save_file,
llama.cpp's convert scripts, onnx.save with external data relative to the
model) and keep external data files next to the model.]],
  gate = "model",
  severity = "medium",
  confidence = "high",
  atlas = {"AML.T0010.003", "AML.T0011", "AML.M0014", "AML.M0016"},
  aliases = {"catalog:ML-UNSAFE-ARTIFACT", "modelscan:format-validation"},
  files = {"**/*"},

  check = function(file, ctx)
    local r, err = mlgate.model.scan(file.path)
    if not r then return ctx:error(err) end
    for _, issue in ipairs(r.issues) do
      if ours(issue.code) then
        ctx:fail{
          member = issue.member, offset = issue.offset,
          severity = SEVERITY[issue.code],
          key = issue.code .. "@" .. (issue.member or "") .. "@" .. tostring(issue.offset),
          message = ("%s; re-export the model with its reference library"):format(issue.message),
          details = {code = issue.code, format = r.format},
        }
      end
    end
  end,
}
