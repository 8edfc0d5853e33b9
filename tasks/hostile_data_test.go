package tasks_test

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/novelfactory/runner/internal/backupset"
)

// The cases of this file were found by a hostile tester against the built
// binary after the first fixes of issue 10 (docs/security.md).

// TestZipRefusesLinkLoops: la -> lb, lb -> la and me -> me were "left out:
// a symlink to nothing" and the zip succeeded.
func TestZipRefusesLinkLoops(t *testing.T) {
	for _, links := range []string{"keep", "follow"} {
		src := tree(t, map[string]string{"ep/1.md": "one"})
		os.Symlink("lb", filepath.Join(src, "ep/la"))
		os.Symlink("la", filepath.Join(src, "ep/lb"))
		_, _, err := runTask(context.Background(), t, "zip", src, map[string]any{"src": ".", "dest": "../x.zip", "links": links})
		if err == nil || !strings.Contains(err.Error(), "is a symlink loop") {
			t.Fatalf("links: %s: err = %v", links, err)
		}
	}
}

// TestZipWithoutDataIsEmpty: links alone, or an include that picks only a
// link, made "zipped 2 files, 0 B" — a backup with no data.
func TestZipWithoutDataIsEmpty(t *testing.T) {
	src := tree(t, nil)
	os.Mkdir(filepath.Join(src, "empty"), 0o755)
	os.Symlink(".", filepath.Join(src, "self"))
	os.Symlink("empty", filepath.Join(src, "d"))
	if _, _, err := runTask(context.Background(), t, "zip", src, map[string]any{"src": ".", "dest": "../x.zip"}); err == nil || !strings.Contains(err.Error(), "an empty backup is refused") {
		t.Fatalf("links only: %v", err)
	}
	src = tree(t, map[string]string{"a.md": "data"})
	os.Symlink("a.md", filepath.Join(src, "l"))
	if _, _, err := runTask(context.Background(), t, "zip", src, map[string]any{"src": ".", "dest": "../y.zip", "include": []any{"l"}}); err == nil {
		t.Fatal("include: [l] (a link to a file left out) was packed")
	}
}

// TestZipRefusesALinkToWhatItLeavesOut: a link to sub/a.txt with exclude:
// [sub] was stored and restored dangling, without a word; so was a link to
// a named pipe.
func TestZipRefusesALinkToWhatItLeavesOut(t *testing.T) {
	src := tree(t, map[string]string{"sub/a.txt": "a", "b.txt": "b"})
	os.Symlink("sub/a.txt", filepath.Join(src, "l"))
	_, _, err := runTask(context.Background(), t, "zip", src, map[string]any{"src": ".", "dest": "../x.zip", "exclude": []any{"sub"}})
	if err == nil || !strings.Contains(err.Error(), `"l": a symlink to sub/a.txt, which is not in the archive`) {
		t.Fatalf("err = %v", err)
	}
	src = tree(t, map[string]string{"b.txt": "b"})
	mkfifo(filepath.Join(src, "pipe"))
	os.Symlink("pipe", filepath.Join(src, "l"))
	if _, _, err := runTask(context.Background(), t, "zip", src, map[string]any{"src": ".", "dest": "../y.zip"}); err == nil || !strings.Contains(err.Error(), "not in the archive") {
		t.Fatalf("a link to a pipe: %v", err)
	}
}

// TestUnzipNamesConflictsForWhatTheyAre: raw errors ("mkdirat a: file
// exists", "statat a/b: not a directory") and advice to set the overwrite
// already set.
func TestUnzipNamesConflictsForWhatTheyAre(t *testing.T) {
	dir := t.TempDir()
	makeZip(t, dir, zent{name: "a", data: []byte("x")}, zent{name: "a/b", data: []byte("y")})
	if _, _, err := runTask(context.Background(), t, "unzip", dir, map[string]any{"src": "in.zip", "dest": "out"}); err == nil || !strings.Contains(err.Error(), `"a/b": it lies under "a", which the archive also holds as a file`) {
		t.Fatalf("a and a/b: %v", err)
	}
	dir = t.TempDir()
	makeZip(t, dir, zent{name: "a/b", data: []byte("y")}, zent{name: "c", data: []byte("z")})
	os.MkdirAll(filepath.Join(dir, "out/c"), 0o755)
	os.WriteFile(filepath.Join(dir, "out/a"), []byte("a file"), 0o644)
	_, _, err := runTask(context.Background(), t, "unzip", dir, map[string]any{"src": "in.zip", "dest": "out", "overwrite": "always"})
	if err == nil || !strings.Contains(err.Error(), "cannot be placed, whatever overwrite says") || !strings.Contains(err.Error(), "a/b (a folder above it is a file in the destination)") ||
		!strings.Contains(err.Error(), "c (a folder in the destination, a file in the archive)") || strings.Contains(err.Error(), "set overwrite") {
		t.Fatalf("err = %v", err)
	}
}

