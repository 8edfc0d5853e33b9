// Package csvagg sums, counts and averages columns of one or many tables
// by group, streaming, on every core, with exact decimal arithmetic. A value
// it cannot read is an error naming the file, line and column — or, when
// asked, a row skipped and counted — never a silently wrong total.
package csvagg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/internal/datefmt"
	"github.com/novelfactory/runner/internal/decimal"
	"github.com/novelfactory/runner/internal/tabular"
)

// Functions are the aggregate functions.
var Functions = []string{"sum", "count", "avg", "min", "max"}

// Group is one group_by entry: a column, or "name = expression".
type Group struct {
	Name   string
	Column string
	Expr   string
}

// Agg is one aggregate: Fn over Column, written as Out.
type Agg struct {
	Out, Column, Fn string
}

// Spec says what to compute.
type Spec struct {
	Groups []Group
	Aggs   []Agg
	// Where keeps the rows for which it is true (an expr-lang expression).
	Where string
	// Renames maps a source's column name to the name used here.
	Renames map[string]string
	// SkipBadRows counts and skips a row with an unreadable value instead of failing.
	SkipBadRows bool
	// KeepTotals keeps rows that are totals (합계, 총계, 소계, Total) instead of dropping them.
	KeepTotals bool
	// Sort orders the output by these output columns ("-col" descending); by the groups when empty.
	Sort []string
	// Table says how to read the sources.
	Table tabular.Options
}

// Result is the aggregated table.
type Result struct {
	Header []string
	Rows   [][]string
	// RowsIn counts data rows read; Skipped the bad rows skipped; Totals the total rows dropped; Filtered the rows where dropped.
	RowsIn, Skipped, Totals, Filtered int64
	// Formats names each source's format, in order.
	Formats []string
	// FirstSkip describes the first skipped row, for the log.
	FirstSkip string
}

// ParseGroup reads a group_by entry: "column" or "name = expression".
func ParseGroup(s string) Group {
	if name, ex, ok := strings.Cut(s, "="); ok && !strings.ContainsAny(name, "()\"'") && !strings.HasPrefix(strings.TrimSpace(ex), "=") {
		return Group{Name: strings.TrimSpace(name), Expr: strings.TrimSpace(ex)}
	}
	return Group{Name: s, Column: s}
}

// Compile checks a spec's expressions before anything is read.
func Compile(spec Spec) (*Plan, error) {
	p := &Plan{spec: spec}
	if spec.Where != "" {
		prog, err := expr.Compile(spec.Where, exprOptions(true)...)
		if err != nil {
			return nil, params.At("where", fmt.Errorf("where: %w", err))
		}
		p.where = prog
		names, dynamic := variables(spec.Where)
		p.names, p.dynamic = append(p.names, names...), p.dynamic || dynamic
	}
	for _, g := range spec.Groups {
		var prog *vm.Program
		if g.Expr != "" {
			var err error
			if prog, err = expr.Compile(g.Expr, exprOptions(false)...); err != nil {
				return nil, params.At("group_by", fmt.Errorf("group_by %s: %w", g.Name, err))
			}
			names, dynamic := variables(g.Expr)
			p.names, p.dynamic = append(p.names, names...), p.dynamic || dynamic
		}
		p.groupProgs = append(p.groupProgs, prog)
	}
	out := map[string]bool{}
	for _, g := range spec.Groups {
		if out[g.Name] {
			return nil, params.At("group_by", fmt.Errorf("group_by: %s twice", tabular.Quote(g.Name)))
		}
		out[g.Name] = true
	}
	for _, a := range spec.Aggs {
		if !contains(Functions, a.Fn) {
			return nil, params.At("aggregate", fmt.Errorf("aggregate %s: unknown function %s; use %s", a.Column, tabular.Quote(a.Fn), strings.Join(Functions, ", ")))
		}
		// The output would have two columns of one name (group_by: [금액]
		// with aggregate: {금액: count}), and sort: could not tell them apart.
		if out[a.Out] {
			return nil, params.At("aggregate", fmt.Errorf("aggregate %s: the output would have two columns named %s: give the group another name (\"%s 값 = %s\")", a.Column, tabular.Quote(a.Out), a.Out, a.Column))
		}
		out[a.Out] = true
	}
	return p, nil
}

