package pzip_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

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
