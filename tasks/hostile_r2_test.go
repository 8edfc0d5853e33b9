package tasks_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The cases of this file were found by a second hostile review, of the
// first round's fixes (docs/security.md).

// mountTmpfs mounts a small tmpfs on dir (which must exist): another file
// system inside a destination, where a rename cannot go. It needs root,
// as CI has.
func mountTmpfs(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root (CI runs as root)")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
}

// TestAFailedMoveIntoDestUndoesEverything: files were renamed into dest
// one by one, so a move that failed halfway (another file system mounted
// inside dest) left dest half-replaced, the old content lost.
func TestAFailedMoveIntoDestUndoesEverything(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "out")
	os.MkdirAll(filepath.Join(dest, "sub"), 0o755)
	os.WriteFile(filepath.Join(dest, "a.txt"), []byte("OLD-A"), 0o644)
	mountTmpfs(t, filepath.Join(dest, "sub"))
	makeZip(t, dir, zent{name: "a.txt", data: []byte("NEW-A")}, zent{name: "m/new.txt", data: []byte("new")}, zent{name: "sub/b.txt", data: []byte("NEW-B")})
	_, _, err := runTask(context.Background(), t, "unzip", dir, map[string]any{"src": "in.zip", "dest": "out", "overwrite": "always"})
	if err == nil || !strings.Contains(err.Error(), "every change was undone") {
		t.Fatalf("err = %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dest, "a.txt")); string(got) != "OLD-A" {
		t.Errorf("a.txt = %q: the replaced file was not put back", got)
	}
	for _, gone := range []string{"m", "sub/b.txt"} {
		if _, err := os.Stat(filepath.Join(dest, gone)); err == nil {
			t.Errorf("%s is still there", gone)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("left beside dest: %v", entries)
	}
}

// TestTwoUnzipsIntoOneDestDoNotMix: two unzips into one existing dest
// both "wrote 3000", and dest held a mix of both archives.
func TestTwoUnzipsIntoOneDestDoNotMix(t *testing.T) {
	dir := t.TempDir()
	for _, which := range []string{"a", "b"} {
		var entries []zent
		for i := range 300 {
			entries = append(entries, zent{name: fmt.Sprintf("ep%03d.md", i), data: []byte("from " + which)})
		}
		makeZip(t, dir, entries...)
		os.Rename(filepath.Join(dir, "in.zip"), filepath.Join(dir, which+".zip"))
	}
	os.Mkdir(filepath.Join(dir, "out"), 0o755)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, which := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = runTask(context.Background(), t, "unzip", dir, map[string]any{"src": which + ".zip", "dest": "out"})
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("errors %v: exactly one should find the other's files and refuse", errs)
	}
	seen := map[string]int{}
	entries, _ := os.ReadDir(filepath.Join(dir, "out"))
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, "out", e.Name()))
		seen[string(data)]++
	}
	if len(seen) != 1 || len(entries) != 300 {
		t.Fatalf("dest holds %d files: %v", len(entries), seen)
	}
}

// TestAFailedUnzipLeavesNoParentsBehind: a failed unzip into
// new1/new2/dest left new1/new2.
func TestAFailedUnzipLeavesNoParentsBehind(t *testing.T) {
	dir := t.TempDir()
	makeZip(t, dir, zent{name: "small.txt", data: make([]byte, 100_000), declared: 1000})
	if _, _, err := runTask(context.Background(), t, "unzip", dir, map[string]any{"src": "in.zip", "dest": "new1/new2/dest"}); err == nil {
		t.Fatal("a lying header was unpacked")
	}
	if _, err := os.Stat(filepath.Join(dir, "new1")); err == nil {
		t.Fatal("new1/ was left behind")
	}
}

