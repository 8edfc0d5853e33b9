package cron

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is a problem with a cron expression: the field it is in and the
// byte offset inside the expression where it starts.
type Error struct {
	Field string // "minute", "hour", "day-of-month", "month", "day-of-week"; "" for the whole expression
	Col   int    // 0-based byte offset in the expression
	Msg   string // what is wrong and what is accepted
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// Expr is a parsed cron expression.
type Expr struct {
	spec   string
	minute uint64 // bit n: minute n
	hour   uint64
	dom    uint64 // bits 1-31
	month  uint64 // bits 1-12
	dow    uint64 // bits 0-6, Sunday = 0
	// domStar and dowStar say the day fields start with `*`: then a day
	// must match both, else (both restricted) either, as Vixie cron.
	domStar, dowStar bool
	// hourStar says the hour field starts with `*`: the expression
	// follows elapsed time through a repeated (fall-back) hour.
	hourStar bool
}

// String returns the expression as written.
func (e *Expr) String() string { return e.spec }

// field describes one of the five fields.
type field struct {
	name     string
	min, max int
	names    []string // names of min, min+1, …; nil when the field has none
	accepts  string   // the values it takes, for messages
}

var (
	monthNames = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
	dayNames   = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}
	fields     = [5]field{
		{"minute", 0, 59, nil, "0-59"},
		{"hour", 0, 23, nil, "0-23"},
		{"day-of-month", 1, 31, nil, "1-31"},
		{"month", 1, 12, monthNames, "1-12 (or JAN-DEC)"},
		{"day-of-week", 0, 7, dayNames, "0-7 (or SUN-SAT)"},
	}
)

// Macros are the @ names Parse accepts, and what each stands for.
var Macros = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

const fieldList = "minute hour day-of-month month day-of-week"

