-- model/model-card: every model artifact must be documented by a model
-- card (README.md / MODEL_CARD.md in its folder or a parent folder) whose
-- metadata has the fields the organisation requires and whose text has the
-- sections it requires (intended use, training data, evaluation, ...).

local function listp(ctx, name)
  local v = ctx.params[name]
  if type(v) ~= "table" then
    error(("param '%s' must be a list of strings"):format(name), 0)
  end
  for i, s in ipairs(v) do
    if type(s) ~= "string" or s == "" then
      error(("param '%s': entry %d must be a non-empty string"):format(name, i), 0)
    end
  end
  return v
end

-- The YAML front matter of a card ("---\n...\n---") and the line its body
-- starts on; nil when there is none.
local function front_matter(text)
  if not text:find("^%-%-%-\r?\n") then return nil end
  local s, e = text:find("\n%-%-%-[ \t]*\r?\n", 4)
  if not s then
    s, e = text:find("\n%-%-%-[ \t]*$", 4)
    if not s then return nil end
  end
  return text:sub(5, s), e
end

local function present(v)
  if v == nil or mlgate.isnull(v) then return false end
  if type(v) == "string" then return v:find("%S") ~= nil end
  if type(v) == "table" then return next(v) ~= nil end
  return true
end

local function headings(text)
  local out = {}
  for n, line in mlgate.text.lines(text) do
    local h = line:match("^#+%s*(.-)%s*#*%s*$")
    if h and h ~= "" then out[#out + 1] = {text = h:lower(), line = n} end
  end
  return out
end

return mlgate.policy {
  id = "model/model-card",
  title = "Model artifacts must come with a model card holding the required fields",
  description = [[
Auditors and users need to know what a model is for, what it was trained
on, how it was evaluated and under which license it may be used. For every
folder holding model artifacts, this policy looks for a model card
(README.md, MODEL_CARD.md, model_card.md or MODELCARD.md) in that folder or
one of its parents up to the workspace root, then checks the card's YAML
metadata (the Hugging Face front matter between --- lines) for the fields
the organisation requires (param `required_fields`, default: license) and
its Markdown headings for the required sections (param `required_sections`,
case-insensitive substrings, default none). Model artifacts are recognised
by the globs in param `artifacts` (model file extensions). Advisory by
default: an organisation that requires cards sets enforcement: soft or hard
and its fields in mlgate.yml.]],
  remediation = [[
Add a model card next to the model (the Hugging Face model card template is
a good start) with a YAML header such as:

    ---
    license: apache-2.0
    datasets: [org/dataset]
    base_model: org/base
    ---

and the sections your organisation requires (intended use, training data,
evaluation, limitations).]],
  gate = "model",
  severity = "medium",
  confidence = "high",
  enforcement = "advisory",
  atlas = {"AML.M0023", "AML.M0025", "AML.T0010.003"},
  aliases = {"catalog:ML-MODEL-CARD"},
  references = {"https://huggingface.co/docs/hub/model-cards"},
  files = {"**/*"},
  params = {
    artifacts = {"**/*.{pt,pth,bin,ckpt,safetensors,gguf,onnx,keras,h5,pkl,pickle,joblib,npz,"
                 .. "tflite,pb,msgpack}"},
    card_names = {"README.md", "MODEL_CARD.md", "model_card.md", "MODELCARD.md"},
    required_fields = {"license"},
    required_sections = {},
  },

  check = function(file, ctx)
    local names = listp(ctx, "card_names")
    local fields = listp(ctx, "required_fields")
    local sections = listp(ctx, "required_sections")
    local artifact = false
    for _, g in ipairs(listp(ctx, "artifacts")) do
      if mlgate.fs.glob(g, file.path) then artifact = true; break end
    end
    if not artifact then return end
    ctx.seen = ctx.seen or {}
    local dir = mlgate.path.dirname(file.path)
    if ctx.seen[dir] then return end
    ctx.seen[dir] = true

    -- nearest card: this folder, then its parents
    local card
    local d = dir
    while true do
      for _, n in ipairs(names) do
        local p = mlgate.path.join(d, n)
        if mlgate.fs.exists(p) then card = p; break end
      end
      if card or d == "" then break end
      d = mlgate.path.dirname(d)
    end
    if not card then
      return ctx:fail{
        message = ("no model card documents %s: add %s to its folder (or a parent) with the "
          .. "fields %s"):format(file.path, names[1], table.concat(fields, ", ")),
        details = {folder = dir},
      }
    end
    if ctx.seen["card:" .. card] then return end
    ctx.seen["card:" .. card] = true

    local text, err = mlgate.fs.read(card)
    if not text then return ctx:error(err, card) end
    local yaml = front_matter(text)
    local meta = {}
    if yaml then
      local v, perr = mlgate.yaml.parse(yaml, {name = card})
      if not v then
        return ctx:fail{path = card, line = 1,
          message = ("the model card's metadata is not valid YAML (%s); fix the header between "
            .. "the --- lines"):format(perr)}
      end
      if type(v) == "table" then meta = v end
    end
    for _, f in ipairs(fields) do
      if not present(meta[f]) then
        ctx:fail{path = card, line = 1, key = "field:" .. f,
          message = ("the model card %s has no '%s' in its metadata; add `%s:` to the YAML "
            .. "header between the --- lines"):format(card, f, f),
          details = {field = f}}
      end
    end
    if #sections > 0 then
      local hs = headings(text)
      for _, want in ipairs(sections) do
        local found = false
        for _, h in ipairs(hs) do
          if h.text:find(want:lower(), 1, true) then found = true; break end
        end
        if not found then
          ctx:fail{path = card, line = 1, key = "section:" .. want,
            message = ("the model card %s has no '%s' section; add a heading for it"):format(
              card, want),
            details = {section = want}}
        end
      end
    end
  end,
}
