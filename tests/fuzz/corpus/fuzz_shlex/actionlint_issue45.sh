if [[ "${{ github.event.sender.login}}" == "rhysd" ]]; then
  echo "it's me"
fi
