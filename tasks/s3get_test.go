package tasks_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// backupSets writes sets with s3put into the target and returns the files' bytes.
func backupSets(t *testing.T, dir string, env []string, to string, names ...string) map[string][]byte {
	t.Helper()
	want := map[string][]byte{}
	for i, name := range names {
		files := map[string][]byte{
			"graph.dump":         bytes.Repeat([]byte{byte(i)}, 12<<20+3), // several ranges
			"Pilot-episodes.zip": []byte("제1화 " + name),
		}
		src := filepath.Join(dir, "src-"+name)
		os.MkdirAll(src, 0o755)
		for f, data := range files {
			os.WriteFile(filepath.Join(src, f), data, 0o644)
		}
		with := map[string]any{"src": src, "to": to + name + "/", "path_style": true}
		if _, _, err := runTaskEnv(context.Background(), t, "s3put", dir, env, with); err != nil {
			t.Fatal(err)
		}
		want = files
	}
	return want
}

func TestS3GetTakesTheNewestCompleteSetAndVerifiesIt(t *testing.T) {
	for _, target := range []string{"file", "s3"} {
		t.Run(target, func(t *testing.T) {
			dir := t.TempDir()
			to, env := weeklyTarget(t, target)
			want := backupSets(t, dir, env, to, "20261115", "20261122")
			if target == "file" {
				// A newer set whose backup never finished: no manifest.
				os.MkdirAll(filepath.Join(dir, "offsite/weekly/20261129"), 0o755)
				os.WriteFile(filepath.Join(dir, "offsite/weekly/20261129/graph.dump"), []byte("half"), 0o644)
			}
			with := map[string]any{"from": to, "latest": true, "dest": "restore", "path_style": true, "part_size": "5MiB", "concurrency": 3}
			out, log, err := runTaskEnv(context.Background(), t, "s3get", dir, env, with)
			if err != nil {
				t.Fatalf("%v\n%s", err, log)
			}
			if out["set"] != to+"20261122/" {
				t.Fatalf("set %v", out["set"])
			}
			if target == "file" && !strings.Contains(log, "passed over newer sets: 20261129 (incomplete: no manifest.json); using 20261122") {
				t.Errorf("log does not say which set was passed over:\n%s", log)
			}
			for name, data := range want {
				if got, err := os.ReadFile(filepath.Join(dir, "restore", name)); err != nil || !bytes.Equal(got, data) {
					t.Errorf("%s differs (%v)", name, err)
				}
			}
			again, log, err := runTaskEnv(context.Background(), t, "s3get", dir, env, with)
			if err != nil || strings.Count(log, "already here") != 2 || again["bytes"] != out["bytes"] {
				t.Fatalf("second download: %v\n%s", err, log)
			}
		})
	}
}

func TestS3GetRefusesACorruptObjectBeforeTouchingDest(t *testing.T) {
	dir := t.TempDir()
	backupSets(t, dir, nil, "file://offsite/weekly/", "20261122")
	stored := filepath.Join(dir, "offsite/weekly/20261122/graph.dump")
	data, _ := os.ReadFile(stored)
	data[len(data)/2] ^= 0x01 // one flipped bit
	os.WriteFile(stored, data, 0o644)
	dest := filepath.Join(dir, "restore")
	os.Mkdir(dest, 0o755)
	// By name: the download finds the object corrupt, naming it.
	_, _, err := runTaskEnv(context.Background(), t, "s3get", dir, nil, map[string]any{"from": "file://offsite/weekly/20261122/", "dest": "restore"})
	if err == nil || !strings.Contains(err.Error(), "object file://offsite/weekly/20261122/graph.dump is corrupt") {
		t.Fatalf("got %v", err)
	}
	// The newest: the set is checked first and passed over, naming the object.
	_, _, err = runTaskEnv(context.Background(), t, "s3get", dir, nil, map[string]any{"from": "file://offsite/weekly/", "latest": true, "dest": "restore"})
	if err == nil || !strings.Contains(err.Error(), "20261122 (damaged: graph.dump has SHA-256") {
		t.Fatalf("got %v", err)
	}
	if entries, _ := os.ReadDir(dest); len(entries) != 0 {
		t.Fatalf("dest got files from a corrupt set: %v", entries)
	}
}

func TestS3GetNamedAndIncompleteSets(t *testing.T) {
	dir := t.TempDir()
	backupSets(t, dir, nil, "file://offsite/weekly/", "20261115", "20261122")
	out, _, err := runTaskEnv(context.Background(), t, "s3get", dir, nil, map[string]any{"from": "file://offsite/weekly/", "set": "20261115", "dest": "r"})
	if err != nil || out["set"] != "file://offsite/weekly/20261115/" {
		t.Fatalf("%v %v", out, err)
	}
	os.Remove(filepath.Join(dir, "offsite/weekly/20261122/manifest.json"))
	_, _, err = runTaskEnv(context.Background(), t, "s3get", dir, nil, map[string]any{"from": "file://offsite/weekly/", "set": "20261122", "dest": "r"})
	if err == nil || !strings.Contains(err.Error(), "set 20261122 under file://offsite/weekly/ is incomplete") {
		t.Fatalf("got %v", err)
	}
	_, _, err = runTaskEnv(context.Background(), t, "s3get", dir, nil, map[string]any{"from": "file://offsite/weekly/20261122/", "dest": "r"})
	if err == nil || !strings.Contains(err.Error(), "has no manifest.json") {
		t.Fatalf("got %v", err)
	}
}

func TestS3GetOneObject(t *testing.T) {
	for _, target := range []string{"file", "s3"} {
		t.Run(target, func(t *testing.T) {
			dir := t.TempDir()
			to, env := weeklyTarget(t, target)
			want := backupSets(t, dir, env, to, "20261122")
			out, log, err := runTaskEnv(context.Background(), t, "s3get", dir, env, map[string]any{
				"from": to + "20261122/graph.dump", "dest": "one", "path_style": true, "part_size": "5MiB",
			})
			if err != nil {
				t.Fatalf("%v\n%s", err, log)
			}
			if got, _ := os.ReadFile(filepath.Join(dir, "one/graph.dump")); !bytes.Equal(got, want["graph.dump"]) || len(out["files"].([]string)) != 1 {
				t.Fatalf("outputs %v", out)
			}
			if out["set"] != to+"20261122/" {
				t.Errorf("set %v", out["set"])
			}
		})
	}
}
