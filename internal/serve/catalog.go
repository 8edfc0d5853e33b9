package serve

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/novelfactory/runner/engine"
	"github.com/novelfactory/runner/engine/diag"
	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/internal/regfile"
	"github.com/novelfactory/runner/internal/serve/api"
)

// includeRecheck is how often a recipe whose own file did not change is
// loaded again anyway, to see changes in the files it includes (its
// digest covers them).
const includeRecheck = 30 * time.Second

// served is one recipe file of the catalog.
type served struct {
	id       string
	path     string // as found: a served folder joined with the file name
	abs      string
	stateDir string
	size     int64
	mtime    time.Time
	loaded   time.Time // when it was last loaded (by the server's clock)
	seen     time.Time // when the server first saw it
	recipe   *recipe.Recipe
	errors   []string // file:line:col: what; empty when valid
	schedule *Schedule
}

// catalog is the recipes the server serves, by id.
type catalog struct {
	c     *Core
	mu    sync.RWMutex
	byID  map[string]*served
	byAbs map[string]*served
	order []string // ids in folder, then file name order
}

func newCatalog(c *Core) *catalog {
	return &catalog{c: c, byID: map[string]*served{}, byAbs: map[string]*served{}}
}

// get returns the recipe with id, or nil.
func (cat *catalog) get(id string) *served {
	cat.mu.RLock()
	defer cat.mu.RUnlock()
	return cat.byID[id]
}

// idOf returns the id of the recipe whose absolute path is abs, or "".
func (cat *catalog) idOf(abs string) string {
	cat.mu.RLock()
	defer cat.mu.RUnlock()
	if s := cat.byAbs[abs]; s != nil {
		return s.id
	}
	return ""
}

// all returns the served recipes in order.
func (cat *catalog) all() []*served {
	cat.mu.RLock()
	defer cat.mu.RUnlock()
	out := make([]*served, 0, len(cat.order))
	for _, id := range cat.order {
		out = append(out, cat.byID[id])
	}
	return out
}

// scan looks at every served folder: new and changed recipe files are
// loaded, vanished ones dropped. It reports whether anything changed.
func (cat *catalog) scan() bool {
	now := cat.c.cfg.Now()
	var paths []string
	for _, dir := range cat.c.cfg.Dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			cat.c.log.Warn("serve: read recipe folder", "dir", dir, "err", err)
			continue
		}
		for _, e := range entries {
			ext := filepath.Ext(e.Name())
			if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
				continue
			}
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	changed := false
	present := map[string]bool{}
	for _, path := range paths {
		abs, err := filepath.Abs(path)
		if err != nil {
			continue
		}
		info, err := os.Stat(path)
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		cat.mu.RLock()
		old := cat.byAbs[abs]
		cat.mu.RUnlock()
		if old != nil {
			present[abs] = true
			same := old.size == info.Size() && old.mtime.Equal(info.ModTime())
			if same && now.Sub(old.loaded) < includeRecheck && now.Sub(old.loaded) >= 0 {
				continue
			}
			s := cat.load(path, abs, info, now)
			s.id, s.seen = old.id, old.seen
			if s != nil && same && sameLoad(old, s) {
				old.loaded = now
				continue
			}
			cat.put(s)
			changed = true
			cat.c.log.Info("serve: recipe reloaded", "recipe", s.id, "valid", len(s.errors) == 0)
			continue
		}
		if !isRecipe(path) {
			continue
		}
		present[abs] = true
		s := cat.load(path, abs, info, now)
		s.seen = now
		s.id = cat.newID(path, abs)
		cat.put(s)
		changed = true
	}
	cat.mu.Lock()
	for abs, s := range cat.byAbs {
		if !present[abs] {
			delete(cat.byAbs, abs)
			delete(cat.byID, s.id)
			changed = true
		}
	}
	cat.order = cat.order[:0]
	for _, s := range cat.byAbs {
		cat.order = append(cat.order, s.id)
	}
	sort.Slice(cat.order, func(i, j int) bool {
		return cat.byID[cat.order[i]].path < cat.byID[cat.order[j]].path
	})
	cat.mu.Unlock()
	if changed {
		cat.c.timer.update()
	}
	return changed
}

func sameLoad(a, b *served) bool {
	if (a.recipe == nil) != (b.recipe == nil) || strings.Join(a.errors, "\n") != strings.Join(b.errors, "\n") {
		return false
	}
	return a.recipe == nil || a.recipe.Digest == b.recipe.Digest
}

func (cat *catalog) put(s *served) {
	cat.mu.Lock()
	defer cat.mu.Unlock()
	cat.byAbs[s.abs] = s
	cat.byID[s.id] = s
}

// load loads one recipe file; an invalid one keeps its errors.
func (cat *catalog) load(path, abs string, info os.FileInfo, now time.Time) *served {
	s := &served{path: path, abs: abs, size: info.Size(), mtime: info.ModTime(), loaded: now,
		stateDir: engine.StateDir(path, cat.c.cfg.StateDir)}
	r, err := engine.Load(engine.Options{Recipe: path, Registry: cat.c.cfg.Registry})
	if err != nil {
		s.errors = errorLines(err)
		return s
	}
	s.recipe = r
	if cat.c.cfg.Schedules != nil {
		sched, err := cat.c.cfg.Schedules.Schedule(r)
		if err != nil {
			s.recipe, s.errors = nil, errorLines(err)
			return s
		}
		s.schedule = sched
	}
	return s
}

// errorLines are the diagnostics of a load error, one per line.
func errorLines(err error) []string {
	var list diag.List
	if errors.As(err, &list) {
		out := make([]string, len(list))
		for i, d := range list {
			out[i] = d.Error()
		}
		return out
	}
	return strings.Split(err.Error(), "\n")
}

// isRecipe reports whether the YAML file at path looks like a recipe: a
// mapping with a version: or tasks: key at the top. A file that is not
// YAML at all counts as one (a recipe with a typo must not vanish).
func isRecipe(path string) bool {
	data, err := regfile.ReadFile(path)
	if err != nil {
		return true
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return true
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return false
	}
	top := doc.Content[0].Content
	for i := 0; i+1 < len(top); i += 2 {
		if k := top[i].Value; k == "version" || k == "tasks" {
			return true
		}
	}
	return false
}

// newID names a new recipe: its file name without extension, made to fit
// api.IDPattern, with a suffix from its path when another recipe has it.
func (cat *catalog) newID(path, abs string) string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	id := []byte(base)
	for i, b := range id {
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '_' || b == '-') {
			id[i] = '-'
		}
	}
	name := string(id)
	if len(name) > 100 {
		name = name[:100]
	}
	if name == "" || !api.IDPattern.MatchString(name) {
		name = "r" + name
	}
	cat.mu.RLock()
	_, taken := cat.byID[name]
	cat.mu.RUnlock()
	if taken || name != base {
		sum := sha256.Sum256([]byte(abs))
		name += "-" + hex.EncodeToString(sum[:3])
	}
	return name
}

// byAbsPath returns the recipe whose absolute path is abs, or nil.
func (cat *catalog) byAbsPath(abs string) *served {
	cat.mu.RLock()
	defer cat.mu.RUnlock()
	return cat.byAbs[abs]
}
