// Package pzip writes zip archives using every core while keeping memory
// flat, whatever the size of the files: files are read in fixed-size chunks,
// each chunk is deflated on its own goroutine as an independent segment
// that ends in a sync flush (as pigz does), and the segments are written in
// order — concatenated, they form one valid deflate stream per file. Entries
// come out in the order given, so the same input gives the same bytes.
package pzip

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/flate"

	"github.com/novelfactory/runner/internal/regfile"
	"github.com/novelfactory/runner/tasks/internal/fileset"
)

// DefaultChunkSize is how much of a file one goroutine deflates at a time.
const DefaultChunkSize = 1 << 20

// ReproducibleTime is the timestamp of every entry in a reproducible archive:
// the earliest time a zip can hold.
var ReproducibleTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Options control how an archive is written.
type Options struct {
	Level        int  // 0 stores everything; 1–9 as zip's -1 … -9
	Reproducible bool // fixed timestamps and normalised modes
	Workers      int  // deflating goroutines; the number of CPUs when 0
	ChunkSize    int  // DefaultChunkSize when 0
	// Progress, when set, is called with the number of source bytes read so far.
	Progress func(done int64)
}

// storedExt are already-compressed formats: deflating them again costs time
// and gains nothing.
var storedExt = map[string]bool{
	".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".webp": true, ".avif": true, ".heic": true,
	".zip": true, ".gz": true, ".tgz": true, ".bz2": true, ".xz": true, ".zst": true, ".7z": true, ".rar": true, ".lz4": true,
	".mp3": true, ".m4a": true, ".aac": true, ".ogg": true, ".opus": true, ".flac": true,
	".mp4": true, ".m4v": true, ".mov": true, ".mkv": true, ".webm": true, ".avi": true,
	".epub": true, ".docx": true, ".xlsx": true, ".pptx": true, ".odt": true, ".jar": true,
	".woff": true, ".woff2": true, ".dump": true,
}

// Stored reports whether a file of this name is stored rather than deflated.
func Stored(name string) bool { return storedExt[strings.ToLower(path.Ext(name))] }

// item is one step of the ordered stream from the reader to the writer.
type item struct {
	entry  fileset.Entry
	kind   int // fileStart, chunkData, fileEnd, dirEntry, linkEntry, failure
	method uint16
	single bool // the whole file is in the next chunk
	chunk  *chunk
	crc    uint32
	size   uint64
	target string // of a symlink
	err    error
}

const (
	fileStart = iota
	chunkData
	fileEnd
	dirEntry
	linkEntry
	failure
)

// budget bounds the bytes of source data in flight between the reader and
// the writer, so that memory stays flat whatever the files' sizes while
// many small files can still be queued for the workers.
type budget struct {
	mu   sync.Mutex
	cond *sync.Cond
	free int64
	max  int64
}

func newBudget(max int64) *budget {
	b := &budget{free: max, max: max}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// acquire waits until n bytes are free (or nothing is in flight), or ctx
// ends: a writer that failed gives nothing back, and must not leave the
// reader waiting for ever.
func (b *budget) acquire(ctx context.Context, n int64) error {
	stop := context.AfterFunc(ctx, func() {
		b.mu.Lock()
		b.cond.Broadcast()
		b.mu.Unlock()
	})
	defer stop()
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.free < n && b.free < b.max {
		if err := ctx.Err(); err != nil {
			return err
		}
		b.cond.Wait()
	}
	b.free -= n
	return nil
}

func (b *budget) release(n int64) {
	b.mu.Lock()
	b.free += n
	b.mu.Unlock()
	b.cond.Broadcast()
}

type chunk struct {
	buf   *[]byte // from the pool, or nil for an exact-size buffer; data is a prefix of it
	data  []byte
	store bool
	last  bool
	crc   uint32 // of the whole file, set on its last chunk
	out   bytes.Buffer
	done  chan struct{}
}

// Write writes entries to w as a zip archive and returns the number of
// file entries (directories not counted).
func Write(ctx context.Context, w io.Writer, entries []fileset.Entry, opt Options) (int, error) {
	if opt.Workers <= 0 {
		opt.Workers = runtime.NumCPU()
	}
	if opt.ChunkSize <= 0 {
		opt.ChunkSize = DefaultChunkSize
	}
	if opt.Level < 0 || opt.Level > 9 {
		return 0, fmt.Errorf("level %d: use 0 (store) to 9", opt.Level)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	jobs := make(chan *chunk, 4*opt.Workers)
	order := make(chan item, 1024) // items are small: memory is bounded by the budget
	pool := &sync.Pool{New: func() any { b := make([]byte, opt.ChunkSize); return &b }}
	budget := newBudget(int64(4*opt.Workers+4) * int64(opt.ChunkSize))
	var wg sync.WaitGroup
	for range opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			deflate(jobs, opt.Level)
		}()
	}
	go func() {
		defer close(order)
		defer close(jobs)
		read(ctx, entries, opt, jobs, order, pool, budget)
	}()

	files, err := writeAll(ctx, w, order, opt, pool, budget)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err() // cancelled between entries: the archive is not whole
	}
	if err != nil {
		cancel()
		for range order { // let the reader finish and stop
		}
	}
	wg.Wait()
	return files, err
}