// Plan is a compiled spec.
type Plan struct {
	spec       Spec
	where      *vm.Program
	groupProgs []*vm.Program
	// names are the column names the expressions read, checked against each source's header.
	names []string
	// dynamic says an expression reads row other than as row["name"]: every column is given.
	dynamic bool
}

// variables lists the names an expression reads as variables (not the
// functions it calls), and says whether it reads row other than as
// row["a name"] (row[x], len(row)), so that it needs every column.
func variables(code string) ([]string, bool) {
	tree, err := parser.Parse(code)
	if err != nil {
		return nil, true
	}
	// Walk visits children first, so the functions called are found in a
	// first pass and left out in the second.
	v := &varVisitor{calls: map[ast.Node]bool{}}
	ast.Walk(&tree.Node, v)
	v.collect = true
	ast.Walk(&tree.Node, v)
	return v.names, v.rows > v.static
}

type varVisitor struct {
	collect bool
	names   []string
	calls   map[ast.Node]bool
	// rows counts the uses of row; static those of them as row["name"].
	rows, static int
}

func (v *varVisitor) Visit(node *ast.Node) {
	if !v.collect {
		if n, ok := (*node).(*ast.CallNode); ok {
			v.calls[n.Callee] = true
		}
		return
	}
	switch n := (*node).(type) {
	case *ast.MemberNode: // row["판매 금액"]
		if id, ok := n.Node.(*ast.IdentifierNode); ok && id.Value == "row" {
			if key, ok := n.Property.(*ast.StringNode); ok {
				v.names = append(v.names, key.Value)
				v.static++
			}
		}
	case *ast.IdentifierNode:
		switch {
		case n.Value == "row":
			v.rows++
		case !v.calls[n]:
			v.names = append(v.names, n.Value)
		}
	}
}

// exprOptions: rows are maps of column name to text; helpers read numbers
// and dates as people write them.
func exprOptions(boolean bool) []expr.Option {
	opts := []expr.Option{
		expr.AllowUndefinedVariables(),
		expr.Function("num", func(params ...any) (any, error) {
			s := fmt.Sprint(params[0])
			d, ok, err := decimal.Parse(s)
			if err != nil {
				return 0.0, fmt.Errorf("num: %s %w", tabular.Quote(s), err)
			}
			if !ok {
				return 0.0, nil
			}
			return d.Float(), nil
		}, new(func(string) float64)),
		expr.Function("date", func(params ...any) (any, error) {
			iso, _ := datefmt.Normalize(fmt.Sprint(params[0]))
			return iso, nil
		}, new(func(string) string)),
		expr.Function("month", func(params ...any) (any, error) {
			iso, ok := datefmt.Normalize(fmt.Sprint(params[0]))
			if !ok {
				return "", nil
			}
			return iso[:7], nil
		}, new(func(string) string)),
		expr.Function("year", func(params ...any) (any, error) {
			iso, ok := datefmt.Normalize(fmt.Sprint(params[0]))
			if !ok {
				return "", nil
			}
			return iso[:4], nil
		}, new(func(string) string)),
	}
	if boolean {
		opts = append(opts, expr.AsBool())
	}
	return opts
}

// totalWords mark a row as a total row when its first non-empty cell is one.
var totalWords = []string{"합계", "총계", "소계", "총합계", "total", "sum", "grand total", "subtotal"}

var totalWordBytes = func() [][]byte {
	out := make([][]byte, len(totalWords))
	for i, w := range totalWords {
		out[i] = []byte(w)
	}
	return out
}()

// state is one group's running aggregates.
type state struct {
	key   []string
	sums  []decimal.Dec
	count []int64
	min   []decimal.Dec
	max   []decimal.Dec
	seen  []bool
}

