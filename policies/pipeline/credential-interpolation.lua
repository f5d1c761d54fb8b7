-- pipeline/credential-interpolation: a Jenkins credential interpolated by
-- Groovy into a shell step (`sh "hf upload --token ${HF_TOKEN}"`) instead of
-- being expanded by the shell from its environment variable. The
-- catalog's CRED-INTERP row; Jenkins' own documentation warns about it
-- ("a secret was passed to sh using Groovy String interpolation").

local P = mlgate.pipeline

-- The variable an interpolation reads: HF_TOKEN, env.HF_TOKEN,
-- env['HF_TOKEN'], HF_TOKEN.trim(), "${TOKEN}".
local function variable_of(text)
  local t = text:gsub("^%s+", ""):gsub("%s+$", "")
  local v = t:match("^env%.([%a_][%w_]*)") or t:match("^env%[%s*['\"]([%a_][%w_]*)['\"]%s*%]")
            or t:match("^([%a_][%w_]*)")
  return v
end

return mlgate.policy {
  id = "pipeline/credential-interpolation",
  title = "Jenkins credentials must reach shell steps as environment variables, not Groovy interpolation",
  description = [[
Inside `withCredentials` (or with `environment { T = credentials('id') }`)
Jenkins binds a secret to an environment variable and masks it in the log.
Writing it into a double-quoted Groovy string, `sh "hf upload --token
${HF_TOKEN} ..."`, makes Groovy paste the secret into the script text
before the shell runs: the token then appears in the process list of the
agent, in the generated script file under the workspace's @tmp directory,
in `ps` output seen by every other build on a shared agent, and in any
error message that echoes the command line; and a token containing shell
metacharacters changes the command. For ML pipelines these are model-hub
write tokens, experiment-tracker keys and cloud credentials.

Reports each `${VAR}`, `$VAR` or `${env.VAR}` of a credential variable in
scope inside a double-quoted or triple-double-quoted `sh`, `bat`,
`powershell` or `pwsh` script.]],
  remediation = [[
Use a single-quoted Groovy string so the shell expands the variable:

    withCredentials([string(credentialsId: 'hf-write', variable: 'HF_TOKEN')]) {
      sh 'huggingface-cli upload org/model ./out --token "$HF_TOKEN"'
    }

When other parts of the command need Groovy values, pass them through the
environment too (`withEnv(["MODEL=${params.MODEL}"]) { sh 'upload "$MODEL"' }`).]],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0055"},
  aliases = {"catalog:CRED-INTERP"},
  references = {
    "https://www.jenkins.io/doc/book/pipeline/jenkinsfile/#string-interpolation",
    "https://www.jenkins.io/doc/pipeline/steps/credentials-binding/",
  },
  files = P.files("jenkins"),

  check = function(file, ctx)
    local m = P.load(file.path)
    if not m or m.kind ~= "jenkinsfile" then return end
    -- Steps by job and index, for the credentials in scope of each.
    local steps = {}
    for step, job in P.steps(m) do
      if step.interp and step.credentials and #step.credentials > 0 then
        steps[(job and job.id or "") .. "\0" .. step.index] = step
      end
    end
    if next(steps) == nil then return end
    local seen = {}
    for _, e in ipairs(m.exprs or {}) do
      local step = e.step and steps[(e.job or "") .. "\0" .. e.step]
      if step then
        local var = variable_of(e.text)
        local bound = false
        for _, c in ipairs(step.credentials) do
          if c == var then bound = true break end
        end
        local key = e.line .. ":" .. (var or "")
        if bound and not seen[key] then
          seen[key] = true
          ctx:fail{
            message = ("`%s` pastes credential %s into the script with Groovy interpolation, "
              .. "exposing it in the process list and script file; use a single-quoted string "
              .. "so the shell expands $%s."):format(step.shell or "sh", var, var),
            line = e.line, column = e.col,
            key = ("%s:%s:%s"):format(step.route, var, e.line),
            details = {job = e.job, step = e.step, variable = var, expression = e.text},
          }
        end
      end
    end
  end,
}