// deflate compresses chunks as independent segments of one stream.
func deflate(jobs <-chan *chunk, level int) {
	var fw *flate.Writer
	for c := range jobs {
		if c.store {
			close(c.done)
			continue
		}
		if fw == nil {
			fw, _ = flate.NewWriter(&c.out, level) // level was checked by Write
		} else {
			fw.Reset(&c.out)
		}
		fw.Write(c.data) // writes to a bytes.Buffer cannot fail
		if c.last {
			fw.Close()
		} else {
			fw.Flush() // a sync flush: the next segment starts on a byte boundary
		}
		close(c.done)
	}
}

// read turns entries into the ordered stream, reading each file once.
func read(ctx context.Context, entries []fileset.Entry, opt Options, jobs chan<- *chunk, order chan<- item, pool *sync.Pool, budget *budget) {
	var total int64
	send := func(it item) bool {
		select {
		case order <- it:
			return true
		case <-ctx.Done():
			return false
		}
	}
	// A failure is always delivered: the writer reads the stream to its end.
	fail := func(err error) { order <- item{kind: failure, err: err} }
	for _, e := range entries {
		if ctx.Err() != nil {
			fail(ctx.Err())
			return
		}
		mode := e.Info.Mode()
		switch {
		case mode.IsDir():
			if !send(item{kind: dirEntry, entry: e}) {
				return
			}
			continue
		case mode&fs.ModeSymlink != 0:
			// The caller has judged the link and says what to store.
			if !send(item{kind: linkEntry, entry: e, target: e.Target}) {
				return
			}
			continue
		}
		if err := readFile(ctx, e, opt, jobs, send, pool, budget, &total); err != nil {
			fail(err)
			return
		}
	}
}