// worker holds what one goroutine aggregates.
type worker struct {
	groups   map[string]*state
	keyBuf   []byte
	dec      tabular.Decoder
	skipped  int64
	totals   int64
	filtered int64
	rowsIn   int64
	first    string
}

// Run aggregates the sources into a Result.
func (p *Plan) Run(ctx context.Context, sources []string) (*Result, error) {
	workers := runtime.GOMAXPROCS(0)
	ws := make([]*worker, workers)
	for i := range ws {
		ws[i] = &worker{groups: map[string]*state{}}
	}
	res := &Result{}
	for _, src := range sources {
		if err := p.runSource(ctx, src, ws, res); err != nil {
			return nil, err
		}
	}
	// Merge the workers' groups.
	merged := ws[0].groups
	for _, w := range ws[1:] {
		for k, s := range w.groups {
			m, ok := merged[k]
			if !ok {
				merged[k] = s
				continue
			}
			if err := m.merge(s); err != nil {
				return nil, err
			}
		}
	}
	for _, w := range ws {
		res.RowsIn += w.rowsIn
		res.Skipped += w.skipped
		res.Totals += w.totals
		res.Filtered += w.filtered
		if res.FirstSkip == "" {
			res.FirstSkip = w.first
		}
	}
	p.table(merged, res)
	return res, p.sortRows(res)
}

// columns are where a source's needed columns are.
type columns struct {
	group  []int // -1 for expressions
	agg    []int
	where  bool
	names  []string
	needed int // the highest column index a row must have
	// vars are the columns the expressions read, by the names they use.
	vars []exprVar
}

type exprVar struct {
	name string
	col  int
}

func (p *Plan) resolve(t tabular.Table) (*columns, error) {
	src := t.HeaderAt().File
	renames := p.spec.Renames
	if renames == nil {
		renames = map[string]string{}
	}
	cols := tabular.NewColumns(t.Header(), t.HeaderAt(), renames)
	c := &columns{names: cols.Names(), where: p.where != nil}
	find := func(name, what string) (int, error) {
		i, err := cols.Find(name, what)
		switch {
		case err != nil:
			return 0, err
		case i < 0:
			return 0, fmt.Errorf("%s: no column %s for %s; the columns are: %s", src, tabular.Quote(name), what, cols.List())
		}
		c.needed = max(c.needed, i)
		return i, nil
	}
	for i, g := range p.spec.Groups {
		if p.groupProgs[i] != nil {
			c.group = append(c.group, -1)
			continue
		}
		idx, err := find(g.Column, "group_by")
		if err != nil {
			return nil, err
		}
		c.group = append(c.group, idx)
	}
	// A misspelt column in an expression would read as nil and filter or
	// group silently wrong: every name must be a column.
	seen := map[string]bool{}
	for _, name := range p.names {
		i, err := cols.Find(name, "where or group_by")
		switch {
		case err != nil:
			return nil, err
		case i < 0:
			return nil, fmt.Errorf("%s: no column %s for an expression (where or group_by); the columns are: %s; use row[\"name\"] for names with spaces", src, tabular.Quote(name), cols.List())
		}
		if !seen[name] {
			seen[name] = true
			c.vars = append(c.vars, exprVar{name, i})
		}
	}
	if p.dynamic { // row[x]: every column, each by a name that picks it alone
		for i, key := range cols.Keys() {
			if !seen[key] {
				c.vars = append(c.vars, exprVar{key, i})
			}
		}
	}
	for _, a := range p.spec.Aggs {
		if a.Fn == "count" && a.Column == "*" {
			c.agg = append(c.agg, -1)
			continue
		}
		idx, err := find(a.Column, "aggregate")
		if err != nil {
			return nil, err
		}
		c.agg = append(c.agg, idx)
	}
	return c, nil
}

// badRow is an unreadable value: an error, or a counted skip.
type badRow struct{ msg string }

