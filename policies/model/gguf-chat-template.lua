-- model/gguf-chat-template: the Jinja chat template stored in a GGUF model
-- (tokenizer.chat_template) is rendered by inference servers for every
-- request. A template that reaches Python internals (dunder attributes,
-- Jinja's global helpers) escapes the template sandbox of servers that
-- render it with a plain Jinja environment: remote code execution through
-- a model file (CVE-2024-34359 in llama-cpp-python).

-- pattern (PCRE2) -> what it reaches
local GADGETS = {
  {[[__\w+__]], "Python dunder attributes (__class__, __globals__, __subclasses__, ...)"},
  {[[\b(?:lipsum|cycler|joiner)\s*\.]], "attributes of Jinja's global helpers, a path to "
    .. "Python globals"},
  {[[\|\s*attr\s*\(]], "the attr filter, a way around attribute filtering"},
  {[[\b(?:os|subprocess|builtins|importlib|sys)\s*\.\s*\w+]], "Python modules"},
  {[[\b(?:popen|system|eval|exec|__import__)\s*\(]], "command or code execution calls"},
}

return mlgate.policy {
  id = "model/gguf-chat-template",
  title = "GGUF chat templates must not reach Python internals",
  description = [[
GGUF models carry Jinja chat templates (tokenizer.chat_template, and named
ones such as tokenizer.chat_template.tool_use) that inference servers render
for every request. Templates need loops,
conditions, filters and namespace(); they never need Python dunder
attributes (__class__, __globals__, __subclasses__), attributes of Jinja's
global helpers (lipsum, cycler, joiner), the attr filter or Python module
access. Those are the building blocks of server-side template injection:
with a non-sandboxed Jinja environment (as in llama-cpp-python before 0.2.72,
CVE-2024-34359) loading the model gives the attacker code execution on the
serving host.]],
  remediation = [[
Replace the template with the one published by the model's authors (or the
tokenizer_config.json of the original model) and re-convert the GGUF; render
chat templates with jinja2.sandbox.ImmutableSandboxedEnvironment.]],
  gate = "model",
  severity = "high",
  confidence = "medium",
  atlas = {"AML.T0011.000", "AML.T0010.003", "AML.M0016"},
  aliases = {"catalog:ML-UNSAFE-ARTIFACT"},
  references = {"https://nvd.nist.gov/vuln/detail/CVE-2024-34359"},
  files = {"**/*"},

  check = function(file, ctx)
    local r, err = mlgate.model.scan(file.path)
    if not r then return ctx:error(err) end
    -- the main template and the named ones (tool use, RAG, ...): servers
    -- render whichever the request selects
    for _, tpl in ipairs(r.chat_templates or {}) do
      local t = tpl.text
      local which = tpl.name == "" and "the chat template"
        or ("the chat template '%s'"):format(tpl.name)
      for _, g in ipairs(GADGETS) do
        local s, e = mlgate.re.find(t, g[1])
        if s then
          ctx:fail{
            key = tpl.name .. "@" .. g[1],
            message = ("%s uses %s (%q at character %d), which renders as code execution on "
              .. "servers without a sandboxed Jinja environment; replace the template with "
              .. "the model authors' one"):format(which, g[2], t:sub(s, math.min(e, s + 40)), s),
            details = {template = tpl.name, match = t:sub(s, math.min(e, s + 80)),
                       pattern = g[1]},
          }
        end
      end
    end
  end,
}