func readFile(ctx context.Context, e fileset.Entry, opt Options, jobs chan<- *chunk, send func(item) bool, pool *sync.Pool, budget *budget, total *int64) error {
	f, err := regfile.Open(e.Path)
	if err != nil {
		return fmt.Errorf("open %s: %w", e.Path, err)
	}
	defer f.Close()
	// The file opened must be the one listed: a file (or a folder on its
	// path) swapped for a link since would bring in what it points to.
	if now, err := f.Stat(); err != nil {
		return fmt.Errorf("stat %s: %w", e.Path, err)
	} else if !os.SameFile(now, e.Info) {
		return fmt.Errorf("%s changed while it was zipped (it is another file now, or a link): zip again when nothing changes the folder", e.Path)
	}
	store := opt.Level == 0 || Stored(e.Rel)
	method := zip.Deflate
	if store {
		method = zip.Store
	}
	// next reads the next chunk: a small file into a buffer of its size
	// (plus one byte, to see the end), a large one into pooled chunks. The
	// budget is taken before reading and given back by the writer.
	small := e.Info.Size() < int64(opt.ChunkSize)
	// full reports whether a read filled its buffer: then more may follow
	// (a file that grew while it was read is read to its end, and then
	// refused: see below).
	full := func(buf *[]byte, data []byte) bool { return len(data) == len(*buf) }
	next := func() (*[]byte, []byte, error) {
		var buf *[]byte
		if small {
			b := make([]byte, e.Info.Size()+1)
			buf = &b
		} else {
			buf = pool.Get().(*[]byte)
		}
		if err := budget.acquire(ctx, int64(cap(*buf))); err != nil {
			return nil, nil, err
		}
		n, err := io.ReadFull(f, *buf)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = nil
		}
		if err != nil {
			release(pool, budget, buf, opt.ChunkSize)
			return nil, nil, fmt.Errorf("read %s: %w", e.Path, err)
		}
		return buf, (*buf)[:n], nil
	}
	buf, cur, err := next()
	if err != nil {
		return err
	}
	single := !full(buf, cur)
	if !send(item{kind: fileStart, entry: e, method: method, single: single}) {
		return ctx.Err()
	}
	crc := crc32.NewIEEE()
	var size int64
	for {
		// Read ahead one chunk: the last chunk of a file must end the
		// deflate stream, so we must know it is the last.
		var (
			nextBuf   *[]byte
			following []byte
		)
		if full(buf, cur) {
			if nextBuf, following, err = next(); err != nil {
				release(pool, budget, buf, opt.ChunkSize)
				return err
			}
		}
		last := len(following) == 0
		if nextBuf != nil && last {
			release(pool, budget, nextBuf, opt.ChunkSize)
		}
		crc.Write(cur)
		size += int64(len(cur))
		*total += int64(len(cur))
		c := &chunk{buf: buf, data: cur, store: store, last: last, done: make(chan struct{})}
		if last {
			c.crc = crc.Sum32()
		}
		// A worker takes the chunk before the writer hears of it: every
		// chunk the writer waits for is being deflated.
		select {
		case jobs <- c:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !send(item{kind: chunkData, chunk: c}) {
			return ctx.Err()
		}
		if opt.Progress != nil {
			opt.Progress(*total)
		}
		if last {
			break
		}
		buf, cur = nextBuf, following
	}
	// A file written to while it was read would be stored torn — part old,
	// part new: refuse it, as tar warns of a file that "changed as we read
	// it".
	if now, err := f.Stat(); err != nil {
		return fmt.Errorf("stat %s: %w", e.Path, err)
	} else if now.Size() != size || now.Size() != e.Info.Size() || !now.ModTime().Equal(e.Info.ModTime()) {
		return fmt.Errorf("%s changed while it was zipped (%d bytes when listed, %d read, %d now): zip again when nothing writes to it", e.Path, e.Info.Size(), size, now.Size())
	}
	if !send(item{kind: fileEnd, crc: crc.Sum32(), size: uint64(size)}) {
		return ctx.Err()
	}
	return nil
}

// release gives a chunk buffer back to the budget, and to the pool when it
// has the pool's size.
func release(pool *sync.Pool, budget *budget, buf *[]byte, chunkSize int) {
	budget.release(int64(cap(*buf)))
	if cap(*buf) == chunkSize {
		*buf = (*buf)[:chunkSize]
		pool.Put(buf)
	}
}

