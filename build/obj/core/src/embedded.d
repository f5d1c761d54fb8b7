build/obj/core/src/embedded.o: core/src/embedded.c core/src/embedded.h
core/src/embedded.h:
