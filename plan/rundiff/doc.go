// Package rundiff explains what changed between two runs: the ports added
// and removed, and for each port the inputs that differ (port directory
// and CRC, options, make.conf, Mk framework, environment identity,
// dependencies' input keys, the dependency packages installed), the
// outcome and duration changes and the package hash changes. It reads the
// runs' stored plans and attempts from the records database; nothing is
// re-scanned. `dsynth diff` renders it.
//
// Packages of ports that were up to date in a run are found the way
// replay finds them (NodePackages): the latest successful non-replay
// build of the node's input key that ended before the run did.
package rundiff