// writeAll consumes the ordered stream and writes the archive.
func writeAll(ctx context.Context, w io.Writer, order <-chan item, opt Options, pool *sync.Pool, budget *budget) (int, error) {
	zw := zip.NewWriter(w)
	files := 0
	var (
		fh        *zip.FileHeader
		out       io.Writer
		pending   item // the fileStart of a single-chunk file, written once its chunk is done
		hasSingle bool
		written   uint64
	)
	for it := range order {
		switch it.kind {
		case failure:
			return files, it.err
		case dirEntry:
			h := header(it.entry, opt)
			h.Method = zip.Store
			if _, err := zw.CreateRaw(h); err != nil {
				return files, fmt.Errorf("add %s: %w", it.entry.Rel, err)
			}
		case linkEntry:
			h := header(it.entry, opt)
			h.Method = zip.Store
			h.CRC32 = crc32.ChecksumIEEE([]byte(it.target))
			h.CompressedSize64 = uint64(len(it.target))
			h.UncompressedSize64 = h.CompressedSize64
			lw, err := zw.CreateRaw(h)
			if err == nil {
				_, err = io.WriteString(lw, it.target)
			}
			if err != nil {
				return files, fmt.Errorf("add %s: %w", it.entry.Rel, err)
			}
			files++
		case fileStart:
			files++
			fh = header(it.entry, opt)
			fh.Method = it.method
			written = 0
			if it.single {
				pending, hasSingle = it, true
				continue
			}
			// Sizes and CRC are known only at the end: they go into a data
			// descriptor after the data, and into the central directory,
			// which archive/zip writes from this same header when it moves
			// on to the next entry.
			fh.Flags |= 0x8
			var err error
			if out, err = zw.CreateRaw(fh); err != nil {
				return files, fmt.Errorf("add %s: %w", it.entry.Rel, err)
			}
		case chunkData:
			c := it.chunk
			select {
			case <-c.done:
			case <-ctx.Done():
				return files, ctx.Err()
			}
			data := c.data
			if !c.store {
				data = c.out.Bytes()
			}
			if hasSingle {
				fh.CRC32 = c.crc
				fh.CompressedSize64 = uint64(len(data))
				fh.UncompressedSize64 = uint64(len(c.data))
				var err error
				if out, err = zw.CreateRaw(fh); err != nil {
					return files, fmt.Errorf("add %s: %w", pending.entry.Rel, err)
				}
			}
			if _, err := out.Write(data); err != nil {
				return files, fmt.Errorf("write %s: %w", fh.Name, err)
			}
			written += uint64(len(data))
			release(pool, budget, c.buf, opt.ChunkSize)
		case fileEnd:
			if hasSingle {
				hasSingle = false
				continue
			}
			fh.CRC32 = it.crc
			fh.CompressedSize64 = written
			fh.UncompressedSize64 = it.size
			// archive/zip's central directory reads the 32-bit fields of
			// entries that need no zip64; CreateRaw set them from the
			// sizes known then (none).
			//lint:ignore SA1019 see above
			fh.CompressedSize = uint32(min(written, 0xffffffff))
			//lint:ignore SA1019 see above
			fh.UncompressedSize = uint32(min(it.size, 0xffffffff))
		}
	}
	if err := zw.Close(); err != nil {
		return files, fmt.Errorf("finish archive: %w", err)
	}
	return files, nil
}

// header builds an entry's header. CreateRaw writes headers exactly as
// given, so what CreateHeader would fill in is done here: the UTF-8 flag for
// non-ASCII names, and the time as MS-DOS fields plus the extended
// timestamp Info-ZIP reads. Times and modes are fixed when the archive is
// to be reproducible.
func header(e fileset.Entry, opt Options) *zip.FileHeader {
	h := &zip.FileHeader{Name: e.Rel}
	if !isASCII(e.Rel) && utf8.ValidString(e.Rel) {
		h.Flags |= 0x800
	}
	mode := e.Info.Mode()
	modified := e.Info.ModTime()
	if opt.Reproducible {
		modified = ReproducibleTime
		switch {
		case mode.IsDir():
			mode = fs.ModeDir | 0o755
		case mode&fs.ModeSymlink != 0:
			mode = fs.ModeSymlink | 0o777
		case mode&0o111 != 0:
			mode = 0o755
		default:
			mode = 0o644
		}
	}
	setTime(h, modified)
	h.SetMode(mode)
	return h
}

// setTime records t in the header's MS-DOS fields (local wall time, two
// second steps) and in an extended-timestamp extra field (Unix seconds).
func setTime(h *zip.FileHeader, t time.Time) {
	h.Modified = t
	if t.Year() < 1980 {
		t = ReproducibleTime
	}
	//lint:ignore SA1019 CreateRaw writes the legacy fields as given
	h.ModifiedDate = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	//lint:ignore SA1019 CreateRaw writes the legacy fields as given
	h.ModifiedTime = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	var extra [9]byte
	binary.LittleEndian.PutUint16(extra[0:], 0x5455) // extended timestamp
	binary.LittleEndian.PutUint16(extra[2:], 5)
	extra[4] = 1 // modification time only
	binary.LittleEndian.PutUint32(extra[5:], uint32(t.Unix()))
	h.Extra = append(h.Extra, extra[:]...)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
