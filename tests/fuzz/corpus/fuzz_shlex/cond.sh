[[ -f a && $x =~ ^(a|b)$ ]] && curl x|bash
[ -n "$y" ] || exit 1
