package pzip_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/novelfactory/runner/tasks/internal/fileset"
	"github.com/novelfactory/runner/tasks/internal/pzip"
)

// TestSegmentsJoinIntoValidStreams uses tiny chunks so that every file is
// split at many places, including exactly at chunk boundaries.
func TestSegmentsJoinIntoValidStreams(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	want := map[string][]byte{}
	for i, size := range []int{0, 1, 4095, 4096, 4097, 8192, 100_000} {
		data := make([]byte, size)
		for j := range data {
			data[j] = byte('a' + rng.IntN(3))
		}
		name := fmt.Sprintf("f%d.txt", i)
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
		want[name] = data
	}
	entries, err := fileset.Walk(dir, fileset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, level := range []int{0, 1, 6, 9} {
		t.Run(fmt.Sprintf("level %d", level), func(t *testing.T) {
			var buf bytes.Buffer
			n, err := pzip.Write(context.Background(), &buf, entries, pzip.Options{Level: level, ChunkSize: 4096, Workers: 3})
			if err != nil || n != len(want) {
				t.Fatalf("%d files, %v", n, err)
			}
			r, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range r.File {
				rc, _ := f.Open()
				got, err := io.ReadAll(rc)
				if err != nil || !bytes.Equal(got, want[f.Name]) {
					t.Errorf("%s: %v, %d bytes of %d", f.Name, err, len(got), len(want[f.Name]))
				}
				multi := len(want[f.Name]) >= 4096
				if hasDescriptor := f.Flags&0x8 != 0; hasDescriptor != multi {
					t.Errorf("%s: data descriptor %v, want %v (only files of several chunks need one)", f.Name, hasDescriptor, multi)
				}
			}
		})
	}
}

func TestBadLevelIsRejected(t *testing.T) {
	if _, err := pzip.Write(context.Background(), io.Discard, nil, pzip.Options{Level: 10}); err == nil {
		t.Fatal("level 10 accepted")
	}
}

// failingWriter fails like a full disk after room bytes, and calls
// onFull, when set, the first time.
type failingWriter struct {
	room   int
	onFull func()
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) <= w.room {
		w.room -= len(p)
		return len(p), nil
	}
	if w.onFull != nil {
		w.onFull()
		w.onFull = nil
	}
	n := w.room
	w.room = 0
	return n, syscall.ENOSPC
}

// incompressible writes files of random bytes, so that the archive grows
// as fast as it reads.
func incompressible(t *testing.T, files, size int) []fileset.Entry {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range files {
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%02d.bin", i)), data, 0o644)
	}
	entries, err := fileset.Walk(dir, fileset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// TestAFullDiskEndsTheWriteWithItsError is the regression test of a hang:
// the writer failed and stopped giving memory back while the reader
// waited for memory, so Write never returned (2 runs in 3 with a full
// disk). A hang fails this test by the test binary's timeout.
func TestAFullDiskEndsTheWriteWithItsError(t *testing.T) {
	entries := incompressible(t, 12, 300_000)
	for _, room := range []int{0, 1000, 64 << 10, 200_000, 1 << 20, 2 << 20} {
		for try := range 20 {
			t.Run(fmt.Sprintf("room %d, try %d", room, try), func(t *testing.T) {
				_, err := pzip.Write(context.Background(), &failingWriter{room: room}, entries, pzip.Options{Level: 1, ChunkSize: 16 << 10, Workers: 2})
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("err = %v, want ENOSPC", err)
				}
			})
		}
	}
}

// TestCancellingEndsTheWrite cancels at many points of the stream: Write
// must return the context's error every time.
func TestCancellingEndsTheWrite(t *testing.T) {
	entries := incompressible(t, 12, 300_000)
	for _, room := range []int{0, 1000, 64 << 10, 200_000, 1 << 20, 2 << 20} {
		for try := range 20 {
			t.Run(fmt.Sprintf("at %d, try %d", room, try), func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				w := &failingWriter{room: room, onFull: cancel}
				w.room = room
				_, err := pzip.Write(ctx, struct{ io.Writer }{writerFunc(func(p []byte) (int, error) {
					if _, err := w.Write(p); err != nil {
						return len(p), nil // the disk is fine; only the context ends
					}
					return len(p), nil
				})}, entries, pzip.Options{Level: 1, ChunkSize: 16 << 10, Workers: 2})
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("err = %v, want context.Canceled", err)
				}
			})
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestAFileThatChangesWhileZippedIsRefused: a file truncated (or written)
// while it was read was stored torn — part old, part new — and the zip
// succeeded.
func TestAFileThatChangesWhileZippedIsRefused(t *testing.T) {
	for name, change := range map[string]func(string){
		"truncated": func(p string) { os.Truncate(p, 1000) },
		"grown":     func(p string) { f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0); f.Write([]byte("more")); f.Close() },
		"rewritten": func(p string) {
			data, _ := os.ReadFile(p)
			data[0] ^= 1
			os.WriteFile(p, data, 0o644)
			later := time.Now().Add(time.Minute)
			os.Chtimes(p, later, later)
		},
	} {
		t.Run(name, func(t *testing.T) {
			entries := incompressible(t, 3, 300_000)
			change(entries[1].Path) // after it was listed, before it is read
			_, err := pzip.Write(context.Background(), io.Discard, entries, pzip.Options{Level: 1, ChunkSize: 16 << 10})
			if err == nil || !strings.Contains(err.Error(), "changed while it was zipped") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}