// TestUnzipCallsAnEncryptedEntryEncryptedOnly: 50 MB of zeros, encrypted,
// was also "compressed 1029:1 … (a zip bomb?)".
func TestUnzipCallsAnEncryptedEntryEncryptedOnly(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "z.bin", Method: zip.Deflate, Flags: 0x1}
	h.CompressedSize64, h.UncompressedSize64 = 50_000, 50<<20
	w, _ := zw.CreateRaw(h)
	w.Write(make([]byte, 50_000))
	zw.Close()
	os.WriteFile(filepath.Join(dir, "in.zip"), buf.Bytes(), 0o644)
	_, _, err := runTask(context.Background(), t, "unzip", dir, map[string]any{"src": "in.zip", "dest": "out"})
	if err == nil || !strings.Contains(err.Error(), "encrypted entries are not supported") || strings.Contains(err.Error(), "bomb") {
		t.Fatalf("err = %v", err)
	}
}

func TestUnzipCountsWhatIfNewerKept(t *testing.T) {
	dir := t.TempDir()
	makeZip(t, dir, zent{name: "a.txt", data: []byte("older, from the archive")})
	os.MkdirAll(filepath.Join(dir, "out"), 0o755)
	os.WriteFile(filepath.Join(dir, "out/a.txt"), []byte("newer"), 0o644)
	out, log, err := runTask(context.Background(), t, "unzip", dir, map[string]any{"src": "in.zip", "dest": "out", "overwrite": "if_newer"})
	if err != nil || out["kept"] != 1 || out["unchanged"] != 0 || !strings.Contains(log, "1 kept (newer in dest)") {
		t.Fatalf("%v %v\n%s", out, err, log)
	}
}

// TestNamedPipesNeverHang: a named pipe where a file is expected blocked
// open(2) for ever, and SIGTERM could not end it. A hang fails this test
// by the test binary's timeout.
func TestNamedPipesNeverHang(t *testing.T) {
	dir := t.TempDir()
	mkfifo(filepath.Join(dir, "pipe"))
	for name, run := range map[string]func() error{
		"s3put files": func() error {
			_, _, err := runTaskEnv(context.Background(), t, "s3put", dir, nil, map[string]any{"files": []any{"pipe"}, "to": "file://store/20261122/"})
			return err
		},
		"unzip src": func() error {
			_, _, err := runTask(context.Background(), t, "unzip", dir, map[string]any{"src": "pipe", "dest": "out"})
			return err
		},
		"load src": func() error {
			_, _, err := runTask(context.Background(), t, "load", dir, map[string]any{"kind": "sqlite", "src": "pipe", "database": "x.db"})
			return err
		},
	} {
		if err := run(); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A manifest.json that is a pipe: the set is damaged, passed over.
	backupSets(t, dir, nil, "file://offsite/weekly/", "20261115", "20261122")
	manifest := filepath.Join(dir, "offsite/weekly/20261122/manifest.json")
	os.Remove(manifest)
	mkfifo(manifest)
	if _, log, err := runTaskEnv(context.Background(), t, "s3get", dir, nil, map[string]any{"from": "file://offsite/weekly/", "latest": true, "dest": "r"}); err != nil || !strings.Contains(log, "20261122 (damaged:") {
		t.Fatalf("s3get: %v\n%s", err, log)
	}
	if out, _, err := runTaskEnv(context.Background(), t, "prune", dir, nil, map[string]any{"target": "file://offsite/weekly/", "keep_last": 1}); err != nil || len(out["damaged"].([]string)) != 1 {
		t.Fatalf("prune: %v %v", out, err)
	}
}

// TestPruneNeverKeepsAnUnrestorableSetOverRestorableOnes: with one bit
// flipped in the newest set, s3get refused it — and prune kept it as the
// newest complete set and deleted every older, restorable one.
func TestPruneNeverKeepsAnUnrestorableSetOverRestorableOnes(t *testing.T) {
	for name, spoil := range map[string]func(dir string){
		"a flipped bit in an object": func(dir string) {
			p := filepath.Join(dir, "offsite/weekly/20261129/Pilot-episodes.zip")
			b, _ := os.ReadFile(p)
			b[0] ^= 1
			os.WriteFile(p, b, 0o644)
		},
		"a flipped bit in the manifest's SHA-256": func(dir string) {
			damage(t, dir, "20261129", func(b []byte) []byte {
				i := bytes.Index(b, []byte(`"sha256": "`)) + len(`"sha256": "`)
				b[i] ^= 1 // '0'-'9' and 'a'-'f' stay hex with bit 0 flipped… mostly
				if c := b[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
					b[i] = '0'
				}
				return b
			})
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			backupSets(t, dir, nil, "file://offsite/weekly/", "20261115", "20261122", "20261129")
			spoil(dir)
			out, log, err := runTaskEnv(context.Background(), t, "prune", dir, nil, map[string]any{"target": "file://offsite/weekly/", "keep_last": 1})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(strings.Join(out["deleted"].([]string), ","), "20261122") || !strings.Contains(log, "keep   20261129 (damaged:") {
				t.Fatalf("the newest restorable set was deleted: %v\n%s", out, log)
			}
			if _, _, err := runTaskEnv(context.Background(), t, "s3get", dir, nil, map[string]any{"from": "file://offsite/weekly/", "set": "20261122", "dest": "r"}); err != nil {
				t.Fatalf("the set before is not restorable: %v", err)
			}
		})
	}
}

