package diag

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/novelfactory/runner/internal/quote"
)

// Diagnostic is one problem found at a place in a file.
type Diagnostic struct {
	File string // path as the user gave it
	Line int    // 1-based; 0 when unknown
	Col  int    // 1-based; 0 when unknown
	Msg  string
}

// Error formats the diagnostic as "file:line:col: message".
func (d Diagnostic) Error() string {
	switch {
	case d.Line > 0 && d.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", d.File, d.Line, d.Col, d.Msg)
	case d.Line > 0:
		return fmt.Sprintf("%s:%d: %s", d.File, d.Line, d.Msg)
	case d.File != "":
		return fmt.Sprintf("%s: %s", d.File, d.Msg)
	}
	return d.Msg
}

// List collects every problem of a file, so that a user sees them all at once.
type List []Diagnostic

// Add appends a diagnostic built from a position and a formatted message.
// A text or an error argument longer than maxArgRunes is cut (see
// internal/quote): a message names a 10 MB value, it does not repeat it.
func (l *List) Add(file string, line, col int, format string, args ...any) {
	for i, a := range args {
		switch x := a.(type) {
		case string:
			if len(x) > maxArgRunes && utf8.RuneCountInString(x) > maxArgRunes {
				args[i] = quote.Cut(x)
			}
		case error:
			if msg := x.Error(); len(msg) > quote.MaxMessageRunes {
				args[i] = quote.Message(msg)
			}
		}
	}
	*l = append(*l, Diagnostic{File: file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

// maxArgRunes is the longest text argument Add shows whole: enough for a
// long path or a list of twenty names.
const maxArgRunes = 1000

// Sort orders diagnostics by file, then position, and drops exact repeats.
func (l *List) Sort() {
	s := *l
	sort.SliceStable(s, func(i, j int) bool {
		if s[i].File != s[j].File {
			return s[i].File < s[j].File
		}
		if s[i].Line != s[j].Line {
			return s[i].Line < s[j].Line
		}
		return s[i].Col < s[j].Col
	})
	out := s[:0]
	for i, d := range s {
		if i > 0 && d == s[i-1] {
			continue
		}
		out = append(out, d)
	}
	*l = out
}

// Err returns the list as an error, or nil when it is empty.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Error joins all diagnostics, one per line.
func (l List) Error() string {
	lines := make([]string, len(l))
	for i, d := range l {
		lines[i] = d.Error()
	}
	return strings.Join(lines, "\n")
}

// Suggest returns the candidate closest to word when it is close enough to be
// a likely typo ("did you mean ...?"), or "" when none is.
func Suggest(word string, candidates []string) string {
	n := utf8.RuneCountInString(word)
	if n > maxSuggestLen {
		return "" // not a typo of a name
	}
	// Allow about one edit per three letters: "shel" finds "shell", "zz" finds nothing.
	best, bestDist := "", max(1, (n+1)/3)+1
	for _, c := range candidates {
		// Names further apart in length than the best distance so far
		// cannot be closer: skipping them keeps a long candidate from
		// costing its length times the word's.
		if diff := utf8.RuneCountInString(c) - n; diff >= bestDist || -diff >= bestDist {
			continue
		}
		if d := distance(strings.ToLower(word), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// distance is the edit distance between a and b, by rune, counting a swap
// of two neighbours as one edit ("fsat" is one edit from "fast").
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// maxSuggestLen is the longest word a typo is looked for in.
const maxSuggestLen = 200

// maxNames is how many names Names lists.
const maxNames = 20

// Names lists names for a message ("a, b, c"): the first 20, then how many
// more, so that a recipe of a hundred thousand vars does not make every
// message a megabyte.
func Names(names []string) string {
	if len(names) <= maxNames {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s … and %d more", strings.Join(names[:maxNames], ", "), len(names)-maxNames)
}

// DidYouMean formats a suggestion as a message suffix, or "" when there is none.
func DidYouMean(word string, candidates []string) string {
	if s := Suggest(word, candidates); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}
