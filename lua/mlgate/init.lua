-- The mlgate policy SDK: the pure-Lua part of the `mlgate` table. The C
-- part (fs, yaml, json, pos, keys, hash, re, log, atlas) is installed
-- before this file runs; this file receives the table and extends it.
-- Every other lua/mlgate/NAME.lua becomes mlgate.NAME.
local mlgate = ...

local raw_keys = mlgate.keys

local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  return a < b
end

--- Keys of a table: document order for tables parsed by mlgate.yaml or
--- mlgate.json, otherwise sorted (numbers before strings), so iteration
--- order never depends on the hash seed.
function mlgate.keys(t)
  local keys = raw_keys(t)
  if keys then return keys end
  keys = {}
  for k in pairs(t) do
    local tk = type(k)
    if tk == "string" or tk == "number" then keys[#keys + 1] = k end
  end
  table.sort(keys, key_less)
  return keys
end

--- Iterates a table's entries in mlgate.keys order: for k, v in mlgate.spairs(t).
function mlgate.spairs(t)
  local keys, i = mlgate.keys(t), 0
  return function()
    i = i + 1
    local k = keys[i]
    if k ~= nil then return k, t[k] end
  end
end

--- Declares a policy. The engine validates the metadata (id, title, gate
--- or gates, severity, atlas, ...) and reports problems naming the field;
--- this function only returns the table so policy files read naturally:
---   return mlgate.policy { id = "train/x", ... }
function mlgate.policy(spec)
  if type(spec) ~= "table" then
    error("mlgate.policy expects a table", 2)
  end
  return spec
end

return mlgate