// TestAManifestFromTheFutureIsNotTheNewest: a set whose manifest says
// 2099 (a wrong clock) was restored as the latest, and prune deleted the
// sets really newer.
func TestAManifestFromTheFutureIsNotTheNewest(t *testing.T) {
	dir := t.TempDir()
	backupSets(t, dir, nil, "file://offsite/weekly/", "20261115", "20261122", "20261129")
	damage(t, dir, "20261115", func(b []byte) []byte {
		var m map[string]any
		json.Unmarshal(b, &m)
		m["created"] = "2099-01-01T00:00:00Z"
		out, _ := json.Marshal(m)
		return out
	})
	out, log, err := runTaskEnv(context.Background(), t, "s3get", dir, nil, map[string]any{"from": "file://offsite/weekly/", "latest": true, "dest": "r"})
	if err != nil || !strings.HasSuffix(out["set"].(string), "20261129/") {
		t.Fatalf("latest: %v %v\n%s", out["set"], err, log)
	}
	pruned, log, err := runTaskEnv(context.Background(), t, "prune", dir, nil, map[string]any{"target": "file://offsite/weekly/", "keep_last": 1})
	if err != nil || strings.Contains(strings.Join(pruned["deleted"].([]string), ","), "20261129") || !strings.Contains(log, "in the future of this machine's clock") {
		t.Fatalf("prune: %v %v\n%s", pruned, err, log)
	}
}

