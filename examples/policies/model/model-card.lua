-- model/model-card: every directory that holds model weights has a model
-- card (README.md) with the sections reviewers rely on, and no placeholder
-- text left in it. The worked example of docs/policy-authoring.md.

local WEIGHTS = {"**/*.safetensors", "**/*.pt", "**/*.pth", "**/*.bin", "**/*.onnx",
                 "**/*.gguf", "**/*.pkl", "**/*.joblib"}

-- Headings of a Markdown text: {title (lower case) = line number}.
local function headings(text)
  local found = {}
  for n, line in mlgate.text.lines(text) do
    local title = line:match("^#+%s+(.-)%s*#*%s*$")
    if title then found[title:lower()] = found[title:lower()] or n end
  end
  return found
end

return mlgate.policy {
  id = "model/model-card",
  title = "Directories with model weights must have a complete model card",
  description = [[
Every directory holding model weights must have a README.md model card with
the sections listed in the `sections` parameter (as Markdown headings), and
no TODO/TBD placeholder left in it. Reviewers and downstream users rely on the
card to know what a model is for, what it was trained on and where it fails.]],
  remediation = [[
Add README.md next to the weights, with one heading per required section
(for example "## Intended use"), and replace every TODO with real content.]],
  gate = "model",
  severity = "low",
  atlas = {"AML.T0010.003", "AML.M0023"},
  params = {sections = {"Intended use", "Training data", "Limitations"}},

  run = function(ctx)
    -- One card per directory, however many weight files it holds.
    local dirs, seen = {}, {}
    for _, path in ipairs(mlgate.fs.list(WEIGHTS)) do
      local dir = mlgate.path.dirname(path)
      if not seen[dir] then
        seen[dir] = true
        dirs[#dirs + 1] = {dir = dir, example = path}
      end
    end

    for _, d in ipairs(dirs) do
      local card = mlgate.path.join(d.dir, "README.md")
      local text, err = mlgate.fs.read(card)
      if not text then
        if mlgate.fs.exists(card) then
          ctx:error(("cannot read %s: %s"):format(card, err), card)
        else
          ctx:fail{
            path = d.example,
            message = ("%s has no model card; add %s describing the model."):format(
              d.dir == "" and "the repository root" or d.dir .. "/", card),
            details = {card = card},
            key = "no-card",
          }
        end
      else
        local have = headings(text)
        for _, section in ipairs(ctx.params.sections) do
          if not have[section:lower()] then
            ctx:fail{
              path = card,
              message = ("%s has no '%s' section; add a heading '## %s' and fill it in."):format(
                card, section, section),
              details = {section = section},
              key = "missing:" .. section,
            }
          end
        end
        for n, line in mlgate.text.lines(text) do
          local col = line:find("%f[%w]TODO%f[%W]") or line:find("%f[%w]TBD%f[%W]")
          if col then
            ctx:fail{
              path = card, line = n, column = col, end_column = col + 4,
              message = "The model card still has a placeholder here; replace it with the real content.",
            }
          end
        end
      end
    end
  end,
}
