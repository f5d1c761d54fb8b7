/* c */ x // y
#!no
