-- pipeline/unsound-condition: an `if:` whose value is more than one
-- `${{ }}`: GitHub then treats it as a template, substitutes the
-- expressions and tests the resulting string, which is never empty, so the
-- condition is always true. The usual cause is a block scalar (`if: |`)
-- whose trailing newline is part of the value; the other is text around
-- the fence (`if: ${{ a }} && b`, `if: true && ${{ false }}`).
--
-- Same check as zizmor's unsound-condition, actionlint's if-cond and
-- poutine's if_always_true. Findings point at the `if:` key.

local gha = mlgate.gha

-- Line and column of the last character of a val that is not a line break.
local function val_end(val)
  local text = val.text
  local last = #text
  while last > 1 and (text:sub(last, last) == "\n" or text:sub(last, last) == "\r") do
    last = last - 1
  end
  return mlgate.pipeline.where(val, last - 1)
end

-- nil when the condition is sound; otherwise what surrounds the fence.
local function unsound(text)
  local spans = gha.find(text)
  if not spans or #spans == 0 then return nil end -- a bare expression
  for _, s in ipairs(spans) do
    if not s.closed then return nil end -- GitHub refuses the file: pipeline/schema
  end
  local first = spans[1]
  if #spans == 1 and first.start == 0 and first.stop == #text then return nil end
  local outside = text:sub(1, first.start) .. text:sub(spans[#spans].stop + 1)
  for i = 2, #spans do
    outside = outside .. text:sub(spans[i - 1].stop + 1, spans[i].start)
  end
  if outside:match("^%s*$") then
    if #spans > 1 then return "several", outside end
    return "whitespace", outside
  end
  return "text", outside
end

-- Cheap gate on the raw text, so that files without a suspicious `if:` do
-- not pay for walking jobs and steps: true when some `if:` key has `${{` on
-- its line, a block, quoted or empty value, or a plain value continued on
-- the next line. (Flow-style `{if: ...}` mappings are always checked.)
local function may_be_unsound(raw)
  if not raw:find("${{", 1, true) then return false end
  if raw:find("{[^\n}]*if[\"']?[ \t]*:") then return true end
  local init = 1
  while true do
    local s, e, prefix, rest = raw:find("\n([ \t%-]*)[\"']?if[\"']?[ \t]*:([^\n]*)", init)
    if not s then return false end
    init = e
    rest = rest:gsub("^[ \t]+", "")
    if rest:find("${{", 1, true) or rest == "" or rest:find("^[|>\"'#*&!]") then return true end
    local lead = raw:match("^\n([ \t]*)[^ \t\n#]", e + 1)
    if lead and #lead > #prefix then return true end
  end
end

-- The file's text for the cheap raw-text gate below, or nil when the gate
-- cannot be trusted and the model must be walked: unreadable, UTF-16/32
-- (NUL bytes), or holding a backslash sequence that a double-quoted YAML
-- scalar would turn into other characters (\x24 is "$", \/ is "/", a
-- backslash at the end of a line joins two lines).
local function gate_text(path)
  local raw = mlgate.fs.read(path)
  if not raw or raw:find("\0", 1, true) then return nil end
  if raw:find("\\", 1, true) and raw:find("\\[xuU/\r\n]") then return nil end
  return raw
end

return mlgate.policy {
  id = "pipeline/unsound-condition",
  title = "`if:` conditions must be a single `${{ }}` or a bare expression",
  description = [[
An `if:` that contains `${{ }}` together with anything else, even only the
trailing newline a YAML block scalar (`if: |` or `if: >`) keeps, is not an
expression to GitHub but a string template: the fences are substituted and
the resulting text ("false\n", "true && false") is a non-empty string, which
is truthy. The job or step therefore always runs, whatever the condition
says. Such conditions usually guard something sensitive (deploying a model,
publishing to a registry, running only on the main branch or only for
trusted actors), so the guard silently does nothing.

Checks job, reusable-workflow-call and step conditions in workflows and
composite actions. Same check as zizmor's unsound-condition, actionlint's
if-cond and poutine's if_always_true; the finding points at the `if:` key.]],
  remediation = [[
Write the condition as one expression with nothing around it: a bare
expression, a single `${{ }}`, or a block scalar that strips its final
newline (`|-` or `>-`):

    if: github.ref == 'refs/heads/main' && github.event_name == 'push'

    if: >-
      ${{ github.ref == 'refs/heads/main'
          && github.event_name == 'push' }}

Combine sub-conditions inside the expression (`${{ a && b }}`), not between
two fences (`${{ a }} && ${{ b }}`).]],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0010.001"},
  aliases = {"catalog:COND-ALWAYS", "zizmor:unsound-condition", "poutine:if_always_true",
             "actionlint:if-cond"},
  references = {
    "https://docs.zizmor.sh/audits/#unsound-condition",
    "https://github.com/actions/runner/issues/1173",
    "https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/evaluate-expressions-in-workflows-and-actions",
  },
  files = {".github/workflows/*.{yml,yaml}", "**/action.{yml,yaml}"},

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m or (m.kind ~= "workflow" and m.kind ~= "action") then return end
    local raw = gate_text(file.path)
    if raw and not may_be_unsound("\n" .. raw) then return end

    local function judge(cond, route, job, step)
      local why, outside = unsound(cond.text)
      if not why then return end
      local msg
      local block = cond.style == "literal" or cond.style == "folded"
      if why == "whitespace" and block then
        msg = "This `if:` is a block scalar that keeps a line break after `}}`, so GitHub "
          .. "tests a non-empty string and the condition is always true; use `|-`/`>-` "
          .. "or a plain `if: ${{ ... }}`."
      elseif why == "whitespace" then
        msg = "This `if:` has spaces outside its `${{ }}`, so GitHub tests a non-empty "
          .. "string and the condition is always true; remove them."
      elseif why == "several" then
        msg = "This `if:` holds several `${{ }}`, so GitHub tests the non-empty string "
          .. "they make and the condition is always true; combine them in one expression."
      else
        msg = ("This `if:` has text (%q) outside its `${{ }}`, so GitHub tests a "
          .. "non-empty string and the condition is always true; write the whole "
          .. "condition inside one `${{ }}` or as a bare expression."):format(
          (outside:gsub("^%s+", ""):gsub("%s+$", ""):sub(1, 40)))
      end
      local eline, ecol = val_end(cond)
      ctx:fail{
        message = msg,
        line = cond.key_line or cond.line, column = cond.key_col or cond.col,
        end_line = eline, end_column = ecol,
        key = route .. ".if",
        details = {job = job, step = step, style = cond.style, kind = why},
      }
    end

    for _, job in ipairs(m.jobs or {}) do
      if job.cond then judge(job.cond, job.route, job.id, nil) end
    end
    for step, job in mlgate.pipeline.steps(m) do
      if step.cond then judge(step.cond, step.route, job and job.id, step.index) end
    end
  end,
}
