-- pipeline/secrets-inherit: a reusable-workflow call that passes every
-- secret of the caller (`secrets: inherit`).
--
-- Follows zizmor's secrets-inherit audit; the finding points at the
-- called workflow (`uses:`), as zizmor's does.

return mlgate.policy {
  id = "pipeline/secrets-inherit",
  title = "Reusable workflows should receive only the secrets they need",
  description = [[
`secrets: inherit` hands the called workflow every secret the caller can
read: repository, organisation and environment secrets alike. In ML
repositories that usually means model-hub write tokens (HF_TOKEN), experiment
tracker keys, cloud credentials for training data buckets and registry
passwords, whether or not the called workflow uses them. Any step of the
called workflow (or of a workflow it calls in turn, or a compromised action
in it) can then read all of them, and a later change to the called
workflow, possibly in another repository, silently starts receiving them.

Matches zizmor's secrets-inherit audit.]],
  remediation = [[
Pass the secrets the called workflow declares, by name:

    jobs:
      evaluate:
        uses: org/ml-ci/.github/workflows/eval.yml@<sha>
        secrets:
          HF_TOKEN: ${{ secrets.HF_READ_TOKEN }}

and declare them in the called workflow (`on: workflow_call: secrets:`),
so that each one is visible in review.]],
  gate = "pipeline",
  severity = "medium",
  confidence = "high",
  atlas = {"AML.T0055"},
  aliases = {"catalog:SEC-INHERIT", "zizmor:secrets-inherit"},
  references = {
    "https://docs.zizmor.sh/audits/#secrets-inherit",
    "https://docs.github.com/en/actions/sharing-automations/reusing-workflows#passing-secrets-to-nested-workflows",
  },
  files = {".github/workflows/*.{yml,yaml}"},

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m or m.kind ~= "workflow" then return end
    for _, job in ipairs(m.jobs or {}) do
      if job.uses and job.secrets and job.secrets.inherit then
        local u = job.uses
        ctx:fail{
          message = ("Job '%s' passes every secret of this workflow to %s with `secrets: "
            .. "inherit`; pass only the secrets it needs, by name."):format(job.id, u.raw),
          line = u.line, column = u.col,
          end_line = job.secrets.line > u.line and job.secrets.line or nil,
          key = job.route .. ":secrets-inherit",
          details = {job = job.id, uses = u.raw, secrets_line = job.secrets.line},
        }
      end
    end
  end,
}
