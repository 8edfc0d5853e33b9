package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	_ "modernc.org/sqlite"
)

// s3Args points a recipe at the S3 server process.
func s3Args(s3 *s3Server) []string {
	return []string{"--set", "endpoint=" + s3.endpoint, "--set", "path_style=true"}
}

func sqliteRows(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out strings.Builder
	for _, table := range []string{"characters", "relations", "places", "foreshadowing"} {
		rows, err := db.Query("SELECT * FROM " + table + " ORDER BY 1")
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			rows.Scan(ptrs...)
			fmt.Fprintln(&out, table, vals)
		}
		rows.Close()
	}
	return out.String()
}

// TestRestoreOnAFreshDirectory backs the example up to the S3 server
// process and restores it into an empty folder, as a user on a new machine
// would: every episode comes back byte for byte, the graph with every row.
func TestRestoreOnAFreshDirectory(t *testing.T) {
	s3 := startS3(t, "factory")
	dir := t.TempDir()
	copyTree(t, dir)
	env := baseEnv(s3.env...)
	backup := runner(t, dir, env, append([]string{"apply", "recipes/weekly-backup.yaml", "--set", "target=s3://factory/weekly"}, s3Args(s3)...)...)
	if backup.code != 0 {
		t.Fatalf("backup: %d\n%s", backup.code, backup.stdout)
	}
	fresh := filepath.Join(t.TempDir(), "fresh")
	restore := runner(t, dir, env, append([]string{"apply", "recipes/restore.yaml", "--set", "source=s3://factory/weekly", "--set", "dest=" + fresh}, s3Args(s3)...)...)
	if restore.code != 0 || !strings.Contains(restore.stdout, "RESTORED: set s3://factory/weekly/") {
		t.Fatalf("restore: %d\n%s", restore.code, restore.stdout)
	}
	originals, _ := filepath.Glob(filepath.Join(dir, "examples/factory/projects/*/episodes/*.md"))
	if len(originals) != 5 {
		t.Fatalf("%d example episodes", len(originals))
	}
	for _, orig := range originals {
		rel, _ := filepath.Rel(filepath.Join(dir, "examples/factory"), orig)
		got, err := os.ReadFile(filepath.Join(fresh, rel))
		want, _ := os.ReadFile(orig)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: not restored byte for byte (%v)", rel, err)
		}
	}
	if a, b := sqliteRows(t, filepath.Join(dir, "examples/factory/graph/story.db")), sqliteRows(t, filepath.Join(fresh, "graph/story.db")); a != b || a == "" {
		t.Errorf("graph differs:\n%s\nvs\n%s", a, b)
	}
}

