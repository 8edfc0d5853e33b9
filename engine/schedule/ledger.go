package schedule

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/novelfactory/runner/engine/atomicfile"
	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/internal/regfile"
)

// LedgerFile is the ledger's usual name in a state folder.
const LedgerFile = "schedule.json"

// ledgerVersion is the format of the file; a newer one is refused.
const ledgerVersion = 1

// Ledger is the last fire time of every schedule entry, kept in a JSON
// file that is replaced atomically on every change: after a restart, Due
// continues from it, so no run is repeated and none lost. It is safe for
// concurrent use.
type Ledger struct {
	// Damaged is why the file could not be read when LoadLedger set it
	// aside (renamed to MovedTo) and started an empty ledger.
	Damaged error
	MovedTo string

	path string
	mu   sync.Mutex
	last map[string]ledgerEntry
}

// ledgerEntry is one schedule entry's record.
type ledgerEntry struct {
	Last time.Time `json:"last"`
}

type ledgerFile struct {
	Version   int                    `json:"version"`
	Schedules map[string]ledgerEntry `json:"schedules"`
}

// Key identifies a schedule entry in a ledger: the recipe file's absolute
// path, the cron line and the zone. Editing the cron line or the zone
// makes a new key, which Due treats as never seen: it does not replay
// times the old line would have fired.
func Key(recipePath string, e *recipe.ScheduleEntry) string {
	if abs, err := filepath.Abs(recipePath); err == nil {
		recipePath = abs
	}
	return recipePath + " | " + e.Key()
}

// LoadLedger reads the ledger at path; a missing file is an empty ledger.
// A named pipe, device or folder there is an error, read without blocking.
// A file that is not a ledger (damaged on disk, or edited by hand) is
// renamed aside to path.damaged-UNIXTIME and an empty ledger starts, with
// Damaged and MovedTo saying so: every entry is then new to Due, which
// fires nothing until its next time — a damaged ledger may lose a
// catch-up, never repeat a run, and never stops the schedules for good.
func LoadLedger(path string) (*Ledger, error) {
	l := &Ledger{path: path, last: map[string]ledgerEntry{}}
	data, err := regfile.ReadFile(path) // a named pipe would block the server's ticks forever
	if errors.Is(err, fs.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read schedule ledger: %w", err)
	}
	var f ledgerFile
	if err := json.Unmarshal(data, &f); err != nil {
		aside := fmt.Sprintf("%s.damaged-%d", path, time.Now().Unix())
		if rerr := os.Rename(path, aside); rerr != nil {
			return nil, fmt.Errorf("read schedule ledger %s: %w (and it cannot be set aside: %v)", path, err, rerr)
		}
		l.Damaged, l.MovedTo = fmt.Errorf("schedule ledger %s: %w", path, err), aside
		return l, nil
	}
	if f.Version > ledgerVersion {
		return nil, fmt.Errorf("read schedule ledger %s: version %d is newer than this runner reads (%d)", path, f.Version, ledgerVersion)
	}
	for k, v := range f.Schedules {
		l.last[k] = v
	}
	return l, nil
}

// Path returns the ledger's file.
func (l *Ledger) Path() string { return l.path }

// Get returns the last fire time recorded for key, or the zero time.
func (l *Ledger) Get(key string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last[key].Last
}

// Set records t as key's last fire time and saves the ledger, before the
// caller starts the runs for it. A time before the recorded one is
// ignored: the record never moves back (a clock stepped back).
func (l *Ledger) Set(key string, t time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	old, ok := l.last[key]
	if ok && !t.After(old.Last) {
		return nil
	}
	l.last[key] = ledgerEntry{Last: t.UTC()}
	if err := l.save(); err != nil {
		if ok {
			l.last[key] = old
		} else {
			delete(l.last, key)
		}
		return err
	}
	return nil
}

// Forget drops the records whose keys keep does not accept (entries of
// recipes or cron lines that are gone) and saves the ledger if any was.
func (l *Ledger) Forget(keep func(key string) bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	dropped := false
	for k := range l.last {
		if !keep(k) {
			delete(l.last, k)
			dropped = true
		}
	}
	if !dropped {
		return nil
	}
	return l.save()
}

// Keys lists the keys recorded, sorted.
func (l *Ledger) Keys() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := make([]string, 0, len(l.last))
	for k := range l.last {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (l *Ledger) save() error {
	data, err := json.MarshalIndent(ledgerFile{Version: ledgerVersion, Schedules: l.last}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode schedule ledger: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(l.path), 0o755); err != nil {
		return fmt.Errorf("save schedule ledger: %w", err)
	}
	if err := atomicfile.WriteFile(l.path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("save schedule ledger: %w", err)
	}
	return nil
}
