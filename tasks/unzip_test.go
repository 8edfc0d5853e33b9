package tasks_test

import (
	"archive/zip"
	"bytes"
	"context"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/flate"
	"golang.org/x/text/encoding/korean"
)

// zent is one entry of a hand-made archive.
type zent struct {
	name     string
	data     []byte
	mode     fs.FileMode
	nonUTF8  bool   // write the name's bytes as they are, without the UTF-8 flag
	declared uint64 // when set, lie about the uncompressed size
}

func makeZip(t *testing.T, dir string, entries ...zent) string {
	t.Helper()
	path := filepath.Join(dir, "in.zip")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, NonUTF8: e.nonUTF8, Modified: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		if e.declared == 0 {
			w, err := zw.CreateHeader(h)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(e.data)
			continue
		}
		var comp bytes.Buffer
		fw, _ := flate.NewWriter(&comp, 6)
		fw.Write(e.data)
		fw.Close()
		h.CRC32 = crc32.ChecksumIEEE(e.data)
		h.CompressedSize64, h.UncompressedSize64 = uint64(comp.Len()), e.declared
		w, err := zw.CreateRaw(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(comp.Bytes())
	}
	zw.Close()
	os.WriteFile(path, buf.Bytes(), 0o644)
	return path
}

func TestUnzipRoundTripsTheZipTask(t *testing.T) {
	src, files := corpus(t)
	dir := t.TempDir()
	archive := filepath.Join(dir, "episodes.zip")
	if _, _, err := runTask(context.Background(), t, "zip", src, map[string]any{"src": ".", "dest": archive}); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "restored")
	out, _, err := runTask(context.Background(), t, "unzip", dir, map[string]any{"src": "episodes.zip", "dest": "restored"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		if got, err := os.ReadFile(filepath.Join(dest, name)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs (%v)", name, err)
		}
	}
	if info, _ := os.Stat(filepath.Join(dest, "bin/run.sh")); info == nil || info.Mode().Perm()&0o100 == 0 {
		t.Error("the executable bit was lost")
	}
	if target, _ := os.Readlink(filepath.Join(dest, "episodes/latest.md")); target != "제1화.md" {
		t.Errorf("symlink target %q", target)
	}
	if out["files"] != 8 || out["written"] != 8 {
		t.Errorf("outputs %v", out)
	}
	// Unpacking again over the same files changes nothing.
	again, _, err := runTask(context.Background(), t, "unzip", dir, map[string]any{"src": "episodes.zip", "dest": "restored"})
	if err != nil || again["unchanged"] != 8 || again["written"] != 0 {
		t.Fatalf("second unzip: %v %v", again, err)
	}
}

func TestUnzipDecodesCP949Names(t *testing.T) {
	dir := t.TempDir()
	cp949, _ := korean.EUCKR.NewEncoder().String("제1화 첫 번째 문.md")
	makeZip(t, dir, zent{name: cp949, data: []byte("본문"), nonUTF8: true}, zent{name: "제2화.md", data: []byte("둘")})
	if _, _, err := runTask(context.Background(), t, "unzip", dir, map[string]any{"src": "in.zip", "dest": "out"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"제1화 첫 번째 문.md", "제2화.md"} {
		if _, err := os.Stat(filepath.Join(dir, "out", name)); err != nil {
			entries, _ := os.ReadDir(filepath.Join(dir, "out"))
			t.Errorf("%s missing; got %v", name, entries)
		}
	}
}

// TestUnzipRefusesHostileArchives: each archive is refused with a message
// naming the problem, and the destination is left exactly as it was.
func TestUnzipRefusesHostileArchives(t *testing.T) {
	zeros := make([]byte, 20<<20)
	cases := []struct {
		name    string
		entries []zent
		with    map[string]any
		want    string
	}{
		{"zip-slip", []zent{{name: "ok.txt", data: []byte("x")}, {name: "../../evil.txt", data: []byte("x")}}, nil, "would land outside the destination"},
		{"absolute path", []zent{{name: "/etc/evil", data: []byte("x")}}, nil, "an absolute path"},
		{"symlink escape", []zent{{name: "link", data: []byte("../../outside"), mode: fs.ModeSymlink | 0o777}}, nil, "a symlink pointing outside"},
		{"file through a symlink", []zent{{name: "d", data: []byte("sub"), mode: fs.ModeSymlink | 0o777}, {name: "d/x.txt", data: []byte("x")}}, nil, `lies under the symlink "d"`},
		{"duplicate names", []zent{{name: "a.txt", data: []byte("1")}, {name: "a.txt", data: []byte("2")}}, nil, "the name appears twice"},
		{"bomb by ratio", []zent{{name: "zeros.bin", data: zeros}}, map[string]any{"max_ratio": 100}, "over max_ratio 100"},
		{"bomb by size", []zent{{name: "zeros.bin", data: zeros}}, map[string]any{"max_bytes": "1MiB"}, "over max_bytes"},
		{"lying header", []zent{{name: "small.txt", data: bytes.Repeat([]byte("a"), 100_000), declared: 1000}}, nil, "expands beyond its declared 1000 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			makeZip(t, dir, c.entries...)
			dest := filepath.Join(dir, "out")
			os.Mkdir(dest, 0o755)
			os.WriteFile(filepath.Join(dest, "keep.txt"), []byte("last good"), 0o644)
			with := map[string]any{"src": "in.zip", "dest": "out"}
			for k, v := range c.with {
				with[k] = v
			}
			_, _, err := runTask(context.Background(), t, "unzip", dir, with)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want …%s…", err, c.want)
			}
			entries, _ := os.ReadDir(dest)
			if len(entries) != 1 || entries[0].Name() != "keep.txt" {
				t.Errorf("the destination changed: %v", entries)
			}
			if all, _ := os.ReadDir(dir); len(all) != 2 {
				t.Errorf("temporary folders left: %v", all)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "evil.txt")); err == nil {
				t.Error("a file escaped")
			}
		})
	}
}

func TestUnzipOverwritePolicies(t *testing.T) {
	for _, c := range []struct {
		policy, want string
		fails        bool
	}{{"never", "old", true}, {"always", "new", false}, {"if_newer", "old", false}} {
		t.Run(c.policy, func(t *testing.T) {
			dir := t.TempDir()
			makeZip(t, dir, zent{name: "a.txt", data: []byte("new")}, zent{name: "b.txt", data: []byte("same")})
			dest := filepath.Join(dir, "out")
			os.Mkdir(dest, 0o755)
			os.WriteFile(filepath.Join(dest, "a.txt"), []byte("old"), 0o644) // newer than the entry (2026-11-01)
			os.WriteFile(filepath.Join(dest, "b.txt"), []byte("same"), 0o644)
			_, _, err := runTask(context.Background(), t, "unzip", dir, map[string]any{"src": "in.zip", "dest": "out", "overwrite": c.policy})
			if c.fails != (err != nil) {
				t.Fatalf("err %v", err)
			}
			if c.fails && !strings.Contains(err.Error(), "1 files in the destination differ from the archive's (overwrite: never): a.txt") {
				t.Fatalf("err %v", err)
			}
			if got, _ := os.ReadFile(filepath.Join(dest, "a.txt")); string(got) != c.want {
				t.Errorf("a.txt = %q, want %q", got, c.want)
			}
		})
	}
}
