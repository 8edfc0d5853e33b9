// Package pdfwrite writes a PDF file as a stream of objects: each object is
// written as soon as it is complete, and only the objects' offsets are
// kept for the cross-reference table written at the end. A book's pages
// therefore cost memory only while they are drawn. It knows nothing of
// books or layout (package pdfbook) and holds no page after writing it.
package pdfwrite

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
)

// Writer writes numbered objects and, at Finish, the cross-reference
// table and trailer.
type Writer struct {
	w       *bufio.Writer
	off     int64
	offsets []int64 // offsets[id-1]; -1 while allocated but not written
	err     error
	z       *zlib.Writer
	zbuf    bytes.Buffer
}

// New starts a PDF 1.7 file on w.
func New(w io.Writer) *Writer {
	pw := &Writer{w: bufio.NewWriterSize(w, 64<<10)}
	pw.printf("%%PDF-1.7\n%%\xe2\xe3\xcf\xd3\n")
	return pw
}

func (w *Writer) printf(format string, args ...any) {
	if w.err != nil {
		return
	}
	n, err := fmt.Fprintf(w.w, format, args...)
	w.off += int64(n)
	w.err = err
}

func (w *Writer) write(p []byte) {
	if w.err != nil {
		return
	}
	n, err := w.w.Write(p)
	w.off += int64(n)
	w.err = err
}

// Alloc reserves an object number, to be written later with Object or
// Stream; other objects may refer to it before then.
func (w *Writer) Alloc() int {
	w.offsets = append(w.offsets, -1)
	return len(w.offsets)
}

// Object writes object id with the given body (a dictionary, array, …).
func (w *Writer) Object(id int, body string) {
	w.begin(id)
	w.printf("%s\nendobj\n", body)
}

func (w *Writer) begin(id int) {
	if id < 1 || id > len(w.offsets) || w.offsets[id-1] != -1 {
		if w.err == nil {
			w.err = fmt.Errorf("pdf object %d written twice or never allocated", id)
		}
		return
	}
	w.offsets[id-1] = w.off
	w.printf("%d 0 obj\n", id)
}

// Stream writes object id as a stream: dict holds the entries besides
// /Length and /Filter (without the << >>). With deflate, data is
// compressed (FlateDecode).
func (w *Writer) Stream(id int, dict string, data []byte, deflate bool) {
	if deflate {
		w.zbuf.Reset()
		if w.z == nil {
			w.z = zlib.NewWriter(&w.zbuf)
		} else {
			w.z.Reset(&w.zbuf)
		}
		w.z.Write(data)
		w.z.Close()
		data = w.zbuf.Bytes()
		dict += " /Filter /FlateDecode"
	}
	w.begin(id)
	w.printf("<<%s /Length %d>>\nstream\n", dict, len(data))
	w.write(data)
	w.printf("\nendstream\nendobj\n")
}

// Err is the first error met while writing.
func (w *Writer) Err() error { return w.err }

// Finish writes the cross-reference table and the trailer naming the
// catalog root and the document information info, and flushes.
func (w *Writer) Finish(root, info int) error {
	for i, off := range w.offsets {
		if off < 0 && w.err == nil {
			w.err = fmt.Errorf("pdf object %d allocated but never written", i+1)
		}
	}
	xref := w.off
	w.printf("xref\n0 %d\n0000000000 65535 f \n", len(w.offsets)+1)
	for _, off := range w.offsets {
		w.printf("%010d 00000 n \n", off)
	}
	w.printf("trailer\n<</Size %d /Root %d 0 R /Info %d 0 R>>\nstartxref\n%d\n%%%%EOF\n", len(w.offsets)+1, root, info, xref)
	if w.err != nil {
		return w.err
	}
	return w.w.Flush()
}

// Text is s as a PDF text string: UTF-16BE with a byte-order mark, in a
// literal string with (, ) and \ escaped — what outlines and document
// information want for any script.
func Text(s string) string {
	var b bytes.Buffer
	b.WriteString("(\xfe\xff")
	for _, r := range s {
		var units []uint16
		if r >= 0x10000 {
			r -= 0x10000
			units = []uint16{uint16(0xd800 + r>>10), uint16(0xdc00 + r&0x3ff)}
		} else {
			units = []uint16{uint16(r)}
		}
		for _, u := range units {
			for _, c := range []byte{byte(u >> 8), byte(u)} {
				if c == '(' || c == ')' || c == '\\' {
					b.WriteByte('\\')
				}
				if c == '\r' {
					b.WriteString("\\r")
					continue
				}
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte(')')
	return b.String()
}
