echo a"b c"'d' $'a\tb\x41\u00e9' \x "\$y" *.txt [ab] $"loc"
