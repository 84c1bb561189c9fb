// Package record is dsynth's records database: a single bbolt file holding
// the port metadata cache, the CRC index, runs, build attempts, packages,
// history and worker activity.
//
// Layout (each name is a top-level bucket):
//
//	meta       schema_version -> uint32 big-endian
//	portcache  cache key (hex sha256 of everything that changes make -V) -> the planner's encoded scan;
//	           also "sha256:" path 0x00 size 0x00 mtime -> hex SHA-256 of a package file
//	crcindex   node id -> JSON {crc32, input_key}
//	runs       run uuid -> JSON Run
//	attempts   attempt uuid -> JSON Attempt
//	packages   node id -> JSON latest successful package
//	history    indexes of attempts, each key -> attempt uuid (unix ns: 20 digits):
//	           t/<unix ns>/<attempt>               time order (stats -since)
//	           o/<origin> 0x00 <unix ns>/<attempt>  per origin (history ORIGIN)
//	           r/<run>/<unix ns>/<attempt>          per run (show RUN_ID)
//	workers    <run uuid>/<worker, 3 digits> -> JSON worker activity
//	apikeys    key id -> JSON (salted hash, role)
//	inputs     input key -> JSON input components (port hash, options, make.conf, Mk, env, deps)
//	durations  node id -> end (unix ns) and duration (ns) of its latest successful build,
//	           8 bytes big-endian each (schema 2; the scheduler's expected durations)
//	cacheuse   <profile> 0x00 <origin@flavor | sha256:path> -> the portcache key that
//	           profile's plans use for it (schema 3); a replaced key is dropped from
//	           portcache when no entry names it
//	operations <unix ns, 20 digits>/<operation uuid> -> JSON Operation (schema 4):
//	           repository builds, pkgclean, fetch and purge-distfiles
//
// apply opens the file for each batch of writes (one fsynced transaction
// per port start and per port end) and closes it in between, so readers
// are never locked out for longer than one transaction.
//
// Open sets a timeout on the file lock and reports "another dsynth process
// holds the records database" instead of hanging. The schema version is
// checked on open: a newer one is refused (ErrSchema), an older one is
// migrated step by step (migrations in db.go) in the write transaction that
// opens the file, so a failed migration leaves the file as it was. A
// read-only open never migrates; readers fall back to the older layout.
package record
