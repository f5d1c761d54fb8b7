-- Hostile policy (tests/e2e/run.sh, security suite): metadata invalid in
-- every field. Must be refused with an error naming this file; its code must
-- not get to run as a policy.
return mlgate.policy {
  id = {"not", "a", "string"},
  title = "two\nlines",
  description = 42,
  remediation = false,
  gate = "nowhere",
  gates = {"pipeline", "nowhere"},
  severity = "apocalyptic",
  confidence = "sure",
  enforcement = "strict",
  atlas = {"AML.T9999", 7},
  aliases = {"no-colon"},
  references = "https://example.org",
  files = {"[unclosed"},
  params = "none",
  run = "not a function",
  check = 17,
  colour = "red",
}
