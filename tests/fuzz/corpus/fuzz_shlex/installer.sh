set -euo pipefail
VERSION=$(curl -s https://api/x | jq -r .tag_name)
wget -qO- "https://x/${VERSION}/i.sh" | sh -s -- --yes
echo "::set-output name=v::$VERSION"
echo "v=$VERSION" >> "$GITHUB_OUTPUT"
