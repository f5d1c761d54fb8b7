echo "x=$(git log -1 --format=%s)" >> $GITHUB_OUTPUT
