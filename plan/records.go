package plan

import (
	"errors"
	"fmt"
	"io"
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
// applied leaves nothing behind). Release it with CloseStore when the plan
// is made.
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

// CloseStore releases what a Store from RecordsStore holds (the
// snapshot's temporary file); nil is fine.
func CloseStore(s Store) error {
	if c, ok := s.(io.Closer); ok && s != nil {
		if err := c.Close(); err != nil {
			return fmt.Errorf("records snapshot: %w", err)
		}
	}
	return nil
}
