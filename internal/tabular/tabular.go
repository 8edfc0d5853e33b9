// Package tabular reads the tables platform exports come in — CSV in UTF-8,
// UTF-8 with a BOM or CP949, Excel .xlsx, HTML tables saved as .xls, and
// zipped CSVs — choosing the format by content, not by extension. Large CSV
// files are read in chunks on every core, with memory that does not grow
// with the file.
package tabular

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/korean"

	"github.com/novelfactory/runner/internal/regfile"
)

// Options say how to read a table.
type Options struct {
	// Encoding is auto (UTF-8, UTF-8 with BOM or CP949, by content), utf-8 or cp949.
	Encoding string
	// Delimiter is the CSV field separator; 0 chooses among , tab ; | by the header line.
	Delimiter byte
	// HeaderRow is the 1-based row holding the column names; rows above it are ignored.
	HeaderRow int
	// SkipRows rows after the header are ignored (units, a second header line).
	SkipRows int
	// Sheet is the xlsx sheet to read; the first when empty.
	Sheet string
}

// Pos is where a row is: its file (for an entry of a zip, the zip's path
// and the entry's name: "sales.zip/day1.csv") and its 1-based line (CSV)
// or row number (spreadsheets, HTML).
type Pos struct {
	File string
	Line int
}

// String writes the position as file:line.
func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// RowFunc receives one data row. worker tells concurrent calls apart (each
// worker's calls are sequential); fields are valid only during the call;
// at is where the row is.
type RowFunc func(worker int, fields [][]byte, at Pos) error

// Table is an opened source.
type Table interface {
	// Header is the column names, in UTF-8.
	Header() []string
	// HeaderAt is where the header row is.
	HeaderAt() Pos
	// Format names what was read: "csv (UTF-8)", "csv (CP949)", "xlsx", "html", "zip/…".
	Format() string
	// CP949 says whether the fields given to RowFunc are CP949 bytes (decode them with Decode).
	CP949() bool
	// Rows calls fn for every data row, on up to workers goroutines.
	Rows(ctx context.Context, workers int, fn RowFunc) error
	// Close releases the file.
	Close() error
}

// Open opens a table file, choosing its format by content.
func Open(path string, opt Options) (Table, error) {
	if opt.HeaderRow <= 0 {
		opt.HeaderRow = 1
	}
	f, err := regfile.Open(path)
	if err != nil {
		return nil, err
	}
	t, err := open(f, path, opt)
	if err != nil {
		f.Close()
		return nil, err
	}
	return t, nil
}

func open(f *os.File, path string, opt Options) (Table, error) {
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("PK\x05\x06")): // an empty zip
		return openZip(f, path, opt)
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		if bytes.Contains(head, []byte("xl/")) || bytes.Contains(head, []byte("[Content_Types].xml")) {
			defer f.Close()
			return openXLSX(f, path, opt)
		}
		return openZip(f, path, opt)
	case bytes.HasPrefix(head, []byte("\xd0\xcf\x11\xe0")):
		return nil, fmt.Errorf("%s is a legacy binary Excel (.xls) workbook: open it and save it as .xlsx or CSV", path)
	case looksLikeHTML(head):
		defer f.Close()
		rest, err := io.ReadAll(f)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		return readHTML(path, append(head, rest...), opt)
	}
	return openCSV(io.MultiReader(bytes.NewReader(head), f), f, path, head, opt, false)
}

// maxQuoted is how many characters of a value a message quotes.
const maxQuoted = 80

// Quote writes a value for a message, quoted as %q does; a value longer
// than 80 characters is cut there, followed by "…" and its length, so
// that a 10 MB field never makes a 10 MB message.
func Quote(s string) string { return quoteStart(s, len(s)) }

// QuoteBytes is Quote for bytes; only the part quoted is copied.
func QuoteBytes(b []byte) string { return quoteStart(string(b[:min(len(b), 4*maxQuoted)]), len(b)) }

// Cut shortens a message made elsewhere (an expression's error, which may
// hold a value) to its first 300 characters, "…" and its length.
func Cut(msg string) string { return cutAt(msg, 300) }

