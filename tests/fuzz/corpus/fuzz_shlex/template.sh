echo "T=${{ github.event.issue.title }}" >> "$GITHUB_ENV"
echo x=${{ format('{0}', '}}') }}
