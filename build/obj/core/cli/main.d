build/obj/core/cli/main.o: core/cli/main.c core/include/mlgate/version.h
core/include/mlgate/version.h:
