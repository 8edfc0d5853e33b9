package tasks_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestUnzipLinkChainsCannotEscape: link targets were checked by how they
// are spelt, so l1 -> . and l2 -> l1/.. passed as "inside" while the kernel
// resolves l2 to dest's parent; a second archive then wrote through l2.
func TestUnzipLinkChainsCannotEscape(t *testing.T) {
	link := func(name, target string) zent {
		return zent{name: name, data: []byte(target), mode: fs.ModeSymlink | 0o777}
	}
	cases := []struct {
		name    string
		entries []zent
		want    string
	}{
		{"l2 -> l1/.. with l1 -> .", []zent{link("l1", "."), link("l2", "l1/..")}, "clean form"},
		{"deeper", []zent{link("a", "."), link("b", "a/a/../..")}, "clean form"},
		{"a link to a link", []zent{link("l1", "."), link("l2", "l1")}, "a symlink to the symlink"},
		{"a link through a link", []zent{link("d", "."), link("l", "d/x")}, "through the symlink"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			makeZip(t, dir, c.entries...)
			_, _, err := runTask(context.Background(), t, "unzip", dir, map[string]any{"src": "in.zip", "dest": "out"})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want …%s…", err, c.want)
			}
		})
	}
}

// TestUnzipNeverWritesThroughALinkInDest: dest holds a link out (planted,
// or made by hand); an archive with files under that name must not write
// through it, whatever the overwrite policy.
func TestUnzipNeverWritesThroughALinkInDest(t *testing.T) {
	outside := t.TempDir()
	for _, overwrite := range []string{"never", "always"} {
		t.Run(overwrite, func(t *testing.T) {
			dir := t.TempDir()
			dest := filepath.Join(dir, "out")
			os.Mkdir(dest, 0o755)
			os.Symlink(outside, filepath.Join(dest, "l2"))
			os.Symlink("/etc/passwd", filepath.Join(dest, "passwd"))
			makeZip(t, dir, zent{name: "l2/evil.txt", data: []byte("x")}, zent{name: "passwd", data: []byte("root::0:0::/:/bin/sh\n")})
			_, _, err := runTask(context.Background(), t, "unzip", dir, map[string]any{"src": "in.zip", "dest": "out", "overwrite": overwrite})
			if err == nil || !strings.Contains(err.Error(), `lies under the symlink "l2"`) || !strings.Contains(err.Error(), "a symlink of the same name") {
				t.Fatalf("err = %v", err)
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Fatalf("written outside dest: %v", entries)
			}
			if target, _ := os.Readlink(filepath.Join(dest, "passwd")); target != "/etc/passwd" {
				t.Fatal("the link in dest was replaced")
			}
		})
	}
}

func TestUnzipSaysEncryptedEntriesAreNotSupported(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "secret.md", Method: zip.Store, Flags: 0x1}
	h.CRC32, h.CompressedSize64, h.UncompressedSize64 = 0, 12+5, 5
	w, _ := zw.CreateRaw(h)
	w.Write(bytes.Repeat([]byte{0x5a}, 17)) // a ZipCrypto header and data
	zw.Close()
	os.WriteFile(filepath.Join(dir, "in.zip"), buf.Bytes(), 0o644)
	_, _, err := runTask(context.Background(), t, "unzip", dir, map[string]any{"src": "in.zip", "dest": "out"})
	if err == nil || !strings.Contains(err.Error(), "encrypted entries are not supported") || strings.Contains(err.Error(), "bomb") {
		t.Fatalf("err = %v", err)
	}
}

// TestUnzipHonoursTheUmask: a restored dest was 0700 (a temp folder
// renamed into place), unreadable by a service running as another user.
func TestUnzipHonoursTheUmask(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	makeZip(t, dir, zent{name: "ep/1.md", data: []byte("x")}, zent{name: "top.md", data: []byte("y")})
	if _, _, err := runTask(context.Background(), t, "unzip", dir, map[string]any{"src": "in.zip", "dest": "new/episodes"}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"new", "new/episodes", "new/episodes/ep"} {
		if info, err := os.Stat(filepath.Join(dir, d)); err != nil || info.Mode().Perm() != 0o755 {
			t.Errorf("%s: mode %v, %v; want 0755", d, info.Mode().Perm(), err)
		}
	}
}

// TestUnzipRemovesTheTempFoldersOfAKilledUnzip: a killed unzip left a
// hidden temp folder beside dest (1.5 GB) that no later run removed.
func TestUnzipRemovesTheTempFoldersOfAKilledUnzip(t *testing.T) {
	dir := t.TempDir()
	makeZip(t, dir, zent{name: "a.md", data: []byte("x")})
	stale := filepath.Join(dir, ".out.unzip-0123456789ab")
	os.MkdirAll(stale, 0o755)
	os.WriteFile(filepath.Join(stale, "a.md"), []byte("half"), 0o644)
	if _, _, err := runTask(context.Background(), t, "unzip", dir, map[string]any{"src": "in.zip", "dest": "out"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Errorf("%s is still there", stale)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("left in the parent: %v", entries)
	}
}

// TestUnzipNeverRemovesAUsersFolderThatLooksLikeATempOne: the next unzip
// deleted any folder of dest named .runner-unzip-…, however recent — one
// the user made, or one an archive restored.
func TestUnzipNeverRemovesAUsersFolderThatLooksLikeATempOne(t *testing.T) {
	dir := t.TempDir()
	makeZip(t, dir, zent{name: ".runner-unzip-deadbeef0000/precious.txt", data: []byte("from an archive")})
	if _, _, err := runTask(context.Background(), t, "unzip", dir, map[string]any{"src": "in.zip", "dest": "out"}); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "out/.runner-unzip-notes"), 0o755)
	os.WriteFile(filepath.Join(dir, "out/.runner-unzip-notes/n.txt"), []byte("mine"), 0o644)
	os.WriteFile(filepath.Join(dir, "out/.a.md.tmp-0123456789ab"), []byte("mine too"), 0o644)
	os.Remove(filepath.Join(dir, "in.zip"))
	makeZip(t, dir, zent{name: "a.md", data: []byte("x")})
	if _, _, err := runTask(context.Background(), t, "unzip", dir, map[string]any{"src": "in.zip", "dest": "out"}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"out/.runner-unzip-deadbeef0000/precious.txt", "out/.runner-unzip-notes/n.txt", "out/.a.md.tmp-0123456789ab", "out/a.md"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
