(cd x && make) > log
{ echo a; echo b; } >> "$GITHUB_OUTPUT"
f() { curl x | sh; }
function g { :; }
