-- pipeline/archived-uses: actions, reusable workflows and pre-commit hook
-- repositories whose GitHub repository is archived (zizmor's
-- archived-uses, offline: a bundled list of archived repositories).

local P = mlgate.pipeline

-- Archived repositories (owner/repo, lower case). Actions: zizmor's list
-- (from a GitHub search of archived repositories with an action.yml);
-- pre-commit hooks: archived repositories with a .pre-commit-hooks.yaml.
local ARCHIVED = {}
for slug in ([[
8398a7/action-slack actions-rs/audit-check actions-rs/cargo actions-rs/clippy-check
actions-rs/components-nightly actions-rs/grcov actions-rs/install actions-rs/tarpaulin
actions-rs/toolchain actions/create-release actions/setup-elixir actions/setup-haskell
actions/setup-ruby actions/upload-release-asset actionstoolbox/gem-build-and-release-action
allanchain/poetry-cache-action andrewmcodes-archive/rubocop-linter-action artichoke/setup-rust
aslafy-z/conventional-pr-title-action azure/appconfiguration-sync azure/appservice-actions
azure/azure-resource-login-action azure/container-actions azure/container-scan
azure/data-factory-deploy-action azure/data-factory-export-action
azure/data-factory-validate-action azure/get-keyvault-secrets azure/k8s-actions
azure/manage-azure-policy azure/publish-security-assessments azure/run-sqlpackage-action
azure/spring-cloud-deploy azure/webapps-container-deploy cedrickring/golang-action
cirrus-actions/rebase contributor-assistant/github-action convictional/trigger-workflow-and-wait
cpcloud/flake-update-action crazy-max/ghaction-docker-buildx crazy-max/ghaction-hugo
decathlon/pull-request-labeler-action delaguardo/setup-graalvm dulvui/godot-android-export
elstudio/actions-settings expo/expo-preview-action fabasoad/setup-zizmor-action
facebook/pysa-action fregante/release-with-changelog google/mirror-branch-action
google/skywater-pdk-actions gradle/gradle-build-action grafana/k6-action
hashicorp/terraform-cdk-action helaili/github-graphql-action helaili/jekyll-action
ilshidur/action-slack irgolic/autopr jakejarvis/backblaze-b2-action
jakejarvis/cloudflare-purge-action jakejarvis/firebase-deploy-action jakejarvis/hugo-build-action
jakejarvis/lighthouse-action jakejarvis/s3-sync-action jimmygchen/runner-fallback-action
justinribeiro/lighthouse-action kanadgupta/glitch-sync kxxt/chatgpt-action
lapras-inc/resume-sync-action liskin/gh-pipx machine-learning-apps/wandb-action
mansagroup/gcs-cache-action marvinpinto/action-automatic-releases marvinpinto/actions
maxheld83/ghpages meilcli/danger-action meilcli/gradle-update-check-action
meilcli/npm-update-check-action meilcli/nuget-update-check-action micnncim/action-lgtm-reaction
mikepenz/gradle-dependency-submission niklasmerz/github-deployment-action orf/cargo-bloat-action
paambaati/codeclimate-action philips-software/docker-ci-scripts primer/figma-action
reasonsoftware/action-pylint repo-sync/pull-request repo-sync/repo-sync
sagebind/docker-swarm-deploy-action scottbrenner/generate-changelog-action secrethub/actions
semgrep/semgrep-action shaunlwm/action-release-debugapk soichisumi/issue-copy-action
sonarsource/sonarcloud-github-action stefafafan/psi-action stefanprodan/kube-tools
suzuki-shunsuke/github-action-format suzuki-shunsuke/github-action-tflint
suzuki-shunsuke/github-action-tfsec suzuki-shunsuke/required-status-check-action
suzuki-shunsuke/trivy-config-action suzuki-shunsuke/validate-pr-review-action
svenstaro/upx-action swiftdocorg/github-wiki-publish-action tachiyomiorg/issue-moderator-action
technote-space/auto-cancel-redundant-workflow technote-space/get-diff-action
tencentcloudbase/cloudbase-action tibdex/github-app-token trmcnvn/chrome-addon
verygoodopensource/very_good_coverage whelk-io/maven-settings-xml-action
yeslayla/build-godot-action youyo/aws-cdk-github-actions yumemi-inc/clean-cache-action
z0al/dependent-issues
apidevtools/swagger-cli aquasecurity/cfsec araichev/gtfs_kit asottile-archive/seed-isort-config
benmezger/gjira brettcannon/caniusepython3 dariuszporowski/chatgpt-pre-commit-hooks
datreeio/datree dnephin/pre-commit-golang facebook/pyre-check gherynos/pre-commit-java
gruntwork-io/terraform-aws-couchbase hcodes/yaspeller jeffa5/typstfmt josephfrazier/prettier_d
life4/flakehell lucas-c/pre-commit-hooks-bandit mapbox/secret-shield marcogorelli/absolufy-imports
nix-community/nixpkgs-fmt onedr0p/sops-pre-commit owenlamont/uv-secure pre-commit/mirrors-autopep8
pre-commit/mirrors-isort pre-commit/mirrors-prettier pycqa/pydocstyle rapidsai/frigate
seandstewart/typical segmentio/golines snok/pep585-upgrade sphinx-quant/sphinx-quant
tenable/terrascan terrencepreilly/darglint thegeeklab/ansible-later
]]):gmatch("%S+") do
  ARCHIVED[slug] = true
