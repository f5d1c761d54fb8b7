-- e2e: a policy with a syntax error must fail the run closed (exit 2).
return mlgate.policy {
  id = "train/e2e-syntax",
  title = "broken"
  gate = "train",
}