func (e *badRow) Error() string { return e.msg }

func (p *Plan) runSource(ctx context.Context, src string, ws []*worker, res *Result) error {
	t, err := tabular.Open(src, p.spec.Table)
	if err != nil {
		return err
	}
	defer t.Close()
	res.Formats = append(res.Formats, t.Format())
	cols, err := p.resolve(t)
	if err != nil {
		return err
	}
	cp949 := t.CP949()
	vms := make([]vm.VM, len(ws)) // one expression VM per worker
	return t.Rows(ctx, len(ws), func(wi int, fields [][]byte, at tabular.Pos) error {
		w := ws[wi]
		w.rowsIn++
		err := p.row(w, &vms[wi], cols, fields, cp949)
		if err == nil {
			return nil
		}
		var bad *badRow
		if errors.As(err, &bad) {
			msg := fmt.Sprintf("%s: %s", at, bad.msg)
			if p.spec.SkipBadRows {
				w.skipped++
				if w.first == "" {
					w.first = msg
				}
				return nil
			}
			return errors.New(msg + " (on_bad_row: skip counts and skips such rows)")
		}
		return fmt.Errorf("%s: %w", at, err)
	})
}

// row aggregates one data row.
func (p *Plan) row(w *worker, machine *vm.VM, c *columns, fields [][]byte, cp949 bool) error {
	if len(fields) <= c.needed {
		return &badRow{msg: fmt.Sprintf("the row has %d columns, the header %d", len(fields), len(c.names))}
	}
	// More values than columns: an amount written 1,234 without quotes
	// splits in two, and the first part would be summed. Empty values
	// after the last column (a trailing delimiter) are harmless.
	for i := len(c.names); i < len(fields); i++ {
		if len(bytes.TrimSpace(fields[i])) > 0 {
			return &badRow{msg: fmt.Sprintf("the row has %d columns, the header %d: a value with a delimiter not in quotes (1,234 written without quotes is two values)?", len(fields), len(c.names))}
		}
	}
	if !p.spec.KeepTotals {
		total, err := isTotalRow(fields, &w.dec, cp949)
		if err != nil {
			return err
		}
		if total {
			w.totals++
			return nil
		}
	}
	var env map[string]any
	if c.where || hasExpr(c.group) {
		env = make(map[string]any, len(c.vars)+1)
		row := make(map[string]any, len(c.vars))
		for _, x := range c.vars {
			v := ""
			if x.col < len(fields) {
				b := w.dec.Decode(tabular.Unwrap(fields[x.col]), cp949)
				if err := checkText(b, x.col, c); err != nil {
					return err
				}
				v = string(b)
			}
			env[x.name] = v
			row[x.name] = v
		}
		env["row"] = row
	}
	if c.where {
		out, err := machine.Run(p.where, env)
		if err != nil {
			return fmt.Errorf("where: %s", tabular.Cut(err.Error()))
		}
		if keep, _ := out.(bool); !keep {
			w.filtered++
			return nil
		}
	}
	// The group key: each value normalised (dates to YYYY-MM-DD), joined by NUL.
	w.keyBuf = w.keyBuf[:0]
	for i, idx := range c.group {
		if i > 0 {
			w.keyBuf = append(w.keyBuf, 0)
		}
		if idx < 0 {
			out, err := machine.Run(p.groupProgs[i], env)
			if err != nil {
				return fmt.Errorf("group_by %s: %s", p.spec.Groups[i].Name, tabular.Cut(err.Error()))
			}
			w.keyBuf = append(w.keyBuf, fmt.Sprint(out)...)
			continue
		}
		v := w.dec.Decode(tabular.Unwrap(fields[idx]), cp949)
		if err := checkText(v, idx, c); err != nil {
			return err
		}
		if iso, ok := normalizeDate(v); ok {
			w.keyBuf = append(w.keyBuf, iso[:]...)
		} else {
			w.keyBuf = append(w.keyBuf, v...)
		}
	}
	g, ok := w.groups[string(w.keyBuf)]
	if !ok {
		n := len(p.spec.Aggs)
		g = &state{sums: make([]decimal.Dec, n), count: make([]int64, n), min: make([]decimal.Dec, n), max: make([]decimal.Dec, n), seen: make([]bool, n)}
		g.key = strings.Split(string(w.keyBuf), "\x00")
		if len(c.group) == 0 {
			g.key = nil
		}
		w.groups[string(w.keyBuf)] = g
	}
	// Parse every value before changing the group, so a bad row leaves no trace.
	var vals [8]decimal.Dec
	var present [8]bool
	values, has := vals[:0], present[:0]
	for i, a := range p.spec.Aggs {
		idx := c.agg[i]
		if idx < 0 {
			values, has = append(values, decimal.Dec{}), append(has, true)
			continue
		}
		raw := tabular.Unwrap(fields[idx])
		d, okv, err := decimal.ParseBytes(raw)
		if err != nil && cp949 {
			raw = w.dec.Decode(raw, cp949) // "￦1,000", "1,000원" in CP949
			d, okv, err = decimal.ParseBytes(raw)
		}
		if err != nil && a.Fn != "count" {
			return &badRow{msg: fmt.Sprintf("column %d (%s): %s %v", idx+1, tabular.Name(c.names[idx]), tabular.QuoteBytes(raw), err)}
		}
		values, has = append(values, d), append(has, okv || (a.Fn == "count" && len(raw) > 0))
	}
	for i, a := range p.spec.Aggs {
		if !has[i] {
			continue
		}
		g.count[i]++
		switch a.Fn {
		case "sum", "avg":
			s, err := g.sums[i].Add(values[i])
			if err != nil {
				return fmt.Errorf("column %s: %w", a.Column, err)
			}
			g.sums[i] = s
		case "min":
			if !g.seen[i] || values[i].Cmp(g.min[i]) < 0 {
				g.min[i] = values[i]
			}
		case "max":
			if !g.seen[i] || values[i].Cmp(g.max[i]) > 0 {
				g.max[i] = values[i]
			}
		}
		g.seen[i] = true
	}
	return nil
}

