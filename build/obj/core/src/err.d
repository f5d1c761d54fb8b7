build/obj/core/src/err.o: core/src/err.c core/src/err.h
core/src/err.h:
