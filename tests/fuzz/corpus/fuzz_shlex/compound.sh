if curl x | sh; then
  echo ok
elif false; then :
else
  exit 1
fi
for f in *.py; do python "$f"; done | tee log
while read -r l; do echo "$l"; done < in.txt
until false; do break; done
