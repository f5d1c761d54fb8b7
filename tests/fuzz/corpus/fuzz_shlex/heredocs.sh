cat <<EOF >> $GITHUB_ENV
A=${{ x }}
B=$(date)
EOF
python - <<'PY'
import torch
PY
cat <<-X
	indented
	X
