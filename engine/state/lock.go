package state

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/novelfactory/runner/engine/procgroup"
	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/internal/flock"
	"github.com/novelfactory/runner/internal/nofollow"
	"github.com/novelfactory/runner/internal/regfile"
)

// LockedError says another live run holds the recipe's lock.
type LockedError struct {
	Recipe string
	Holder string // who holds it: pid, run and start time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("another run of %s is in progress (%s); wait for it to finish", e.Recipe, e.Holder)
}

// OrphansError says the last run of the recipe ended — its runner was
// killed — while processes its tasks started still run: starting the
// recipe again would run the same steps twice at once.
type OrphansError struct {
	Recipe string
	Run    string
	PID    int // the runner that is gone
	Groups []Group
}

func (e *OrphansError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "run %s of %s ended (runner, pid %d, was killed) but processes its tasks started still run:", e.Run, e.Recipe, e.PID)
	for _, g := range e.Groups {
		fmt.Fprintf(&b, "\n  task %s: process group %d (%s)", g.Task, g.PGID, g.Command)
	}
	fmt.Fprintf(&b, "\nthey may still be writing; wait for them to end, or stop them with `kill -TERM -- -%d`, then run again", e.Groups[0].PGID)
	return b.String()
}

// Holder is who holds a lock: the first line of the lock's holder file.
type Holder struct {
	PID    int       `json:"pid"`
	Run    string    `json:"run,omitempty"`
	Since  time.Time `json:"since"`
	BootID string    `json:"boot_id,omitempty"`
}

// Group is a process group a task runs.
type Group struct {
	PGID    int    `json:"pgid"`
	Start   uint64 `json:"start"` // its leader's start, in clock ticks since boot
	Task    string `json:"task"`
	Command string `json:"command"` // masked, shortened
}

// holderEvent is a line of the holder file after the first: a process
// group started, or one that ended.
type holderEvent struct {
	Started *Group `json:"started,omitempty"`
	Ended   int    `json:"ended,omitempty"`
}

// Lock is a run's hold on its recipe. It is a flock(2) on a lock file
// beside the recipe — whatever state folder the run uses — and on the
// recipe file itself (the same file by any name), which the kernel drops
// when its holder dies, even by kill -9; and a holder file that says who holds it and, line by line,
// which process groups its tasks start and see end, so that the next run
// can tell whether a killed runner left processes behind. The holder file
// is only appended to while the lock is held: a line costs one write, and
// a line cut short by a kill is ignored.
type Lock struct {
	Recipe string // the recipe's name, for messages
	file   *os.File
	holder *os.File // the holder file, appended to
	recipe *os.File // the recipe file, locked too
	masker *secret.Masker
	mu     sync.Mutex
	live   map[int]bool // the process groups running now
}

// LockPath is the lock file of the recipe at path: in the user's runtime
// folder (see runtimeDir) — never in the recipe's own folder, where a `git
// clean` or an `rm -rf .runner` during a run would take it away — named by
// the recipe's file name and a hash of its folder's identity (device and
// inode: the same through a link or a bind mount) and that name.
func LockPath(recipe string) (string, error) {
	abs, err := filepath.Abs(recipe)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	key := abs
	if info, err := os.Stat(filepath.Dir(abs)); err == nil {
		if id, ok := folderID(info); ok {
			key = id + "/" + filepath.Base(abs)
		}
	}
	dir, err := runtimeDir()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(key))
	name := filepath.Base(abs)
	if len(name) > 64 { // file names have a limit: keep the hash whole
		cut := 64
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		name = name[:cut]
	}
	return filepath.Join(dir, name+"-"+hex.EncodeToString(sum[:8])+".lock"), nil
}