// TestPruneDeletesOnlyTheObjectsRunnerWrote: s3put wrote a set into a
// folder holding thesis.docx, and prune deleted it with the set; a file
// added to a set by hand went with it too.
func TestPruneDeletesOnlyTheObjectsRunnerWrote(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "area/documents"), 0o755)
	os.WriteFile(filepath.Join(dir, "area/documents/thesis.docx"), []byte("years of work"), 0o644)
	os.WriteFile(filepath.Join(dir, "graph.dump"), []byte("graph"), 0o644)
	_, _, err := runTaskEnv(context.Background(), t, "s3put", dir, nil, map[string]any{"files": []any{"graph.dump"}, "to": "file://area/documents/"})
	if err == nil || !strings.Contains(err.Error(), "already holds thesis.docx, which runner did not write") {
		t.Fatalf("s3put into a folder of someone else's: %v", err)
	}

	backupSets(t, dir, nil, "file://offsite/weekly/", "20261115", "20261122")
	precious := filepath.Join(dir, "offsite/weekly/20261115/precious/notes.txt")
	os.MkdirAll(filepath.Dir(precious), 0o755)
	os.WriteFile(precious, []byte("mine"), 0o644)
	out, log, err := runTaskEnv(context.Background(), t, "prune", dir, nil, map[string]any{"target": "file://offsite/weekly/", "keep_last": 1})
	if err != nil || len(out["deleted"].([]string)) != 1 {
		t.Fatalf("%v %v", out, err)
	}
	if _, err := os.Stat(precious); err != nil || !strings.Contains(log, "left 20261115/precious/notes.txt: runner did not write it") {
		t.Fatalf("the hand-added file: %v\n%s", err, log)
	}
	// The folder stays runner's: the next prune is not refused for it.
	if _, _, err := runTaskEnv(context.Background(), t, "prune", dir, nil, map[string]any{"target": "file://offsite/weekly/", "keep_last": 1}); err != nil {
		t.Fatalf("the next prune: %v", err)
	}
	// A second run into the same set is fine: the folder is runner's.
	if _, _, err := runTaskEnv(context.Background(), t, "s3put", dir, nil, map[string]any{"files": []any{"graph.dump"}, "to": "file://offsite/weekly/20261122/"}); err != nil {
		t.Fatalf("s3put again into runner's set: %v", err)
	}
	var m backupset.Marker
	data, _ := os.ReadFile(filepath.Join(dir, "offsite/weekly/20261122", backupset.MarkerName))
	json.Unmarshal(data, &m)
	if strings.Join(m.Keys, ",") != "Pilot-episodes.zip,graph.dump" {
		t.Fatalf("the marker lists %v: the earlier run's objects must stay listed", m.Keys)
	}
}

// TestS3GetTouchesNothingUntilAllIsVerified: after "nothing was restored",
// dest and its sub-folders had been created.
func TestS3GetTouchesNothingUntilAllIsVerified(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "data/sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "data/a.txt"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(dir, "data/sub/b.txt"), []byte("b"), 0o644)
	if _, _, err := runTaskEnv(context.Background(), t, "s3put", dir, nil, map[string]any{"src": "data", "to": "file://store/20261101/"}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "store/20261101/sub/b.txt"), []byte("c"), 0o644) // same size, other bytes
	_, _, err := runTaskEnv(context.Background(), t, "s3get", dir, nil, map[string]any{"from": "file://store/20261101/", "dest": "restored"})
	if err == nil || !strings.Contains(err.Error(), "nothing was restored") {
		t.Fatalf("err = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Fatalf("the folder holds %v: dest or a temp folder was left", entries)
	}
	os.Mkdir(filepath.Join(dir, "restored"), 0o755)
	runTaskEnv(context.Background(), t, "s3get", dir, nil, map[string]any{"from": "file://store/20261101/", "dest": "restored"})
	if entries, _ := os.ReadDir(filepath.Join(dir, "restored")); len(entries) != 0 {
		t.Fatalf("dest got %v", entries)
	}
}

// TestLoadSQLiteRefusesADamagedSchema: a target whose schema page was
// zeroed reads as "no tables", with 100 rows still on disk; it was
// replaced.
func TestLoadSQLiteRefusesADamagedSchema(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "dump.db")
	db, _ := sql.Open("sqlite", src)
	db.Exec(`CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('from the dump')`)
	db.Close()
	target := filepath.Join(dir, "target.db")
	db, _ = sql.Open("sqlite", target)
	db.Exec(`CREATE TABLE precious (x TEXT)`)
	for i := 0; i < 100; i++ {
		db.Exec(`INSERT INTO precious VALUES ('irreplaceable')`)
	}
	db.Close()
	b, _ := os.ReadFile(target)
	b[100] = 0x0D
	copy(b[101:108], []byte{0, 0, 0, 0, 0x10, 0, 0})
	for i := 108; i < 4096; i++ {
		b[i] = 0
	}
	os.WriteFile(target, b, 0o644)
	_, _, err := runTaskEnv(context.Background(), t, "load", dir, nil, map[string]any{"kind": "sqlite", "src": "dump.db", "database": target})
	if err == nil || !strings.Contains(err.Error(), "refusing to replace it") {
		t.Fatalf("err = %v", err)
	}
	if got, _ := os.ReadFile(target); !bytes.Equal(got, b) {
		t.Fatal("the damaged database was replaced")
	}
}
