package plan

import (
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/go-dsynth/dsynth/record"
)

// RecordsStore is the planner's view of the records database at path, the
// one rule every front plans with: a snapshot when the file exists (so
// that a long scan never holds its lock; the metadata cache is written
// back at the end), none when there is no records file yet ("" or
// missing): planning alone never creates one (a plan that is never
// applied leaves nothing behind).
func RecordsStore(path string) (Store, error) {
	if path == "" {
		return nil, nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	s, err := record.LoadSnapshot(path, 30*time.Second)
	if err != nil {
		return nil, err
	}
	return s, nil
}