// TestStaleTempFoldersAreOnlyOurs: a regular file named like the temp
// folder beside dest was removed, and a file system mounted there emptied.
func TestStaleTempFoldersAreOnlyOurs(t *testing.T) {
	dir := t.TempDir()
	makeZip(t, dir, zent{name: "a.md", data: []byte("x")})
	file := filepath.Join(dir, ".out.unzip-bbbbbbbbbbbb")
	os.WriteFile(file, []byte("a user's file"), 0o644)
	mounted := filepath.Join(dir, ".out.unzip-cccccccccccc")
	os.Mkdir(mounted, 0o755)
	mountTmpfs(t, mounted)
	os.WriteFile(filepath.Join(mounted, "keep.txt"), []byte("on another file system"), 0o644)
	if _, _, err := runTask(context.Background(), t, "unzip", dir, map[string]any{"src": "in.zip", "dest": "out"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); err != nil {
		t.Error("the regular file was removed")
	}
	if _, err := os.Stat(filepath.Join(mounted, "keep.txt")); err != nil {
		t.Error("the mount point was emptied")
	}
}

// TestS3GetIntoAnExistingDestIsOneChange: with a file system mounted
// inside dest, s3get failed after dest/a.txt was already replaced.
func TestS3GetIntoAnExistingDestIsOneChange(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "data/sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "data/a.txt"), []byte("NEW-A"), 0o644)
	os.WriteFile(filepath.Join(dir, "data/sub/b.txt"), []byte("NEW-B"), 0o644)
	if _, _, err := runTaskEnv(context.Background(), t, "s3put", dir, nil, map[string]any{"src": "data", "to": "file://store/20261101/"}); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "restored")
	os.MkdirAll(filepath.Join(dest, "sub"), 0o755)
	os.WriteFile(filepath.Join(dest, "a.txt"), []byte("OLD-A"), 0o644)
	mountTmpfs(t, filepath.Join(dest, "sub"))
	_, _, err := runTaskEnv(context.Background(), t, "s3get", dir, nil, map[string]any{"from": "file://store/20261101/", "dest": "restored"})
	if err == nil || !strings.Contains(err.Error(), "nothing was restored") {
		t.Fatalf("err = %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dest, "a.txt")); string(got) != "OLD-A" {
		t.Errorf("a.txt = %q", got)
	}
}

// TestLatestPassesOverASetWithAFlippedSHA256: one bit of a SHA-256 in the
// newest manifest (still hex) made `latest` take that set and fail, though
// an intact older set was there.
func TestLatestPassesOverASetWithAFlippedSHA256(t *testing.T) {
	dir := t.TempDir()
	backupSets(t, dir, nil, "file://offsite/weekly/", "20261122", "20261129")
	damage(t, dir, "20261129", func(b []byte) []byte {
		i := strings.Index(string(b), `"sha256": "`) + len(`"sha256": "`)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return b
	})
	out, log, err := runTaskEnv(context.Background(), t, "s3get", dir, nil, map[string]any{"from": "file://offsite/weekly/", "latest": true, "dest": "r"})
	if err != nil || !strings.HasSuffix(out["set"].(string), "20261122/") || !strings.Contains(log, "20261129 (damaged:") {
		t.Fatalf("%v %v\n%s", out["set"], err, log)
	}
}

// TestUnzipsIntoNestedDestsDoNotMix: an unzip into dest and one into
// dest/d9 at once both succeeded, and dest/d9 held files of both; the
// lock covered only the exact folder.
func TestUnzipsIntoNestedDestsDoNotMix(t *testing.T) {
	dir := t.TempDir()
	var outer, inner []zent
	for i := range 300 {
		outer = append(outer, zent{name: fmt.Sprintf("d9/f%03d.txt", i), data: []byte("outer")})
		inner = append(inner, zent{name: fmt.Sprintf("f%03d.txt", i), data: []byte("inner")})
	}
	makeZip(t, dir, outer...)
	os.Rename(filepath.Join(dir, "in.zip"), filepath.Join(dir, "outer.zip"))
	makeZip(t, dir, inner...)
	os.Rename(filepath.Join(dir, "in.zip"), filepath.Join(dir, "inner.zip"))
	os.MkdirAll(filepath.Join(dir, "dest/d9"), 0o755)
	for try := range 5 {
		var wg sync.WaitGroup
		for _, job := range [][2]string{{"outer.zip", "dest"}, {"inner.zip", "dest/d9"}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, _, err := runTask(context.Background(), t, "unzip", dir, map[string]any{"src": job[0], "dest": job[1], "overwrite": "always"}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		seen := map[string]int{}
		entries, _ := os.ReadDir(filepath.Join(dir, "dest/d9"))
		for _, e := range entries {
			data, _ := os.ReadFile(filepath.Join(dir, "dest/d9", e.Name()))
			seen[string(data)]++
		}
		if len(seen) != 1 {
			t.Fatalf("try %d: dest/d9 holds %v: a mix of both archives", try, seen)
		}
	}
}