end

-- owner/repo of a GitHub URL (https://github.com/o/r(.git), git@github.com:o/r).
local function github_slug(url)
  local o, r = url:match("^%a[%w+.-]*://[^/]*github%.com/([^/]+)/([^/?#]+)")
  if not o then o, r = url:match("^[%w._-]+@github%.com:([^/]+)/([^/?#]+)") end
  if not o then return nil end
  r = r:gsub("%.git$", ""):gsub("/+$", "")
  return o:lower() .. "/" .. r:lower()
end

return mlgate.policy {
  id = "pipeline/archived-uses",
  title = "Do not depend on archived actions or hook repositories",
  description = [[
Flags `uses:` of actions and reusable workflows, and pre-commit `repo:`
entries, whose GitHub repository is archived (actions/create-release,
actions/upload-release-asset, actions/setup-ruby, actions-rs/*,
gradle/gradle-build-action, pre-commit/mirrors-prettier, ...; a bundled
list, extendable with param `extra`). An archived repository gets no
security fixes: known bugs (and injection flaws) in its code stay, its
dependencies rot, and if the owner account is later lost the name can be
re-registered. Release jobs of ML projects that still use
actions/create-release hand it a token that can publish.]],
  remediation = [[
Replace the archived dependency with its maintained successor, for example
`gh release create` (or softprops/action-gh-release) instead of
actions/create-release and actions/upload-release-asset, ruby/setup-ruby
instead of actions/setup-ruby, dtolnay/rust-toolchain instead of
actions-rs/toolchain, gradle/actions/setup-gradle instead of
gradle/gradle-build-action, and the upstream repository's own pre-commit
hook instead of pre-commit/mirrors-*.]],
  gate = "pipeline",
  severity = "medium",
  confidence = "high",
  atlas = {"AML.T0010.001"},
  aliases = {"catalog:DEP-ARCHIVED", "zizmor:archived-uses"},
  references = {
    "https://docs.zizmor.sh/audits/#archived-uses",
    "https://docs.github.com/en/repositories/archiving-a-github-repository/archiving-repositories",
  },
  files = {".github/workflows/*.{yml,yaml}", "**/action.{yml,yaml}", "**/.pre-commit-config.{yml,yaml}"},
  params = {extra = {}},

  check = function(file, ctx)
    local extra = {}
    if type(ctx.params.extra) ~= "table" then
      return ctx:error("param 'extra' must be a list of owner/repo names")
    end
    for _, s in ipairs(ctx.params.extra) do
      if type(s) ~= "string" or not s:match("^[^/]+/[^/]+$") then
        return ctx:error("param 'extra': entries must look like owner/repo")
      end
      extra[s:lower()] = true
    end
    local function archived(slug) return ARCHIVED[slug] or extra[slug] end

    local m = P.load(file.path)
    if not m then return end
    if m.kind == "precommit" then
      for i, r in ipairs(m.repos or {}) do
        local slug = r.repo and github_slug(r.repo.text)
        if slug and archived(slug) then
          ctx:fail{
            message = ("The pre-commit hook repository %s is archived and gets no fixes; use a "
              .. "maintained hook (usually the tool's own repository)."):format(slug),
            line = r.repo.line, column = r.repo.col,
            key = "repos[" .. (i - 1) .. "]:" .. slug,
            details = {repo = r.repo.text, slug = slug},
          }
        end
      end
      return
    end
    if m.kind ~= "workflow" and m.kind ~= "action" then return end
    for u, step, job in P.uses(m) do
      if (u.kind == "action" or u.kind == "reusable") and u.owner and u.repo then
        local slug = u.owner:lower() .. "/" .. u.repo:lower()
        if archived(slug) then
          ctx:fail{
            message = ("%s comes from the archived repository %s, which gets no security "
              .. "fixes; replace it with a maintained action."):format(u.raw, slug),
            line = u.line, column = u.col,
            key = (step and step.route or (job and job.route) or "") .. ":" .. slug,
            details = {uses = u.raw, slug = slug, job = job and job.id or nil,
                       step = step and step.index or nil},
          }
        end
      end
    end
  end,
}
