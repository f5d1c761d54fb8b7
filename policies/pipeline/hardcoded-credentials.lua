-- pipeline/hardcoded-credentials: a registry password written into the
-- workflow for a job container or a service container.
--
-- Same check as zizmor's hardcoded-container-credentials and actionlint's
-- credentials rule: `credentials: password:` of `container:` and of each
-- `services:` entry must be a whole `${{ ... }}` expression (a secret);
-- anything else is a literal password in the repository. The finding
-- points at the password itself.

local function is_expression(s)
  return s:match("^%s*%${{.-}}%s*$") ~= nil
end

return mlgate.policy {
  id = "pipeline/hardcoded-credentials",
  title = "Container registry passwords must come from secrets, not the workflow file",
  description = [[
A `password:` under `container: credentials:` or `services: <name>:
credentials:` that is not a `${{ secrets.NAME }}` expression is a registry
password committed to the repository: everyone who can read the repository
(every fork of a public one, forever, through git history) can pull, and
often push, the images of that registry. For ML teams that is typically the
private registry holding training images with baked-in data access and
inference images that serve production traffic; a push credential lets an
attacker replace them.

Matches zizmor's hardcoded-container-credentials and actionlint's
credentials check.]],
  remediation = [[
Store the password as a secret (better: a short-lived token, or OIDC login
to the cloud registry) and reference it:

    container:
      image: registry.example.com/ml/train:2024.06@sha256:<digest>
      credentials:
        username: ${{ vars.REGISTRY_USER }}
        password: ${{ secrets.REGISTRY_TOKEN }}

Then rotate the password that was committed: it is in the git history.]],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0055", "AML.T0010.001"},
  aliases = {"catalog:CRED-HARDCODED", "zizmor:hardcoded-container-credentials",
             "actionlint:credentials"},
  references = {
    "https://docs.zizmor.sh/audits/#hardcoded-container-credentials",
    "https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions#jobsjob_idcontainercredentials",
  },
  files = {".github/workflows/*.{yml,yaml}"},

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m or m.kind ~= "workflow" then return end

    local function check_image(img, what, key, job)
      local cred = img and img.credentials
      local pw = cred and cred.password
      if not pw or not pw.text or pw.text == "" or is_expression(pw.text) then return end
      ctx:fail{
        message = ("The registry password of %s is written in the workflow; store it as a "
          .. "secret and use `password: ${{ secrets.NAME }}`, then rotate it."):format(what),
        line = pw.line, column = pw.col,
        key = key,
        details = {job = job.id, image = img.raw,
                   username = cred.username and cred.username.text or nil},
      }
    end

    for _, job in ipairs(m.jobs or {}) do
      check_image(job.container, ("job '%s''s container"):format(job.id),
        job.route .. ".container.credentials", job)
      for _, svc in ipairs(job.services or {}) do
        check_image(svc.image, ("service '%s' of job '%s'"):format(svc.name, job.id),
          job.route .. ".services." .. svc.name .. ".credentials", job)
      end
    end
  end,
}
