package record

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The writes of a run, each one transaction: what a run's moments write
// is decided here, not by the caller.

// SaveRun writes run r as it is (its start, a status change, its end).
func (db *DB) SaveRun(r *Run) error {
	return db.bolt.Update(func(tx *bolt.Tx) error { return putRun(tx, r) })
}

// SaveAttempts writes attempts decided without a build (up to date,
// ignored, skipped, failed to plan), or attempts found lost.
func (db *DB) SaveAttempts(atts ...*Attempt) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		for _, a := range atts {
			if err := putAttempt(tx, a); err != nil {
				return err
			}
		}
		return nil
	})
}

// StartAttempt records that worker w started building attempt a.
func (db *DB) StartAttempt(a *Attempt, w *Worker) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if err := putAttempt(tx, a); err != nil {
			return err
		}
		return putWorker(tx, w)
	})
}

// Finished is the end of one build attempt.
type Finished struct {
	Attempt *Attempt
	// Lost are earlier attempts of the same port that ended with it (a
	// farm's lost build hosts), recorded interrupted.
	Lost []*Attempt
	// Worker is the worker's state after the build.
	Worker *Worker
	// Latest, when set, is the package the build made, which becomes the
	// node's latest package: its CRC index entry and package record are
	// written with the attempt (a meta port's has no file). Nil for a
	// failed or interrupted build, and for a replay's (its packages are
	// not in packages_dir).
	Latest *Package
}

// FinishAttempt records the end of a build in one transaction: the
// attempt, the attempts lost with it, the worker and, for a build whose
// package becomes the latest, the CRC index and the package record.
func (db *DB) FinishAttempt(f Finished) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		for _, la := range f.Lost {
			if err := putAttempt(tx, la); err != nil {
				return err
			}
		}
		if err := putAttempt(tx, f.Attempt); err != nil {
			return err
		}
		if f.Worker != nil {
			if err := putWorker(tx, f.Worker); err != nil {
				return err
			}
		}
		if p := f.Latest; p != nil {
			if p.NodeID != f.Attempt.NodeID {
				return fmt.Errorf("finish attempt %s: package of %s, attempt of %s", f.Attempt.ID, p.NodeID, f.Attempt.NodeID)
			}
			if err := putCRC(tx, p.NodeID, CRCEntry{CRC32: p.CRC32, InputKey: p.InputKey}); err != nil {
				return err
			}
			if err := putPackage(tx, *p); err != nil {
				return err
			}
		}
		return nil
	})
}

// EndRun records the end of run r with its workers' final state.
func (db *DB) EndRun(r *Run, workers []*Worker) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		for _, w := range workers {
			if err := putWorker(tx, w); err != nil {
				return err
			}
		}
		return putRun(tx, r)
	})
}

// MarkCrashed records run r, whose process died, as crashed at end with
// reason, and each of its attempts still building as interrupted (at end,
// or at its start when that is later).
func (db *DB) MarkCrashed(r *Run, atts []*Attempt, end time.Time, reason string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		for _, at := range atts {
			if at.Status != AttemptBuilding {
				continue
			}
			at.Status, at.Error, at.End = AttemptInterrupted, "the run crashed", end
			if at.Start.After(end) {
				at.End = at.Start
			}
			if err := putAttempt(tx, at); err != nil {
				return err
			}
		}
		r.Status, r.Error, r.End = RunCrashed, reason, end
		return putRun(tx, r)
	})
}