// LockRecipe takes the lock of the recipe file at path for run. It fails
// with *LockedError while another run holds it, and with *OrphansError
// while processes of a killed run of it still run. masker masks the
// command lines kept in the holder file.
func LockRecipe(path, run string, masker *secret.Masker) (*Lock, error) {
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	lockPath, err := LockPath(path)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f, err := nofollow.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", lockPath, err)
	}
	holderPath := strings.TrimSuffix(lockPath, ".lock") + ".holder"
	if err := flock.TryExclusive(f); err != nil {
		f.Close()
		if errors.Is(err, flock.ErrLocked) {
			last, _ := readHolder(holderPath)
			return nil, &LockedError{Recipe: name, Holder: describe(last)}
		}
		return nil, fmt.Errorf("lock %s: %w", lockPath, err)
	}
	// The recipe file itself is locked too: the same file through a hard
	// link, after a rename, or by a user who cannot write beside it (so
	// whose lock file is elsewhere) is the same recipe.
	recipeFile, err := regfile.Open(path)
	if err == nil {
		if err = flock.TryExclusive(recipeFile); err != nil {
			recipeFile.Close()
		}
	}
	if err != nil {
		flock.Unlock(f)
		f.Close()
		if errors.Is(err, flock.ErrLocked) {
			return nil, &LockedError{Recipe: name, Holder: "a run of the same recipe file under another name — a link, a rename — or of a lock file since removed"}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	l := &Lock{Recipe: name, file: f, recipe: recipeFile, masker: masker, live: map[int]bool{}}
	// The lock is ours: its last holder is gone. Did it leave processes?
	if last, groups := readHolder(holderPath); last != nil {
		if alive := aliveGroups(last, groups); len(alive) > 0 {
			l.release()
			return nil, &OrphansError{Recipe: name, Run: last.Run, PID: last.PID, Groups: alive}
		}
	}
	l.holder, err = nofollow.OpenFile(holderPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err == nil {
		err = l.append(Holder{PID: os.Getpid(), Run: run, Since: time.Now().UTC(), BootID: procgroup.BootID()})
	}
	if err != nil {
		l.release()
		return nil, fmt.Errorf("write lock holder %s: %w", holderPath, err)
	}
	return l, nil
}

// Started records a process group of task (see tasktype.Processes).
func (l *Lock) Started(task string, pgid int, command string) (ended func()) {
	// Masked first: a secret cut in two by the shortening would not be
	// recognised.
	command = l.masker.String(command)
	if len(command) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(command[cut]) {
			cut--
		}
		command = command[:cut] + "…"
	}
	l.mu.Lock()
	l.live[pgid] = true
	l.mu.Unlock()
	l.append(holderEvent{Started: &Group{PGID: pgid, Start: procgroup.StartTime(pgid), Task: task, Command: command}})
	return func() {
		l.mu.Lock()
		delete(l.live, pgid)
		l.mu.Unlock()
		l.append(holderEvent{Ended: pgid})
	}
}

// Running reports whether pid leads a process group of the run that has
// not ended.
func (l *Lock) Running(pid int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.live[pid]
}

// KillAll kills, at once, every process of the groups running now.
func (l *Lock) KillAll() {
	l.mu.Lock()
	ids := make([]int, 0, len(l.live))
	for id := range l.live {
		ids = append(ids, id)
	}
	l.mu.Unlock()
	for _, id := range ids {
		procgroup.Kill(id)
	}
}

// Unlock releases the lock.
func (l *Lock) Unlock() {
	l.mu.Lock()
	if l.holder != nil {
		l.holder.Close()
		l.holder = nil
	}
	l.mu.Unlock()
	l.release()
}

func (l *Lock) release() {
	flock.Unlock(l.recipe)
	l.recipe.Close()
	flock.Unlock(l.file)
	l.file.Close()
}

// append writes one line to the holder file. A failure means a killed
// run's leftovers might go unnoticed, not that the run is wrong: only
// LockRecipe reports it.
func (l *Lock) append(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder == nil {
		return nil
	}
	_, err = l.holder.Write(append(data, '\n'))
	return err
}

// readHolder reads a holder file: who held the lock, and the process
// groups it started and did not see end.
func readHolder(path string) (*Holder, []Group) {
	data, err := regfile.ReadFile(path)
	if err != nil {
		return nil, nil
	}
	lines := strings.Split(string(data), "\n")
	var h Holder
	if json.Unmarshal([]byte(lines[0]), &h) != nil || h.PID == 0 {
		return nil, nil
	}
	var groups []Group
	for _, line := range lines[1:] {
		var e holderEvent
		if json.Unmarshal([]byte(line), &e) != nil {
			break // a line cut short by a kill: everything before it stands
		}
		switch {
		case e.Started != nil:
			groups = append(groups, *e.Started)
		case e.Ended != 0:
			for i, g := range groups {
				if g.PGID == e.Ended {
					groups = append(groups[:i], groups[i+1:]...)
					break
				}
			}
		}
	}
	return &h, groups
}

func describe(h *Holder) string {
	if h == nil {
		return "holder unknown"
	}
	s := fmt.Sprintf("pid %d", h.PID)
	if h.Run != "" {
		s += ", run " + h.Run
	}
	return s + " since " + h.Since.Local().Format(time.RFC3339)
}

// aliveGroups returns the groups of a gone holder that still run. A group
// is the holder's when the machine has not rebooted since and, if its
// leader still lives, the leader started when recorded (a process group
// id is not reused while the group has members).
func aliveGroups(h *Holder, groups []Group) []Group {
	if h.BootID == "" || h.BootID != procgroup.BootID() {
		return nil
	}
	var alive []Group
	for _, g := range groups {
		if !procgroup.Alive(g.PGID) {
			continue
		}
		if start := procgroup.StartTime(g.PGID); start != 0 && g.Start != 0 && start != g.Start {
			continue // the leader's pid now belongs to another process
		}
		alive = append(alive, g)
	}
	return alive
}

// CurrentHolder returns who last took the lock of the recipe at path, and
// whether that process still lives on this boot — without touching the
// lock itself, so that asking never makes a starting run fail. A holder
// that lives is taken to still hold the lock: a lock is released only when
// its run ends, and a run's record says whether it ended. Nil when the
// recipe was never locked.
func CurrentHolder(path string) (h *Holder, alive bool) {
	lockPath, err := LockPath(path)
	if err != nil {
		return nil, false
	}
	h, _ = readHolder(strings.TrimSuffix(lockPath, ".lock") + ".holder")
	if h == nil {
		return nil, false
	}
	if h.BootID != "" && h.BootID != procgroup.BootID() {
		return h, false
	}
	return h, procgroup.Exists(h.PID)
}
