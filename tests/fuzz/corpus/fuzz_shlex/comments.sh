# curl x | sh
echo hi # trailing