// Excerpt writes a value that is already written as its format writes it
// (JSON text) for a message: as it is, or its first 80 characters, "…"
// and its length.
func Excerpt(s string) string { return cutAt(s, maxQuoted) }

// cutAt cuts s after n characters, adding "…" and its length.
func cutAt(s string, n int) string {
	cut, runes := 0, 0
	for cut < len(s) && runes < n {
		_, size := utf8.DecodeRuneInString(s[cut:])
		cut += size
		runes++
	}
	if cut == len(s) {
		return s
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:cut], len(s))
}

// Name writes a column name for a message: as it is, or quoted as Quote
// quotes when it is long or holds what would be misread (", ", a quote,
// a control character).
func Name(n string) string {
	if q := Quote(n); q != `"`+n+`"` || strings.Contains(n, ", ") || n == "" {
		return q
	}
	return n
}

// quoteStart quotes s, the start of a value of size bytes.
func quoteStart(s string, size int) string {
	cut, runes := 0, 0
	for cut < len(s) && runes < maxQuoted {
		_, n := utf8.DecodeRuneInString(s[cut:])
		cut += n
		runes++
	}
	if cut == size {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(s[:cut]), size)
}

func looksLikeHTML(head []byte) bool {
	h := bytes.ToLower(bytes.TrimSpace(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))))
	return bytes.HasPrefix(h, []byte("<!doctype html")) || bytes.HasPrefix(h, []byte("<html")) ||
		bytes.HasPrefix(h, []byte("<table")) || (bytes.HasPrefix(h, []byte("<")) && bytes.Contains(h, []byte("<table")))
}

// checkUTF16 refuses UTF-16 text (Excel's "Unicode text"), which would
// read as a header of one column with NUL bytes between its letters.
func checkUTF16(name string, head []byte) error {
	switch {
	case bytes.HasPrefix(head, []byte("\xff\xfe")) || bytes.HasPrefix(head, []byte("\xfe\xff")):
		return fmt.Errorf("%s is UTF-16 text (Excel's \"Unicode text\"): save it as CSV UTF-8 (or CSV)", name)
	case len(head) >= 4 && (head[0] == 0 && head[2] == 0 || head[1] == 0 && head[3] == 0):
		return fmt.Errorf("%s has NUL bytes between its first letters: UTF-16 text without a mark? save it as CSV UTF-8 (or CSV)", name)
	}
	return nil
}

// detectEncoding says whether sample is CP949 rather than UTF-8.
func detectEncoding(name string, sample []byte, want string) (cp949 bool, err error) {
	switch strings.ToLower(strings.ReplaceAll(want, "-", "")) {
	case "utf8":
		return false, nil
	case "cp949", "euckr", "uhc":
		return true, nil
	case "", "auto":
	default:
		return false, fmt.Errorf("encoding %q: use auto, utf-8 or cp949", want)
	}
	// A sample may end inside a character; judge what comes before.
	trimmed := sample
	for i := 0; i < 3 && len(trimmed) > 0 && !utf8.Valid(trimmed); i++ {
		trimmed = trimmed[:len(trimmed)-1]
	}
	if utf8.Valid(trimmed) {
		return false, nil
	}
	// The decoder replaces what is not CP949 with U+FFFD rather than failing.
	if out, err := korean.EUCKR.NewDecoder().Bytes(trimCP949Tail(sample)); err == nil && !bytes.ContainsRune(out, utf8.RuneError) {
		return true, nil
	}
	return false, fmt.Errorf("%s is neither UTF-8 nor CP949 text", name)
}

// trimCP949Tail drops a lead byte left alone at the end of a sample.
func trimCP949Tail(b []byte) []byte {
	i := len(b)
	for i > 0 && b[i-1] >= 0x81 {
		i--
	}
	if (len(b)-i)%2 == 1 {
		return b[:len(b)-1]
	}
	return b
}

// Decoder turns CP949 fields into UTF-8, reusing its buffers.
type Decoder struct {
	buf []byte
}

// Decode returns field as UTF-8 text; ASCII is returned as it is.
func (d *Decoder) Decode(field []byte, cp949 bool) []byte {
	if !cp949 {
		return field
	}
	ascii := true
	for _, c := range field {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return field
	}
	out, err := korean.EUCKR.NewDecoder().Bytes(field)
	if err != nil {
		return field
	}
	d.buf = append(d.buf[:0], out...)
	return d.buf
}

// Unwrap returns a cell's value without Excel's text wrappers: =T("…") (as
// Ridi's exports write) and ="…".
func Unwrap(field []byte) []byte {
	f := bytes.TrimSpace(field)
	if len(f) >= 6 && f[0] == '=' && (f[1] == 'T' || f[1] == 't') && f[2] == '(' && f[3] == '"' && f[len(f)-2] == '"' && f[len(f)-1] == ')' {
		return f[4 : len(f)-2]
	}
	if len(f) >= 3 && f[0] == '=' && f[1] == '"' && f[len(f)-1] == '"' {
		return f[2 : len(f)-1]
	}
	return f
}

// memTable is a table read whole (xlsx, html): small files.
type memTable struct {
	name       string
	header     []string
	headerLine int
	format     string
	rows       [][]string
	lines      []int
}

func (m *memTable) Header() []string { return m.header }
func (m *memTable) HeaderAt() Pos    { return Pos{m.name, m.headerLine} }
func (m *memTable) Format() string   { return m.format }
func (m *memTable) CP949() bool      { return false }
func (m *memTable) Close() error     { return nil }

func (m *memTable) Rows(ctx context.Context, _ int, fn RowFunc) error {
	var fields [][]byte
	for i, row := range m.rows {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		fields = fields[:0]
		for _, c := range row {
			fields = append(fields, []byte(c))
		}
		if err := fn(0, fields, Pos{m.name, m.lines[i]}); err != nil {
			return err
		}
	}
	return nil
}

// fromRows makes a table of rows read whole: the header at opt.HeaderRow,
// opt.SkipRows rows after it ignored, blank rows dropped.
// lines gives each row's line in the file (nil: its position).
func fromRows(name, format string, rows [][]string, lines []int, opt Options) (*memTable, error) {
	if len(rows) < opt.HeaderRow {
		return nil, fmt.Errorf("%s: no header row %d (the table has %d rows)", name, opt.HeaderRow, len(rows))
	}
	t := &memTable{name: name, format: format, headerLine: opt.HeaderRow}
	if lines != nil {
		t.headerLine = lines[opt.HeaderRow-1]
	}
	for _, h := range rows[opt.HeaderRow-1] {
		t.header = append(t.header, strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
	}
	for i := opt.HeaderRow + opt.SkipRows; i < len(rows); i++ {
		blank := true
		for _, c := range rows[i] {
			if strings.TrimSpace(c) != "" {
				blank = false
				break
			}
		}
		if !blank {
			t.rows = append(t.rows, rows[i])
			if lines != nil {
				t.lines = append(t.lines, lines[i])
			} else {
				t.lines = append(t.lines, i+1)
			}
		}
	}
	return t, nil
}

// Columns looks the columns of a table up by name. A name the header
// holds more than once is ambiguous: using it alone is an error, and
// "name#N" picks the Nth column of that name ("금액#2": the second 금액).
type Columns struct {
	at      Pos
	renames bool     // the caller renames columns (csvsum's columns:)
	names   []string // each column's name, renamed
	orig    []string // each column's name in the header
	// first is each name's first column; more lists every column of the
	// names several columns share (a header of a million columns takes
	// one map, not one slice per name).
	first map[string]int
	more  map[string][]int
}

// NewColumns indexes a header read at at. renames maps a header name to
// the name it goes by ({판매일: date}); a key "name#N" renames the Nth
// column of that name only, before a key "name" renames the others.
func NewColumns(header []string, at Pos, renames map[string]string) *Columns {
	c := &Columns{at: at, renames: renames != nil, orig: header, names: header}
	c.first, c.more = index(header)
	if len(renames) == 0 {
		return c
	}
	c.names = make([]string, len(header))
	seen := map[string]int{}
	for i, h := range header {
		name := h
		to, ok := "", false
		if _, dup := c.more[h]; dup {
			seen[h]++
			to, ok = renames[h+"#"+strconv.Itoa(seen[h])]
		}
		if !ok {
			to, ok = renames[h]
		}
		if ok {
			name = to
		}
		c.names[i] = name
	}
	c.first, c.more = index(c.names)
	return c
}

// index maps names to their first place, and the names several places
// share to all of theirs.
func index(names []string) (map[string]int, map[string][]int) {
	first := make(map[string]int, len(names))
	more := map[string][]int{}
	for i, n := range names {
		j, ok := first[n]
		switch {
		case !ok:
			first[n] = i
		case more[n] == nil:
			more[n] = []int{j, i}
		default:
			more[n] = append(more[n], i)
		}
	}
	return first, more
}

// places lists the columns called name.
func (c *Columns) places(name string) []int {
	if same, ok := c.more[name]; ok {
		return same
	}
	if i, ok := c.first[name]; ok {
		return []int{i}
	}
	return nil
}

// Names are the columns' names, renamed.
func (c *Columns) Names() []string { return c.names }

// Keys are names that pick each column alone: its name, or name#N when
// other columns share it.
func (c *Columns) Keys() []string {
	keys := make([]string, len(c.names))
	seen := map[string]int{}
	for i, n := range c.names {
		keys[i] = n
		if _, ok := c.more[n]; ok {
			seen[n]++
			keys[i] = n + "#" + strconv.Itoa(seen[n])
		}
	}
	return keys
}

// Find returns the index of the column name picks: a name the header
// holds once, or name#N. It returns -1 and no error when there is none,
// and an error when name alone is the name of several columns; what says
// what the name is for in that message ("aggregate").
func (c *Columns) Find(name, what string) (int, error) {
	if same, ok := c.more[name]; ok {
		return -1, c.ambiguous(name, what, same)
	}
	if i, ok := c.first[name]; ok {
		return i, nil
	}
	if k := strings.LastIndexByte(name, '#'); k >= 0 {
		same := c.places(name[:k])
		if i, err := strconv.Atoi(name[k+1:]); err == nil && i >= 1 && i <= len(same) {
			return same[i-1], nil
		}
	}
	return -1, nil
}

// ambiguous is the error for a name several columns share.
func (c *Columns) ambiguous(name, what string, same []int) error {
	var where, picks []string
	renamed := false
	for n, i := range same {
		w := strconv.Itoa(i + 1)
		if c.orig[i] != name {
			w += " " + Quote(c.orig[i])
			renamed = true
		}
		if n < 10 {
			where = append(where, w)
			picks = append(picks, Quote(name+"#"+strconv.Itoa(n+1)))
		}
	}
	list := strings.Join(where[:len(where)-1], ", ") + " and " + where[len(where)-1]
	if len(same) > 10 {
		list = strings.Join(where, ", ") + fmt.Sprintf(" and %d more", len(same)-10)
	}
	note := ""
	if renamed {
		note = ", named so by columns:"
	}
	times := "twice"
	if len(same) > 2 {
		times = fmt.Sprintf("%d times", len(same))
	}
	hint := ""
	if c.renames {
		hint = fmt.Sprintf(", or rename one with columns: {%s: another name}", Quote(name+"#2"))
	}
	if what != "" {
		what += ": "
	}
	return fmt.Errorf("%s: %sthe header has the column %s %s (columns %s%s): write %s for the one meant%s",
		c.at, what, Quote(name), times, list, note, strings.Join(picks, " or "), hint)
}

// List writes the column names for a message, the first 20 of them.
func (c *Columns) List() string { return ListNames(c.names) }

// ListNames writes names for a message, comma-separated: the first 20,
// each cut as Quote cuts values, then how many more there are.
func ListNames(names []string) string {
	var sb strings.Builder
	for i, n := range names {
		if i == 20 {
			fmt.Fprintf(&sb, " … and %d more", len(names)-20)
			break
		}
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(Name(n))
	}
	return sb.String()
}