func hasExpr(group []int) bool {
	for _, i := range group {
		if i < 0 {
			return true
		}
	}
	return false
}

// normalizeDate gives a date value as YYYY-MM-DD without allocating.
func normalizeDate(v []byte) ([10]byte, bool) {
	var out [10]byte
	if len(v) < 8 || v[0] < '1' || v[0] > '2' {
		return out, false
	}
	return datefmt.ISO(v)
}

// checkText refuses a value read as text that cannot be: bytes that are
// not UTF-8 (a CP949 export whose first 64 KiB are plain ASCII, or
// encoding: utf-8 on a CP949 file: the groups would be mojibake) or a
// NUL (it would end a group's key early: rows of other groups merged).
func checkText(v []byte, col int, c *columns) error {
	switch {
	case bytes.IndexByte(v, 0) >= 0:
		return &badRow{msg: fmt.Sprintf("column %d (%s): %s holds a NUL byte: is the file a table of text?", col+1, tabular.Name(c.names[col]), tabular.QuoteBytes(v))}
	case !utf8.Valid(v):
		return &badRow{msg: fmt.Sprintf("column %d (%s): %s is not UTF-8 text; the file is read as UTF-8 (by its first 64 KiB, or encoding: utf-8): set encoding: cp949 for a CP949 (EUC-KR) export", col+1, tabular.Name(c.names[col]), tabular.QuoteBytes(v))}
	}
	return nil
}

