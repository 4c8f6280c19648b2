#ifndef LODE_BUILD_INFO_H
#define LODE_BUILD_INFO_H

/// Lodestone's release version, as Package.swift states it (e.g. "0.15.0").
const char *lode_build_version(void);

/// The git commit the build was made from (40 hex digits, "-dirty" when the tree had
/// uncommitted changes), LODE_BUILD_COMMIT when the build had no checkout, or "unknown".
const char *lode_build_commit(void);

#endif
