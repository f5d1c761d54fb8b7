-- e2e test policy using run(): reports every .bin artifact with the
-- optional location fields (member, offset) and details.
return mlgate.policy {
  id = "model/e2e-artifacts",
  title = "Binary model artifacts are reported",
  description = "Test policy of the end-to-end suite (tests/e2e).",
  remediation = "Use safetensors.",
  gate = "model",
  severity = "low",
  confidence = "medium",
  atlas = {"AML.T0011.000", "AML.M0016"},
  aliases = {"e2e:artifact", "catalog:E2E-ARTIFACT"},
  run = function(ctx)
    for _, path in ipairs(mlgate.fs.list("**/*.bin")) do
      local hex, size = mlgate.hash.sha256_file(path)
      ctx:fail{path = path, member = "archive/data.pkl", offset = 12,
               message = "binary model artifact; convert it to safetensors",
               details = {module = "os", name = "system", sha256 = hex, size = size}}
    end
  end,
}
