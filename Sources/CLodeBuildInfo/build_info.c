// The values come from Package.swift as defines (-DLODE_VERSION=..., -DLODE_COMMIT=...), so a
// build writes nothing into the source tree. Only this file is compiled again when they change.
#include "lode_build_info.h"

#ifndef LODE_VERSION
#define LODE_VERSION "unknown"
#endif
#ifndef LODE_COMMIT
#define LODE_COMMIT "unknown"
#endif

const char *lode_build_version(void) { return LODE_VERSION; }

const char *lode_build_commit(void) { return LODE_COMMIT; }
