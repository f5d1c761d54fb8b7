x=`echo \`date\``
echo "`id`"
