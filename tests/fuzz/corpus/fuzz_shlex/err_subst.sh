echo $(foo; bar
