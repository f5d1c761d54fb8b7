echo ok
cat <<EOF
body
EOF
echo two
