package distfiles

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/go-dsynth/dsynth/record"
)

// FetchOperation is the record of a fetch that started at start and
// ended with res (may be nil) and err: ok when every port was fetched or
// present, partial when some failed and others did not, failed when
// nothing could be fetched. Count is the ports fetched (new files),
// Bytes their size, Items the failed and fetched ports.
func FetchOperation(profile string, start time.Time, res *Result, err error) *record.Operation {
	op := &record.Operation{ID: uuid.NewString(), Kind: record.OpFetch, Profile: profile,
		Start: start.UTC(), End: time.Now().UTC(), Status: record.OpOK}
	failed := 0
	if res != nil {
		op.Count, op.Bytes = res.Count(Fetched), res.Bytes()
		failed = res.Count(Failed)
		for i := range res.Ports {
			pr := &res.Ports[i]
			switch pr.Status {
			case Failed:
				op.Items = append(op.Items, pr.ID+": "+pr.Reason)
			case Fetched:
				op.Items = append(op.Items, pr.ID)
			}
		}
	}
	switch {
	case err != nil:
		op.Status, op.Error = record.OpFailed, err.Error()
		if res != nil && res.Count(Fetched)+res.Count(Present) > 0 {
			op.Status = record.OpPartial
		}
	case failed > 0 && res.Count(Fetched)+res.Count(Present) == 0:
		op.Status, op.Error = record.OpFailed, fmt.Sprintf("%d ports failed", failed)
	case failed > 0:
		op.Status, op.Error = record.OpPartial, fmt.Sprintf("%d ports failed", failed)
	}
	return op
}

// PurgeOperation is the record of a purge of dir (distfiles_dir) that
// started at start and removed rm (may be nil) with err: Count files
// removed, Bytes freed, Items their paths.
func PurgeOperation(profile, dir string, start time.Time, rm *Removed, err error) *record.Operation {
	op := &record.Operation{ID: uuid.NewString(), Kind: record.OpPurgeDistfiles, Profile: profile,
		Start: start.UTC(), End: time.Now().UTC(), Status: record.OpOK, Path: dir}
	if rm != nil {
		op.Count, op.Bytes = len(rm.Files), rm.Bytes
		for _, f := range rm.Files {
			op.Items = append(op.Items, f.Path)
		}
	}
	if err != nil {
		op.Status, op.Error = record.OpFailed, err.Error()
		if rm != nil && len(rm.Files) > 0 {
			op.Status = record.OpPartial
		}
	}
	return op
}

// Record writes op in the records database at path (created if needed).
func Record(path string, op *record.Operation) error { return record.AppendOperation(path, op) }
