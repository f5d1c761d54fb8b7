docker run \
  -v a:b \
  --rm img \
  sh -c "echo hi"
