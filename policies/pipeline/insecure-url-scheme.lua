-- pipeline/insecure-url-scheme: pre-commit hook repositories fetched over
-- plain http:// or git:// (zizmor's insecure-url-scheme).

local P = mlgate.pipeline

local INSECURE = {http = true, git = true}

return mlgate.policy {
  id = "pipeline/insecure-url-scheme",
  title = "Hook repositories must be fetched over an authenticated transport",
  description = [[
Flags `repo:` URLs in .pre-commit-config.yaml that use `http://` or the
legacy `git://` protocol. Neither authenticates the server nor protects the
content: anyone on the network path (a CI runner's network, a proxy, a
hostile Wi-Fi on a developer laptop) can substitute the hook code, which
pre-commit then executes on every commit and in CI jobs that run
`pre-commit run --all-files` with the repository's credentials.]],
  remediation = [[
Use https:// (and pin `rev:` to a commit SHA):

    repos:
      - repo: https://github.com/pre-commit/pre-commit-hooks
        rev: <full-commit-sha>  # frozen: v5.0.0]],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0010.001"},
  aliases = {"zizmor:insecure-url-scheme"},
  references = {"https://docs.zizmor.sh/audits/#insecure-url-scheme"},
  files = {"**/.pre-commit-config.{yml,yaml}"},

  check = function(file, ctx)
    local m = P.load(file.path)
    if not m or m.kind ~= "precommit" then return end
    for i, r in ipairs(m.repos or {}) do
      local url = r.repo and r.repo.text
      local scheme = url and url:match("^(%a[%w+.-]*)://")
      if scheme and INSECURE[scheme:lower()] then
        ctx:fail{
          message = ("The hook repository %s is fetched over %s://, which neither authenticates "
            .. "the server nor protects the code; use https://."):format(url, scheme:lower()),
          line = r.repo.line, column = r.repo.col,
          key = "repos[" .. (i - 1) .. "]",
          details = {repo = url, scheme = scheme:lower()},
        }
      end
    end
  end,
}
