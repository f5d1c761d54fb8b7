echo ${x:-$(whoami)} $((1 + $(wc -l < f))) ${#arr[@]} $? $$ $1
(( i++ )) || true
for ((i=0;i<3;i++)); do echo $i; done
