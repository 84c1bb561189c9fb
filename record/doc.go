// Package record is dsynth's records database: a single bbolt file holding
// the port metadata cache, the CRC index, runs, build attempts, packages,
// history and worker activity.
//
// Layout (each name is a top-level bucket):
//
//	meta       schema_version -> uint32 big-endian
//	portcache  cache key (hex sha256 of everything that changes make -V) -> JSON metadata;
//	           also "sha256:" path 0x00 size 0x00 mtime -> hex SHA-256 of a package file
//	crcindex   node id -> JSON {crc32, input_key}
//	runs       run uuid -> JSON Run
//	attempts   attempt uuid -> JSON Attempt
//	packages   node id -> JSON latest successful package
//	history    node id 0x00 RFC3339Nano start 0x00 attempt uuid -> nil (time-ordered)
//	workers    run uuid 0x00 worker id -> JSON worker activity
//	apikeys    key id -> JSON (salted hash, role)
//	inputs     input key -> JSON input components (port hash, options, make.conf, Mk, env, deps)
//
// Open sets a timeout on the file lock and reports "another dsynth process
// holds the records database" instead of hanging. The schema version is
// checked on open; migrations run in one write transaction.
package record
