package tasks_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	_ "modernc.org/sqlite"
)

// standins returns the absolute path of testdata/bin, where stand-ins for
// neo4j-admin and docker live: Neo4j cannot run on our machines, so the
// neo4j dump is tested against a script that checks its arguments exactly
// as neo4j-admin's contract says and writes a file.
func standins(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("testdata/bin")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestDumpNeo4jUsesEachVersionsSyntax(t *testing.T) {
	bin := standins(t)
	for _, c := range []struct{ version, want string }{{"4.4.30", "NEO4J-4.4-DUMP neo4j\n"}, {"5.26.0", "NEO4J-5-DUMP neo4j\n"}} {
		t.Run(c.version, func(t *testing.T) {
			dir := t.TempDir()
			dest := filepath.Join(dir, "neo4j-20261129.dump")
			os.WriteFile(dest, []byte("last week's dump"), 0o644) // 4.4 would refuse to overwrite it
			env := append(os.Environ(), "NEO4J_STANDIN_VERSION="+c.version)
			out, log, err := runTaskEnv(context.Background(), t, "dump", dir, env, map[string]any{
				"kind": "neo4j", "database": "neo4j", "dest": dest, "neo4j_admin": []any{bin + "/neo4j-admin"},
			})
			if err != nil {
				t.Fatalf("%v\n%s", err, log)
			}
			if got, _ := os.ReadFile(dest); string(got) != c.want || out["bytes"] != int64(len(c.want)) {
				t.Fatalf("dump = %q, outputs %v", got, out)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("temporary files left: %v", entries)
			}
		})
	}
}

func TestDumpNeo4jInAOneOffContainer(t *testing.T) {
	bin := standins(t)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH")) // `docker` is the stand-in
	dir := t.TempDir()
	dest := filepath.Join(dir, "graph.dump")
	_, log, err := runTaskEnv(context.Background(), t, "dump", dir, os.Environ(), map[string]any{
		"kind": "neo4j", "database": "neo4j", "dest": dest, "neo4j_image": "neo4j:5.26-community", "neo4j_volume": "factory_neo4j_data",
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if got, _ := os.ReadFile(dest); string(got) != "NEO4J-5-DUMP neo4j\n" {
		t.Fatalf("dump = %q", got)
	}
}

func TestDumpNeo4jFailuresSayWhatToDo(t *testing.T) {
	bin := standins(t)
	cases := map[string]string{
		"in-use":      "Community edition can dump only a stopped database",
		"logical-log": "not shut down cleanly",
		"format":      "use the image of the server's exact version",
	}
	for fail, want := range cases {
		t.Run(fail, func(t *testing.T) {
			dir := t.TempDir()
			dest := filepath.Join(dir, "graph.dump")
			os.WriteFile(dest, []byte("last good"), 0o644)
			_, _, err := runTaskEnv(context.Background(), t, "dump", dir, append(os.Environ(), "NEO4J_STANDIN_FAIL="+fail), map[string]any{
				"kind": "neo4j", "database": "neo4j", "dest": dest, "neo4j_admin": []any{bin + "/neo4j-admin"},
			})
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("got %v, want …%s…", err, want)
			}
			if got, _ := os.ReadFile(dest); string(got) != "last good" {
				t.Fatalf("the last good dump was replaced: %q", got)
			}
		})
	}
}

// postgresURL is the server .ci/postgres.sh starts.
func postgresURL() string {
	if u := os.Getenv("RUNNER_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://runner:runner-test-pw@127.0.0.1:5432/postgres"
}

func psql(t *testing.T, dsn, sql string) string {
	t.Helper()
	out, err := exec.Command("psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", dsn, "-c", sql).CombinedOutput()
	if err != nil {
		t.Fatalf("psql %q: %v\n%s\n(start PostgreSQL with: bash .ci/postgres.sh)", sql, err, out)
	}
	return strings.TrimSpace(string(out))
}

func withDB(dsn, db string) string {
	i := strings.LastIndex(dsn, "/")
	return dsn[:i+1] + db
}

// TestDumpPostgres dumps 100,000 rows of Korean text from a real PostgreSQL
// and restores them into a new database: every row comes back.
func TestDumpPostgres(t *testing.T) {
	admin := postgresURL()
	src, dst := fmt.Sprintf("dump_src_%d", os.Getpid()), fmt.Sprintf("dump_dst_%d", os.Getpid())
	for _, db := range []string{src, dst} {
		psql(t, admin, "DROP DATABASE IF EXISTS "+db)
		psql(t, admin, "CREATE DATABASE "+db)
		t.Cleanup(func() { exec.Command("psql", admin, "-c", "DROP DATABASE IF EXISTS "+db).Run() })
	}
	psql(t, withDB(admin, src), `CREATE TABLE episodes (id int PRIMARY KEY, title text, body text);
		INSERT INTO episodes SELECT i, '제' || i || '화', repeat('하윤은 펜을 들었다. ', 1 + i % 7) FROM generate_series(1, 100000) i`)
	dir := t.TempDir()
	dest := filepath.Join(dir, "novels.pgdump")
	out, log, err := runTaskEnv(context.Background(), t, "dump", dir, os.Environ(), map[string]any{"kind": "postgres", "database": withDB(admin, src), "dest": dest})
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if strings.Contains(log, "runner-test-pw") {
		t.Error("the password reached the log")
	}
	if out["bytes"].(int64) < 1000 {
		t.Fatalf("outputs %v", out)
	}
	if msg, err := exec.Command("pg_restore", "--no-owner", "--dbname="+withDB(admin, dst), dest).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, msg)
	}
	sum := "SELECT count(*) || ':' || md5(string_agg(id || title || body, ',' ORDER BY id)) FROM episodes"
	if a, b := psql(t, withDB(admin, src), sum), psql(t, withDB(admin, dst), sum); a != b || !strings.HasPrefix(a, "100000:") {
		t.Fatalf("source %s, restored %s", a, b)
	}
}

func TestDumpPostgresWithAWrongPassword(t *testing.T) {
	dir := t.TempDir()
	bad := strings.Replace(postgresURL(), "runner-test-pw", "wrong-password-123", 1)
	_, _, err := runTaskEnv(context.Background(), t, "dump", dir, os.Environ(), map[string]any{"kind": "postgres", "database": bad, "dest": filepath.Join(dir, "x.dump")})
	if err == nil || !strings.Contains(err.Error(), "check the user and password") {
		t.Fatalf("got %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left: %v", entries)
	}
}

// TestDumpSQLiteWhileAWriterInserts: the copy is consistent — it passes
// integrity_check and holds an unbroken run of rows — though a writer
// commits all the while, in either journal mode. (In rollback-journal mode
// the copy's read lock makes a committing writer wait, so the writer has a
// busy timeout, as a live application should; in WAL mode it never waits.)
func TestDumpSQLiteWhileAWriterInserts(t *testing.T) {
	for _, mode := range []string{"delete", "wal"} {
		t.Run(mode, func(t *testing.T) { dumpWhileWriting(t, mode) })
	}
}

func dumpWhileWriting(t *testing.T, journal string) {
	dir := t.TempDir()
	src := filepath.Join(dir, "story.db")
	db, err := sql.Open("sqlite", "file:"+src+"?_pragma=busy_timeout(30000)&_pragma=journal_mode("+journal+")")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE characters (id INTEGER PRIMARY KEY, name TEXT, bio TEXT)`); err != nil {
		t.Fatal(err)
	}
	var inserted atomic.Int64
	stop := make(chan struct{})
	done := make(chan error)
	going := make(chan struct{}) // closed after the 200th insert
	go func() {
		for i := 1; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if _, err := db.Exec(`INSERT INTO characters VALUES (?, ?, ?)`, i, fmt.Sprintf("하윤 %d", i), strings.Repeat("등불을 든 사서. ", 50)); err != nil {
				done <- err
				return
			}
			inserted.Store(int64(i))
			if i == 200 {
				close(going)
			}
		}
	}()
	<-going
	dest := filepath.Join(dir, "story-copy.db")
	_, _, err = runTaskEnv(context.Background(), t, "dump", dir, nil, map[string]any{"kind": "sqlite", "database": "story.db", "dest": dest})
	close(stop)
	if werr := <-done; werr != nil {
		t.Fatal(werr)
	}
	if err != nil {
		t.Fatal(err)
	}
	copyDB, _ := sql.Open("sqlite", dest)
	defer copyDB.Close()
	var n, maxID int64
	var check string
	copyDB.QueryRow(`PRAGMA integrity_check`).Scan(&check)
	copyDB.QueryRow(`SELECT count(*), coalesce(max(id), 0) FROM characters`).Scan(&n, &maxID)
	if check != "ok" || n < 200 || n != maxID {
		t.Fatalf("copy: integrity %q, %d rows, max id %d (want an unbroken run of at least 200)", check, n, maxID)
	}
}
