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
	readRecord := func() ([]byte, error) {
		var rec []byte
		for {
			part, err := br.ReadSlice('\n')
			rec = append(rec, part...)
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if err != nil && (len(rec) == 0 || !errors.Is(err, io.EOF)) {
				return rec, err
			}
			line += bytes.Count(part, []byte("\n"))
			if bytes.Count(rec, []byte(`"`))%2 == 0 || err != nil {
				return rec, nil
			}
		}
	}
	for i := 1; i < opt.HeaderRow; i++ {
		if _, err := readRecord(); err != nil {
			return nil, fmt.Errorf("%s: no header row %d: %w", name, opt.HeaderRow, err)
		}
	}
	t.headerLine = line
	headerLine, err := readRecord()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s is empty: no header row", name)
		}
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	t.delim = opt.Delimiter
	if t.delim == 0 {
		t.delim = sniffDelimiter(headerLine)
	}
	var p parser
	p.delim = t.delim
	fields, _, _ := p.record(headerLine, 0)
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
	data []byte
	line int
	buf  *[]byte
}

// Rows reads the body in chunks that end at record boundaries and parses
// them on workers goroutines.
func (t *csvTable) Rows(ctx context.Context, workers int, fn RowFunc) error {
	if workers < 1 {
		workers = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan chunk, workers)
	errs := make(chan error, workers+1)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			p := parser{delim: t.delim}
			for c := range chunks {
				if err := p.each(c.data, c.line, func(fields [][]byte, line int) error { return fn(w, fields, Pos{t.name, line}) }); err != nil {
					errs <- err
					cancel()
					for range chunks { // let the reader finish
					}
					return
				}
				putChunk(c.buf)
			}
		}(w)
	}
	readErr := t.produce(ctx, chunks)
	close(chunks)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
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
	for {
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
			case out <- chunk{data: buf[:end], line: line, buf: bp}:
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

// recordBoundary is the offset just after the last newline of buf that is
// outside quotes, or -1. buf starts at a record boundary, so a newline is
// outside quotes when an even number of quotes comes before it.
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

// parser splits records into fields, reusing its buffers.
type parser struct {
	delim   byte
	fields  [][]byte
	scratch []byte
}

// each calls fn for every record of data (which holds whole records).
func (p *parser) each(data []byte, line int, fn func([][]byte, int) error) error {
	pos := 0
	for pos < len(data) {
		fields, next, lines := p.record(data, pos)
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
	for {
		start := len(p.scratch)
		if i < len(data) && data[i] == '"' {
			i++
			for i < len(data) {
				c := data[i]
				if c == '"' {
					if i+1 < len(data) && data[i+1] == '"' {
						p.scratch = append(p.scratch, '"')
						i += 2
						continue
					}
					i++
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
				if data[i] != '\r' {
					p.scratch = append(p.scratch, data[i])
				}
				i++
			}
		} else {
			for i < len(data) && data[i] != p.delim && data[i] != '\n' {
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
