-- pipeline/dependabot-execution: Dependabot allowed to run code from the
-- dependencies it updates (zizmor's dependabot-execution).

local P = mlgate.pipeline

return mlgate.policy {
  id = "pipeline/dependabot-execution",
  title = "Dependabot must not execute external code",
  description = [[
Flags `insecure-external-code-execution: allow` in .github/dependabot.yml.
With it, Dependabot runs the package manager's code execution hooks
(setup.py, Gradle/Maven build scripts, npm lifecycle scripts of the new
dependency versions) while it resolves updates, with access to the private
registry credentials configured for Dependabot. A malicious release of any
dependency, such as a compromised ML library, then executes in that context.]],
  remediation = [[
Remove the key or deny it:

    updates:
      - package-ecosystem: pip
        directory: /
        insecure-external-code-execution: deny]],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0010.001", "AML.T0055"},
  aliases = {"catalog:DEPBOT-EXEC", "zizmor:dependabot-execution"},
  references = {
    "https://docs.zizmor.sh/audits/#dependabot-execution",
    "https://docs.github.com/en/code-security/dependabot/working-with-dependabot/dependabot-options-reference#insecure-external-code-execution--",
  },
  files = {".github/dependabot.{yml,yaml}"},

  check = function(file, ctx)
    local m = P.load(file.path)
    if not m or m.kind ~= "dependabot" then return end
    for i, u in ipairs(m.updates or {}) do
      local v = u.insecure_external_code_execution
      if v and v.text and v.text:lower() == "allow" then
        local eco = u.ecosystem and u.ecosystem.text or "?"
        ctx:fail{
          message = ("The Dependabot %s update sets `insecure-external-code-execution: allow`, "
            .. "so code from the updated packages runs with Dependabot's registry credentials; "
            .. "set it to deny."):format(eco),
          line = v.key_line or v.line, column = v.key_col or v.col,
          key = "updates[" .. (i - 1) .. "]:" .. eco,
          details = {ecosystem = eco},
        }
      end
    end
  end,
}