// isTotalRow says whether a row's first non-empty cell is a total word.
// A cell that is not UTF-8 in a file read as UTF-8 but that reads as a
// total word in CP949 is an error: the file is CP949 read wrong, and the
// total would be summed as a group.
func isTotalRow(fields [][]byte, dec *tabular.Decoder, cp949 bool) (bool, error) {
	for i, f := range fields {
		v := dec.Decode(tabular.Unwrap(f), cp949)
		if len(v) == 0 {
			continue
		}
		if len(v) > 16 {
			return false, nil
		}
		if !cp949 && !utf8.Valid(v) {
			if word := dec.Decode(v, true); isTotalWord(word) {
				return false, &badRow{msg: fmt.Sprintf("column %d: %s is %s (a total row) in CP949, but the file is read as UTF-8 (by its first 64 KiB, or encoding: utf-8): set encoding: cp949", i+1, tabular.QuoteBytes(v), word)}
			}
			return false, nil
		}
		return isTotalWord(v), nil
	}
	return false, nil
}

func isTotalWord(v []byte) bool {
	for _, w := range totalWordBytes {
		if len(w) == len(v) && bytes.EqualFold(v, w) {
			return true
		}
	}
	return false
}

func (s *state) merge(o *state) error {
	for i := range s.sums {
		if !o.seen[i] && o.count[i] == 0 {
			continue
		}
		sum, err := s.sums[i].Add(o.sums[i])
		if err != nil {
			return err
		}
		s.sums[i] = sum
		s.count[i] += o.count[i]
		if o.seen[i] && (!s.seen[i] || o.min[i].Cmp(s.min[i]) < 0) {
			s.min[i] = o.min[i]
		}
		if o.seen[i] && (!s.seen[i] || o.max[i].Cmp(s.max[i]) > 0) {
			s.max[i] = o.max[i]
		}
		s.seen[i] = s.seen[i] || o.seen[i]
	}
	return nil
}

// table writes the merged groups as rows of text.
func (p *Plan) table(groups map[string]*state, res *Result) {
	for _, g := range p.spec.Groups {
		res.Header = append(res.Header, g.Name)
	}
	for _, a := range p.spec.Aggs {
		res.Header = append(res.Header, a.Out)
	}
	for _, g := range groups {
		row := append([]string{}, g.key...)
		for i, a := range p.spec.Aggs {
			var v string
			switch a.Fn {
			case "sum":
				v = g.sums[i].String()
			case "count":
				v = strconv.FormatInt(g.count[i], 10)
			case "avg":
				if g.count[i] > 0 {
					v = g.sums[i].Div(g.count[i], max(g.sums[i].Scale, 2)).String()
				}
			case "min":
				if g.seen[i] {
					v = g.min[i].String()
				}
			case "max":
				if g.seen[i] {
					v = g.max[i].String()
				}
			}
			row = append(row, v)
		}
		res.Rows = append(res.Rows, row)
	}
}

// sortRows orders the rows by spec.Sort, else by the group columns; numbers
// compare as numbers.
func (p *Plan) sortRows(res *Result) error {
	type key struct {
		col  int
		desc bool
	}
	var keys []key
	if len(p.spec.Sort) == 0 {
		for i := range p.spec.Groups {
			keys = append(keys, key{col: i})
		}
	}
	for _, s := range p.spec.Sort {
		desc := strings.HasPrefix(s, "-")
		name := strings.TrimPrefix(s, "-")
		col := -1
		for i, h := range res.Header {
			if h == name {
				col = i
			}
		}
		if col < 0 {
			return fmt.Errorf("sort: no output column %s; the columns are: %s", tabular.Quote(name), tabular.ListNames(res.Header))
		}
		keys = append(keys, key{col, desc})
	}
	sort.SliceStable(res.Rows, func(i, j int) bool {
		for _, k := range keys {
			a, b := res.Rows[i][k.col], res.Rows[j][k.col]
			c := compareValues(a, b)
			if c == 0 {
				continue
			}
			if k.desc {
				return c > 0
			}
			return c < 0
		}
		return false
	})
	return nil
}

func compareValues(a, b string) int {
	da, okA, errA := decimal.Parse(a)
	db, okB, errB := decimal.Parse(b)
	if errA == nil && errB == nil && okA && okB {
		return da.Cmp(db)
	}
	return strings.Compare(a, b)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
