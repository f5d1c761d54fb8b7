case "$1" in
  start|go) run_it ;;
  (stop) stop_it; x ;;&
  *) echo "?" ;&
esac