func TestRestorePostgresFromTheS3Server(t *testing.T) {
	s3 := startS3(t, "factory")
	admin := postgresURL()
	name := fmt.Sprintf("restore_pg_%d", os.Getpid())
	dsn := admin[:strings.LastIndex(admin, "/")+1] + name
	psql := func(url, q string) string {
		out, err := exec.Command("psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", url, "-c", q).CombinedOutput()
		if err != nil {
			t.Fatalf("psql %s: %v\n%s", q, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	psql(admin, "DROP DATABASE IF EXISTS "+name)
	psql(admin, "CREATE DATABASE "+name)
	t.Cleanup(func() { exec.Command("psql", admin, "-c", "DROP DATABASE IF EXISTS "+name).Run() })
	psql(dsn, `CREATE TABLE characters (id int PRIMARY KEY, name text); INSERT INTO characters SELECT i, '하윤 ' || i FROM generate_series(1, 20000) i;
		CREATE TABLE places (id int PRIMARY KEY, name text); INSERT INTO places VALUES (1, '서고'), (2, '대장간')`)
	sum := `SELECT (SELECT md5(string_agg(id || name, ',' ORDER BY id)) FROM characters) || (SELECT md5(string_agg(id || name, ',' ORDER BY id)) FROM places)`
	before := psql(dsn, sum)

	dir := t.TempDir()
	copyTree(t, dir)
	env := baseEnv(s3.env...)
	vars := []string{"--set", "db_kind=postgres", "--set", "database=" + dsn}
	backup := runner(t, dir, env, append(append([]string{"apply", "recipes/weekly-backup.yaml", "--set", "target=s3://factory/weekly"}, vars...), s3Args(s3)...)...)
	if backup.code != 0 {
		t.Fatalf("backup: %d\n%s", backup.code, backup.stdout)
	}
	psql(admin, "DROP DATABASE "+name) // the machine is new: the database is gone
	fresh := filepath.Join(t.TempDir(), "fresh")
	restore := runner(t, dir, env, append(append([]string{"apply", "recipes/restore.yaml", "--set", "source=s3://factory/weekly", "--set", "dest=" + fresh}, vars...), s3Args(s3)...)...)
	if restore.code != 0 {
		t.Fatalf("restore: %d\n%s", restore.code, restore.stdout)
	}
	if after := psql(dsn, sum); after != before {
		t.Fatalf("rows differ after the restore: %s vs %s", after, before)
	}
	if strings.Contains(backup.stdout+restore.stdout, "runner-test-pw") {
		t.Error("the database password reached the output")
	}
}

func TestRestoreRefusesACorruptSetAndPassesOverAnIncompleteOne(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	for _, stamp := range []string{"20261115", "20261122"} {
		if res := runner(t, dir, baseEnv(), "apply", "recipes/weekly-backup.yaml", "--set", "stamp="+stamp); res.code != 0 {
			t.Fatalf("backup %s: %d\n%s", stamp, res.code, res.stdout)
		}
	}
	offsite := filepath.Join(dir, "build/offsite/weekly")
	zip := filepath.Join(offsite, "20261122/Pilot-episodes.zip")
	data, _ := os.ReadFile(zip)
	data[len(data)/2] ^= 0xff
	os.WriteFile(zip, data, 0o644)
	fresh := filepath.Join(t.TempDir(), "fresh")
	// Asked for by name, the corrupt set stops the restore before the
	// destination exists, naming the object.
	res := runner(t, dir, baseEnv(), "apply", "recipes/restore.yaml", "--set", "dest="+fresh, "--set", "set=20261122")
	if res.code != 1 || !strings.Contains(res.stdout, "object file://../build/offsite/weekly/20261122/Pilot-episodes.zip is corrupt") {
		t.Fatalf("exit %d\n%s", res.code, res.stdout)
	}
	if _, err := os.Stat(fresh); err == nil {
		t.Fatal("a corrupt set touched the destination")
	}
	// The newest set is checked before it is trusted: passed over, saying why.
	res = runner(t, dir, baseEnv(), "apply", "recipes/restore.yaml", "--set", "dest="+fresh)
	if res.code != 0 || !strings.Contains(res.stdout, "20261122 (damaged: Pilot-episodes.zip has SHA-256") ||
		!strings.Contains(res.stdout, "RESTORED: set file://../build/offsite/weekly/20261115/") {
		t.Fatalf("exit %d\n%s", res.code, res.stdout)
	}
	os.RemoveAll(fresh)
	// Without its manifest, the newest set is incomplete: the one before is restored, and the log says so.
	os.Remove(filepath.Join(offsite, "20261122/manifest.json"))
	res = runner(t, dir, baseEnv(), "apply", "recipes/restore.yaml", "--set", "dest="+fresh)
	if res.code != 0 || !strings.Contains(res.stdout, "passed over newer sets: 20261122 (incomplete: no manifest.json); using 20261115") ||
		!strings.Contains(res.stdout, "RESTORED: set file://../build/offsite/weekly/20261115/") {
		t.Fatalf("exit %d\n%s", res.code, res.stdout)
	}
}

// postgresURL is the server .ci/postgres.sh starts.
func postgresURL() string {
	if u := os.Getenv("RUNNER_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://runner:runner-test-pw@127.0.0.1:5432/postgres"
}

// TestRestoreResumesAfterKill9MidDownload kills runner while it downloads
// the set (the proxy holds the download open), then resumes: the restore
// finishes and no temporary file is left anywhere.
func TestRestoreResumesAfterKill9MidDownload(t *testing.T) {
	s3 := startS3(t, "factory")
	dir := t.TempDir()
	copyTree(t, dir)
	env := baseEnv(s3.env...)
	if res := runner(t, dir, env, append([]string{"apply", "recipes/weekly-backup.yaml", "--set", "target=s3://factory/weekly"}, s3Args(s3)...)...); res.code != 0 {
		t.Fatalf("backup: %d\n%s", res.code, res.stdout)
	}
	downloading := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	proxy := newFaultProxy(t, s3.endpoint, func(n int64, r *http.Request) string {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, ".zip") {
			once.Do(func() { close(downloading) })
			<-release // hold the download until runner is dead
		}
		return ""
	})
	defer close(release)
	fresh := filepath.Join(t.TempDir(), "fresh")
	args := []string{"apply", "recipes/restore.yaml", "--set", "source=s3://factory/weekly", "--set", "dest=" + fresh, "--set", "path_style=true"}
	cmd := exec.Command(runnerBin, append(args, "--set", "endpoint="+proxy)...)
	cmd.Dir, cmd.Env = dir, env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	<-downloading
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	res := runner(t, dir, env, append(args, "--resume", "--set", "endpoint="+s3.endpoint)...)
	if res.code != 0 || !strings.Contains(res.stdout, "RESTORED: set s3://factory/weekly/") {
		t.Fatalf("resume: %d\n%s", res.code, res.stdout)
	}
	for _, root := range []string{fresh, filepath.Join(dir, "build")} {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.Contains(d.Name(), ".tmp-") {
				t.Errorf("temporary file left: %s", p)
			}
			return nil
		})
	}
	if got, _ := filepath.Glob(filepath.Join(fresh, "projects/*/episodes/*.md")); len(got) != 5 {
		t.Fatalf("%d episodes restored", len(got))
	}
}

// TestAnEpisodesFolderOnAnotherDiskIsBackedUp: a project whose episodes
// folder is a symlink (episodes kept on another disk) was zipped as "0
// files", uploaded as a complete set, and the recipe printed PASS. Now it
// is backed up and restored byte for byte; a project with no episodes
// fails the backup instead of passing it.
func TestAnEpisodesFolderOnAnotherDiskIsBackedUp(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	episodes := filepath.Join(dir, "examples/factory/projects/Pilot/episodes")
	elsewhere := filepath.Join(t.TempDir(), "disk2-Pilot-episodes")
	if err := os.Rename(episodes, elsewhere); err != nil {
		t.Fatal(err)
	}
	os.Symlink(elsewhere, episodes)
	backup := runner(t, dir, baseEnv(), "apply", "recipes/weekly-backup.yaml")
	if backup.code != 0 || !strings.Contains(backup.stdout, "PASS") {
		t.Fatalf("backup: %d\n%s", backup.code, backup.stdout)
	}
	fresh := filepath.Join(t.TempDir(), "fresh")
	if restore := runner(t, dir, baseEnv(), "apply", "recipes/restore.yaml", "--set", "dest="+fresh); restore.code != 0 {
		t.Fatalf("restore: %d\n%s", restore.code, restore.stdout)
	}
	originals, _ := filepath.Glob(filepath.Join(elsewhere, "*.md"))
	if len(originals) == 0 {
		t.Fatal("no episodes in the example project")
	}
	for _, orig := range originals {
		got, err := os.ReadFile(filepath.Join(fresh, "projects/Pilot/episodes", filepath.Base(orig)))
		want, _ := os.ReadFile(orig)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: not restored byte for byte (%v)", filepath.Base(orig), err)
		}
	}

	// An empty episodes folder is not a backup.
	os.MkdirAll(filepath.Join(dir, "examples/factory/projects/Empty/episodes"), 0o755)
	res := runner(t, dir, baseEnv(), "apply", "recipes/weekly-backup.yaml", "--set", "stamp=20261206")
	if res.code != 1 || strings.Contains(res.stdout, "PASS") || !strings.Contains(res.stdout, "an empty backup is refused") {
		t.Fatalf("backup with an empty project: %d\n%s", res.code, res.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "build/offsite/weekly/20261206/manifest.json")); err == nil {
		t.Fatal("a set was completed without the empty project's episodes")
	}
}
