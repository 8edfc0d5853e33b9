package eval

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/novelfactory/runner/internal/glob"
)

// TaskView is what an expression sees of a task: tasks.<id>.outputs and .status.
type TaskView struct {
	Outputs any    `expr:"outputs"`
	Status  string `expr:"status"`
}

// RunInfo is what an expression sees of the run: run.id, run.dry, …
type RunInfo struct {
	ID      string    `expr:"id"`
	Dry     bool      `expr:"dry"`
	Recipe  string    `expr:"recipe"`
	Started time.Time `expr:"started"`
}

// Scope is everything an expression can name. Its zero value is the type
// environment expressions are compiled against.
type Scope struct {
	Vars  map[string]any      `expr:"vars"`
	Env   map[string]string   `expr:"env"`
	Tasks map[string]TaskView `expr:"tasks"`
	Item  any                 `expr:"item"`
	Index int                 `expr:"index"`
	Run   RunInfo             `expr:"run"`

	Now      func() time.Time                   `expr:"now"`
	Strftime func(time.Time, string) string     `expr:"strftime"`
	Glob     func(string) ([]string, error)     `expr:"glob"`
	Exists   func(string) bool                  `expr:"exists"`
	Basename func(string) string                `expr:"basename"`
	Dirname  func(string) string                `expr:"dirname"`
	EnvOr    func(name, fallback string) string `expr:"env_or"`
	Always   func() bool                        `expr:"always"`
	// Success and Failure are success() and failure(), as in GitHub
	// Actions: whether every task the condition's task needs, directly or
	// through others, succeeded; whether any of them failed. The scheduler
	// sets them for each condition it evaluates.
	Success func() bool `expr:"success"`
	Failure func() bool `expr:"failure"`

	// The builders below replace expr-lang's repeat, replace, join, toJSON
	// and concat with versions that check, before building, what they would
	// build against MaxBuild; Bound counts what other operations built.
	// Eval sets them afresh for each evaluation.
	Repeat  func(s string, n int) (string, error)              `expr:"repeat"`
	Replace func(s, old, new string, n ...int) (string, error) `expr:"replace"`
	Join    func(list any, glue ...string) (string, error)     `expr:"join"`
	ToJSON  func(v any) (string, error)                        `expr:"toJSON"`
	Concat  func(lists ...any) ([]any, error)                  `expr:"concat"`
	Bound   func(v any) (any, error)                           `expr:"__bound"`

	// Known, when set (dry runs), reports whether a task's outputs are known
	// yet; an expression that reads unknown outputs evaluates to Unknown.
	Known func(Ref) bool `expr:"-"`
}

// HelperNames lists the helper functions runner adds to expr-lang's built-ins.
var HelperNames = []string{"now", "strftime", "glob", "exists", "basename", "dirname", "env_or", "always", "success", "failure"}

// NewScope returns a scope whose helpers resolve relative paths against dir
// and whose now() is always started, so that a whole run agrees on the date.
func NewScope(dir string, started time.Time, environ map[string]string) *Scope {
	return &Scope{
		Vars:     map[string]any{},
		Env:      environ,
		Tasks:    map[string]TaskView{},
		Now:      func() time.Time { return started },
		Strftime: Strftime,
		Glob:     func(pattern string) ([]string, error) { return glob.Match(dir, pattern) },
		Exists: func(p string) bool {
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			_, err := os.Stat(p)
			return err == nil
		},
		Basename: filepath.Base,
		Dirname:  filepath.Dir,
		EnvOr: func(name, fallback string) string {
			if v, ok := environ[name]; ok && v != "" {
				return v
			}
			return fallback
		},
		Always:  func() bool { return true },
		Success: func() bool { return true },
		Failure: func() bool { return false },
	}
}

// EnvironMap turns KEY=VALUE pairs into a map.
func EnvironMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// Strftime formats t with C strftime directives (%Y %m %d %H %M %S %y %j
// %a %A %b %B %e %I %p %Z %z %s %F %T %%). Unknown directives are kept as
// written.
func Strftime(t time.Time, format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		switch format[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			fmt.Fprintf(&b, "%02d", h)
		case 'p':
			b.WriteString(t.Format("PM"))
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case 'b':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'Z':
			b.WriteString(t.Format("MST"))
		case 'z':
			b.WriteString(t.Format("-0700"))
		case 's':
			fmt.Fprintf(&b, "%d", t.Unix())
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}