// Parse reads a five-field cron expression (minute hour day-of-month month
// day-of-week) or one of the macros @hourly, @daily, @weekly, @monthly,
// @yearly. Each field is `*` or a comma-separated list of values (`5`),
// ranges (`1-5`) and steps (`*/15`, `0-30/10`, `10/15` for 10-59/15).
// Months and days of the week may be named (JAN-DEC, SUN-SAT, any case);
// 7 is Sunday, like 0. Errors are *Error.
func Parse(spec string) (*Expr, error) {
	trimmed := strings.TrimSpace(spec)
	lead := strings.Index(spec, trimmed)
	if trimmed == "" {
		return nil, &Error{Msg: "the cron expression is empty: give five fields (" + fieldList + "), e.g. \"0 4 * * 0\", or @hourly, @daily, @weekly, @monthly, @yearly"}
	}
	if strings.HasPrefix(trimmed, "@") {
		word := strings.Fields(trimmed)[0]
		body, ok := Macros[strings.ToLower(word)]
		switch {
		case strings.EqualFold(word, "@reboot"):
			return nil, &Error{Col: lead, Msg: "@reboot is not a schedule: runner fires on times only; use @hourly, @daily, @weekly, @monthly, @yearly or five fields"}
		case strings.HasPrefix(strings.ToLower(word), "@every"):
			return nil, &Error{Col: lead, Msg: word + " is not supported: write the interval as five fields (\"*/15 * * * *\" for every 15 minutes)"}
		case !ok:
			return nil, &Error{Col: lead, Msg: fmt.Sprintf("unknown macro %q: use @hourly, @daily, @weekly, @monthly or @yearly, or five fields (%s)", word, fieldList)}
		case len(word) != len(trimmed):
			return nil, &Error{Col: lead + len(word), Msg: word + " takes nothing after it"}
		}
		e, err := parseFields(body)
		if err != nil {
			panic("cron: bad macro " + word) // a programming error any test catches
		}
		e.spec = spec
		return e, nil
	}
	if k, _, ok := strings.Cut(trimmed, "="); ok && !strings.ContainsFunc(k, unicode.IsSpace) {
		return nil, &Error{Col: lead, Msg: fmt.Sprintf("%s= is not part of a cron expression here: set the zone with the schedule's timezone: key", k)}
	}
	e, err := parseFields(spec)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// token is one whitespace-separated word of an expression.
type token struct {
	text string
	col  int
}

// splitFields splits spec at white space: spaces and tabs, and also the
// line ends a YAML block scalar (`cron: |`) leaves and Unicode spaces (a
// no-break space pasted from a web page), as strings.Fields and the
// schema's \s do.
func splitFields(spec string) []token {
	var toks []token
	start := -1
	for i := 0; i <= len(spec); {
		r, size := utf8.RuneError, 1
		if i < len(spec) {
			r, size = utf8.DecodeRuneInString(spec[i:])
		}
		if i == len(spec) || unicode.IsSpace(r) {
			if start >= 0 {
				toks = append(toks, token{spec[start:i], start})
				start = -1
			}
			i += size
			continue
		}
		if start < 0 {
			start = i
		}
		i += size
	}
	return toks
}

func parseFields(spec string) (*Expr, error) {
	toks := splitFields(spec)
	if len(toks) != 5 {
		col := len(strings.TrimRightFunc(spec, unicode.IsSpace))
		msg := fmt.Sprintf("expected 5 fields (%s), got %d", fieldList, len(toks))
		if len(toks) > 5 {
			col = toks[5].col
			msg += ": runner's cron has no seconds or year field"
		} else if len(toks) > 0 {
			msg += fmt.Sprintf("; %s is missing", fields[len(toks)].name)
		}
		return nil, &Error{Col: col, Msg: msg}
	}
	e := &Expr{spec: spec}
	sets := [5]*uint64{&e.minute, &e.hour, &e.dom, &e.month, &e.dow}
	for i, tok := range toks {
		bits, err := fields[i].parse(tok)
		if err != nil {
			return nil, err
		}
		*sets[i] = bits
	}
	if e.dow&(1<<7) != 0 {
		e.dow = e.dow&^(1<<7) | 1 // 7 is Sunday
	}
	e.hourStar = toks[1].text[0] == '*'
	e.domStar = toks[2].text[0] == '*'
	e.dowStar = toks[4].text[0] == '*'
	if err := e.checkReachable(toks[2]); err != nil {
		return nil, err
	}
	return e, nil
}

// daysIn is the most days each month can have.
var daysIn = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// checkReachable refuses a day of the month that no month of the
// expression has (`0 0 30 2 *`): it would never fire.
func (e *Expr) checkReachable(dom token) error {
	if e.domStar || !e.dowStar {
		return nil // the day of the week can match on its own
	}
	for m := 1; m <= 12; m++ {
		if e.month&(1<<m) != 0 && e.dom&(1<<(daysIn[m]+1)-1) != 0 {
			return nil
		}
	}
	var months []string
	for m := 1; m <= 12; m++ {
		if e.month&(1<<m) != 0 {
			months = append(months, monthLong[m-1])
		}
	}
	return &Error{Field: "day-of-month", Col: dom.col, Msg: fmt.Sprintf("%s never occurs in %s: the expression would never fire", dom.text, joinAnd(months))}
}

// parse reads one field into a bit set.
func (f *field) parse(tok token) (uint64, error) {
	var bits uint64
	col := tok.col
	for _, item := range strings.Split(tok.text, ",") {
		b, err := f.item(item, col)
		if err != nil {
			return 0, err
		}
		bits |= b
		col += len(item) + 1
	}
	return bits, nil
}

// item reads one element of a list: *, N, N-M, with an optional /STEP.
func (f *field) item(item string, col int) (uint64, error) {
	if item == "" {
		return 0, &Error{Field: f.name, Col: col, Msg: "empty list item: write values separated by single commas, without spaces"}
	}
	rng, stepText, hasStep := strings.Cut(item, "/")
	lo, hi := f.min, f.max
	if f.name == "day-of-week" {
		hi = 6 // `*` is Sunday to Saturday once
	}
	switch {
	case rng == "*":
	case rng == "?":
		return 0, &Error{Field: f.name, Col: col, Msg: "? is not supported: write * (as Vixie cron; runner has no Quartz syntax)"}
	default:
		a, b, isRange := strings.Cut(rng, "-")
		var err error
		if lo, err = f.value(a, col); err != nil {
			return 0, err
		}
		hi = lo
		if isRange {
			if hi, err = f.value(b, col+len(a)+1); err != nil {
				return 0, err
			}
			if hi < lo {
				return 0, &Error{Field: f.name, Col: col, Msg: fmt.Sprintf("range %s runs backwards: write the smaller value first (%s takes %s)", rng, f.name, f.accepts)}
			}
		} else if hasStep {
			hi = f.max // 10/15: from 10 to the end, every 15
			if f.name == "day-of-week" {
				hi = 6
			}
		}
	}
	step := 1
	if hasStep {
		scol := col + len(rng) + 1
		n, err := strconv.Atoi(stepText)
		if err != nil || stepText == "" || stepText[0] == '+' || stepText[0] == '-' {
			return 0, &Error{Field: f.name, Col: scol, Msg: fmt.Sprintf("step %q is not a whole number: write */N or A-B/N", stepText)}
		}
		if n < 1 || n > f.max-f.min+1 {
			return 0, &Error{Field: f.name, Col: scol, Msg: fmt.Sprintf("step %d is out of range 1-%d", n, f.max-f.min+1)}
		}
		step = n
	}
	var bits uint64
	for v := lo; v <= hi; v += step {
		bits |= 1 << v
	}
	return bits, nil
}

// value reads one number or name of the field.
func (f *field) value(s string, col int) (int, error) {
	if s == "" {
		return 0, &Error{Field: f.name, Col: col, Msg: fmt.Sprintf("missing value: %s takes %s", f.name, f.accepts)}
	}
	if s[0] >= '0' && s[0] <= '9' {
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, &Error{Field: f.name, Col: col, Msg: fmt.Sprintf("%q is not a number: %s takes %s", s, f.name, f.accepts)}
		}
		if n < f.min || n > f.max {
			return 0, &Error{Field: f.name, Col: col, Msg: fmt.Sprintf("%d is out of range %s", n, f.accepts)}
		}
		return n, nil
	}
	for i, name := range f.names {
		if strings.EqualFold(s, name) {
			return f.min + i, nil
		}
	}
	msg := fmt.Sprintf("%q is not a number: %s takes %s", s, f.name, f.accepts)
	if f.names != nil {
		msg = fmt.Sprintf("%q is not a value of %s: it takes %s", s, f.name, f.accepts)
	}
	return 0, &Error{Field: f.name, Col: col, Msg: msg}
}
