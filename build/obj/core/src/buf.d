build/obj/core/src/buf.o: core/src/buf.c core/src/buf.h core/src/err.h
core/src/buf.h:
core/src/err.h:
