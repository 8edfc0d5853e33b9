package tabular

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/transform"
)

// chunkSize is how much of a CSV file one worker parses at a time.
const chunkSize = 4 << 20

// csvTable streams a CSV file, or a CSV entry of a zip.
type csvTable struct {
	closer     io.Closer
	body       io.Reader // the rest of the text, from the first data row on
	name       string
	header     []string
	headerLine int
	delim      byte
	cp949      bool
	bodyLine   int // the first data row's line
}

// openCSV reads the header of a CSV table from src, which gives the text
// from its first byte; head is its first bytes, to tell the encoding by.
// With decode, CP949 text is decoded as it is read (zip entries);
// otherwise fields are given as they are, and CP949 tells the caller to
// decode them. closer is closed by Close.
func openCSV(src io.Reader, closer io.Closer, name string, head []byte, opt Options, decode bool) (*csvTable, error) {
	t := &csvTable{closer: closer, name: name}
	if err := checkUTF16(name, head); err != nil {
		return nil, err
	}
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		if _, err := io.CopyN(io.Discard, src, 3); err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
	} else {
		var err error
		if t.cp949, err = detectEncoding(name, head, opt.Encoding); err != nil {
			return nil, err
		}
		if t.cp949 && decode {
			src = transform.NewReader(src, korean.EUCKR.NewDecoder())
			t.cp949 = false
		}
	}
	// Read the rows up to the header (and those skipped after it); the
	// body is what the reader holds after them.
	br, ok := src.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(src, 64<<10)
	}
	line := 1
	// Before the header is read the delimiter may be unknown: a quote
	// then opens a field after any of the delimiters sniffed.
	split := splitter{delim: opt.Delimiter}
	readRecord := func() ([]byte, error) {
		var rec []byte
		quoted := false
		for {
			part, err := br.ReadSlice('\n')
			from := len(rec)
			rec = append(rec, part...)
			if errors.Is(err, bufio.ErrBufferFull) {
				if len(rec) > maxRecord {
					return nil, fmt.Errorf("%s:%d: no record ends within %d MiB: is it a table?", name, line, maxRecord>>20)
				}
				continue
			}
			if err != nil && (len(rec) == 0 || !errors.Is(err, io.EOF)) {
				if errors.Is(err, io.EOF) {
					return rec, err
				}
				return rec, fmt.Errorf("read %s: %w", name, err)
			}
			if !split.quotedAfter(rec, from, &quoted) || err != nil {
				line += bytes.Count(rec, []byte("\n"))
				return rec, nil
			}
			if len(rec) > maxRecord {
				return nil, fmt.Errorf("%s:%d: no record ends within %d MiB: a quoted field that is never closed?", name, line, maxRecord>>20)
			}
		}
	}
	for i := 1; i < opt.HeaderRow; i++ {
		if _, err := readRecord(); errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: no header row %d: the file ends at line %d", name, opt.HeaderRow, line-1)
		} else if err != nil {
			return nil, err
		}
	}
	t.headerLine = line
	headerLine, err := readRecord()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s is empty: no header row", name)
		}
		return nil, err
	}
	t.delim = opt.Delimiter
	if t.delim == 0 {
		t.delim = sniffDelimiter(headerLine)
	}
	if i := bytes.IndexByte(headerLine, '\r'); i >= 0 && i+1 < len(headerLine) && headerLine[i+1] != '\n' {
		return nil, fmt.Errorf("%s:%d: the lines end in a carriage return alone (classic Mac text): save the file with LF or CRLF line ends", name, t.headerLine)
	}
	p := parser{name: name, delim: t.delim}
	fields, _, _ := p.record(headerLine, 0)
	if p.open {
		return nil, p.errOpen(t.headerLine)
	}
	var dec Decoder
	for _, fld := range fields {
		t.header = append(t.header, strings.TrimSpace(string(dec.Decode(fld, t.cp949))))
	}
	for i := 0; i < opt.SkipRows; i++ {
		if _, err := readRecord(); err != nil {
			break
		}
	}
	t.body, t.bodyLine = br, line
	return t, nil
}

// sniffDelimiter picks the most frequent of , tab ; | outside quotes.
func sniffDelimiter(line []byte) byte {
	counts := map[byte]int{}
	in := false
	for _, c := range line {
		switch {
		case c == '"':
			in = !in
		case !in && (c == ',' || c == '\t' || c == ';' || c == '|'):
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{'\t', ';', '|'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return best
}

func (t *csvTable) Header() []string { return t.header }
func (t *csvTable) HeaderAt() Pos    { return Pos{t.name, t.headerLine} }
func (t *csvTable) CP949() bool      { return t.cp949 }
func (t *csvTable) Close() error     { return t.closer.Close() }
func (t *csvTable) Format() string {
	if t.cp949 {
		return "csv (CP949)"
	}
	return "csv (UTF-8)"
}

type chunk struct {
	seq  int // the chunk's place in the file
	data []byte
	line int
	buf  *[]byte
}

// Rows reads the body in chunks that end at record boundaries and parses
// them on workers goroutines. When rows fail, the error of the first
// failing chunk in the file is returned: a chunk after a bad record may
// fail for that record's sake (see parser.each), and would name the wrong
// line.
func (t *csvTable) Rows(ctx context.Context, workers int, fn RowFunc) error {
	if workers < 1 {
		workers = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan chunk, workers)
	var (
		mu       sync.Mutex
		firstErr error
		errSeq   int
	)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			p := parser{name: t.name, delim: t.delim}
			for c := range chunks {
				mu.Lock()
				after := firstErr != nil && c.seq > errSeq
				mu.Unlock()
				if after {
					continue // let the reader finish
				}
				err := p.each(c.data, c.line, func(fields [][]byte, line int) error { return fn(w, fields, Pos{t.name, line}) })
				putChunk(c.buf)
				if err != nil {
					mu.Lock()
					if firstErr == nil || c.seq < errSeq {
						firstErr, errSeq = err, c.seq
					}
					mu.Unlock()
					cancel()
				}
			}
		}(w)
	}
	readErr := t.produce(ctx, chunks)
	close(chunks)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if readErr != nil && !errors.Is(readErr, context.Canceled) {
		return readErr
	}
	return ctx.Err()
}

// chunkPool holds chunk buffers, shared by every table read (a zip of
// many small entries reads them one after the other).
var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, chunkSize+64<<10); return &b }}

// putChunk returns a buffer to the pool, unless one long record grew it.
func putChunk(b *[]byte) {
	if cap(*b) <= 2*chunkSize {
		chunkPool.Put(b)
	}
}

// produce reads the body and sends chunks of whole records.
func (t *csvTable) produce(ctx context.Context, out chan<- chunk) error {
	line := t.bodyLine
	var carry []byte
	for seq := 0; ; seq++ {
		bp := chunkPool.Get().(*[]byte)
		buf := append((*bp)[:0], carry...)
		eof := false
		for len(buf) < chunkSize && !eof {
			if cap(buf)-len(buf) < 64<<10 {
				buf = append(buf, make([]byte, 64<<10)...)[:len(buf)]
			}
			n, err := t.body.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if errors.Is(err, io.EOF) {
				eof = true
			} else if err != nil {
				return fmt.Errorf("read %s: %w", t.name, err)
			}
		}
		end := len(buf)
		if !eof {
			end = recordBoundary(buf)
			for end < 0 { // one record longer than the chunk: read more
				if len(buf) > maxRecord {
					return fmt.Errorf("%s:%d: no record ends within %d MiB from here: a quoted field that is never closed?", t.name, line, maxRecord>>20)
				}
				more := make([]byte, 1<<20)
				n, err := t.body.Read(more)
				buf = append(buf, more[:n]...)
				if errors.Is(err, io.EOF) {
					eof, end = true, len(buf)
					break
				} else if err != nil {
					return fmt.Errorf("read %s: %w", t.name, err)
				}
				end = recordBoundary(buf)
			}
		}
		carry = append(carry[:0], buf[end:]...)
		*bp = buf
		if end > 0 {
			select {
			case out <- chunk{seq: seq, data: buf[:end], line: line, buf: bp}:
			case <-ctx.Done():
				return ctx.Err()
			}
			line += bytes.Count(buf[:end], []byte("\n"))
		} else {
			putChunk(bp)
		}
		if eof {
			return nil
		}
	}
}

// maxRecord is the longest record read: a quoted field left open would
// otherwise make the rest of the file one record, held in memory.
var maxRecord = 64 << 20

// splitter follows quotes exactly as the parser reads them: a quote opens
// a quoted field only at the start of a field; in one, a doubled quote is
// a quote and a single one closes it; any other quote is a character like
// the rest. A newline outside a quoted field ends a record. It reads the
// rows up to the header, byte by byte; the body is cut by recordBoundary.
type splitter struct {
	delim byte // 0 while the delimiter is unknown: any of , tab ; |
}

func (s splitter) isDelim(c byte) bool {
	if s.delim == 0 {
		return c == ',' || c == '\t' || c == ';' || c == '|'
	}
	return c == s.delim
}

// recordBoundary is the offset just after the last newline of buf that
// is outside quotes, or -1. buf starts at a record boundary, so a newline
// is outside quotes when an even number of quotes comes before it — when
// every record has an even number of quotes, as every well-formed one has.
// The parser refuses a record with an odd number (a stray quote), and
// says so when a chunk ends inside a quoted field, so a wrong boundary
// is an error, never rows cut in two.
func recordBoundary(buf []byte) int {
	total := bytes.Count(buf, []byte(`"`))
	after := 0
	end := len(buf)
	for {
		i := bytes.LastIndexByte(buf[:end], '\n')
		if i < 0 {
			return -1
		}
		after += bytes.Count(buf[i:end], []byte(`"`))
		if (total-after)%2 == 0 {
			return i + 1
		}
		end = i
	}
}

// quotedAfter follows the quotes of rec[from:] — rec starts a record and
// ends with a newline or the text — and says whether rec ends inside a
// quoted field; quoted carries the state from one call to the next.
func (s splitter) quotedAfter(rec []byte, from int, quoted *bool) bool {
	for i := from; ; i++ {
		j := bytes.IndexByte(rec[i:], '"')
		if j < 0 {
			return *quoted
		}
		i += j
		switch {
		case *quoted && i+1 < len(rec) && rec[i+1] == '"':
			i++ // a doubled quote
		case *quoted:
			*quoted = false
		case i == 0 || s.isDelim(rec[i-1]):
			*quoted = true
		}
	}
}

// parser splits records into fields, reusing its buffers.
type parser struct {
	name    string // the file, for messages
	delim   byte
	fields  [][]byte
	scratch []byte
	open    bool // the last record ended inside a quoted field
	quotes  int  // the quotes in the last record, when it had a stray one
	stray   int  // the 1-based field of the last record's first stray quote, or 0
}

// errOpen is the error for a record whose quoted field is never closed.
func (p *parser) errOpen(line int) error {
	return fmt.Errorf("%s:%d: a quoted field starts in this record and is never closed (a \" at the start of a field opens one)", p.name, line)
}

// each calls fn for every record of data (which holds whole records).
func (p *parser) each(data []byte, line int, fn func([][]byte, int) error) error {
	pos := 0
	for pos < len(data) {
		fields, next, lines := p.record(data, pos)
		if p.open {
			return p.errOpen(line)
		}
		if p.quotes%2 == 1 {
			return fmt.Errorf("%s:%d: column %d: a quote (\") inside a field that is not in quotes, and an odd number of quotes in the row, so where rows end cannot be told: put the field in quotes and double its quote (\"5\"\" screen\")", p.name, line, p.stray)
		}
		if !(len(fields) == 1 && len(bytes.TrimSpace(fields[0])) == 0) { // blank line
			if err := fn(fields, line); err != nil {
				return err
			}
		}
		line += lines
		pos = next
	}
	return nil
}

// record parses the record at data[pos:], returning its fields, the offset
// of the next record and the number of newlines it spans.
func (p *parser) record(data []byte, pos int) ([][]byte, int, int) {
	p.open, p.quotes, p.stray = false, 0, 0
	p.fields = p.fields[:0]
	p.scratch = p.scratch[:0]
	nl := bytes.IndexByte(data[pos:], '\n')
	lineEnd := len(data)
	if nl >= 0 {
		lineEnd = pos + nl
	}
	line := data[pos:lineEnd]
	if fields, ok := p.simpleQuoted(line); ok {
		next := lineEnd + 1
		if nl < 0 {
			next = len(data)
		}
		return fields, next, 1
	}
	p.fields = p.fields[:0]
	if bytes.IndexByte(line, '"') < 0 {
		// The fast path: no quotes on this line.
		line = bytes.TrimSuffix(line, []byte("\r"))
		for {
			i := bytes.IndexByte(line, p.delim)
			if i < 0 {
				p.fields = append(p.fields, line)
				break
			}
			p.fields = append(p.fields, line[:i])
			line = line[i+1:]
		}
		next := lineEnd + 1
		if nl < 0 {
			next = len(data)
		}
		return p.fields, next, 1
	}
	return p.quoted(data, pos)
}

// simpleQuoted splits a line whose quoted fields (if any) hold no doubled
// quote and no newline — nearly every line of an export — without copying.
func (p *parser) simpleQuoted(line []byte) ([][]byte, bool) {
	line = bytes.TrimSuffix(line, []byte("\r"))
	for {
		if len(line) > 0 && line[0] == '"' {
			end := bytes.IndexByte(line[1:], '"')
			if end < 0 {
				return nil, false // the field goes on past the line
			}
			end++
			if end+1 < len(line) && line[end+1] != p.delim {
				return nil, false // a doubled quote, or text after the closing one
			}
			p.fields = append(p.fields, line[1:end])
			if end+1 >= len(line) {
				return p.fields, true
			}
			line = line[end+2:]
			continue
		}
		i := bytes.IndexByte(line, p.delim)
		if i < 0 {
			if bytes.IndexByte(line, '"') >= 0 {
				return nil, false
			}
			p.fields = append(p.fields, line)
			return p.fields, true
		}
		if bytes.IndexByte(line[:i], '"') >= 0 {
			return nil, false
		}
		p.fields = append(p.fields, line[:i])
		line = line[i+1:]
	}
}

// quoted parses a record with quoted fields, which may hold delimiters,
// doubled quotes and newlines.
func (p *parser) quoted(data []byte, pos int) ([][]byte, int, int) {
	// Fields are gathered in scratch first (unescaped), then sliced, so
	// that growing scratch never leaves a field pointing at old memory.
	var bounds []int
	lines := 1
	i := pos
	// A quote where none belongs is kept as a character, and counted.
	bare := func() {
		p.quotes++
		if p.stray == 0 {
			p.stray = len(bounds)/2 + 1
		}
	}
	for {
		start := len(p.scratch)
		if i < len(data) && data[i] == '"' {
			i++
			p.open = true
			p.quotes++
			for i < len(data) {
				c := data[i]
				if c == '"' {
					if i+1 < len(data) && data[i+1] == '"' {
						p.scratch = append(p.scratch, '"')
						p.quotes += 2
						i += 2
						continue
					}
					i++
					p.open = false
					p.quotes++
					break
				}
				if c == '\n' {
					lines++
				}
				p.scratch = append(p.scratch, c)
				i++
			}
			// Anything between the closing quote and the delimiter is kept.
			for i < len(data) && data[i] != p.delim && data[i] != '\n' {
				if data[i] == '"' {
					bare()
				}
				if data[i] != '\r' {
					p.scratch = append(p.scratch, data[i])
				}
				i++
			}
		} else {
			for i < len(data) && data[i] != p.delim && data[i] != '\n' {
				if data[i] == '"' {
					bare()
				}
				p.scratch = append(p.scratch, data[i])
				i++
			}
			if n := len(p.scratch); n > start && p.scratch[n-1] == '\r' && (i >= len(data) || data[i] == '\n') {
				p.scratch = p.scratch[:n-1]
			}
		}
		bounds = append(bounds, start, len(p.scratch))
		if i >= len(data) || data[i] == '\n' {
			break
		}
		i++ // the delimiter
	}
	for j := 0; j < len(bounds); j += 2 {
		p.fields = append(p.fields, p.scratch[bounds[j]:bounds[j+1]])
	}
	next := i + 1
	if i >= len(data) {
		next = len(data)
	}
	return p.fields, next, lines
}

// DecodeAll converts CP949 text to UTF-8 (for small tables read whole).
func DecodeAll(b []byte) ([]byte, error) { return korean.EUCKR.NewDecoder().Bytes(b) }
