-- pipeline/dependabot-cooldown: Dependabot updates without a cooldown of at
-- least `days` days (zizmor's dependabot-cooldown: a missing `cooldown`,
-- a `cooldown` without `default-days` (Dependabot then waits 3 days) or a
-- `default-days` below the minimum).

local P = mlgate.pipeline

return mlgate.policy {
  id = "pipeline/dependabot-cooldown",
  title = "Dependabot updates must wait for new releases to settle",
  description = [[
Checks each `updates:` entry of .github/dependabot.yml for `cooldown:
default-days` of at least `days` (default 7). Without a cooldown Dependabot
proposes a release minutes after it is published, which is exactly the
window in which compromised packages (hijacked maintainer accounts,
malicious ML library releases) are live before they are yanked; a bot PR
that is merged or auto-merged quickly pulls the malware into the training
and release pipelines. An entry with `cooldown:` but no `default-days` gets
Dependabot's implicit 3 days.]],
  remediation = [[
Add a cooldown to every update entry:

    updates:
      - package-ecosystem: pip
        directory: /
        schedule:
          interval: weekly
        cooldown:
          default-days: 7]],
  gate = "pipeline",
  severity = "medium",
  confidence = "high",
  atlas = {"AML.T0010.001", "AML.M0016"},
  aliases = {"catalog:DEPBOT-COOLDOWN", "zizmor:dependabot-cooldown"},
  references = {
    "https://docs.zizmor.sh/audits/#dependabot-cooldown",
    "https://docs.github.com/en/code-security/dependabot/working-with-dependabot/dependabot-options-reference#cooldown-",
  },
  files = {".github/dependabot.{yml,yaml}"},
  params = {days = 7},

  check = function(file, ctx)
    local min = ctx.params.days
    if type(min) ~= "number" or min < 1 or min ~= math.floor(min) then
      return ctx:error("param 'days' must be a whole number of days, 1 or more")
    end
    local m = P.load(file.path)
    if not m or m.kind ~= "dependabot" then return end
    for i, u in ipairs(m.updates or {}) do
      local eco = u.ecosystem and u.ecosystem.text or "?"
      local cd = u.cooldown
      local days = 3
      local dd = cd and cd.default_days
      if dd then days = tonumber(dd.text) or 0 end
      if days < min then
        local line, col, what
        if dd then
          line, col = dd.key_line or dd.line, dd.key_col or dd.col
          what = ("waits only %s day(s) (`cooldown: default-days: %s`)"):format(dd.text, dd.text)
        elseif cd then
          line, col = cd.line, cd.col
          what = "has `cooldown:` without `default-days`, so Dependabot waits only 3 days"
        else
          line, col = u.line, u.col
          what = "has no `cooldown:`, so new releases are proposed as soon as they appear"
        end
        ctx:fail{
          message = ("The Dependabot %s update %s; set `cooldown: default-days: %d` or more so "
            .. "compromised releases are caught before they reach the pipeline."):format(eco, what, min),
          line = line, column = col,
          key = "updates[" .. (i - 1) .. "]:" .. eco,
          details = {ecosystem = eco, default_days = days, minimum = min},
        }
      end
    end
  end,
}
