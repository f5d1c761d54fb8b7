A=1 B=$x C="a b" cmd arg
arr=(a "b c" $(ls))
exec 3>&1 4<&0 5<>f 1>|x
cmd &> out 2>&1 &>> all <<< "here"
