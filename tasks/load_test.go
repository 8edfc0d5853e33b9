package tasks_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// neo4jStandin gives the environment of the neo4j-admin stand-in of a
// version, whose data folder is dir/data.
func neo4jStandin(dir, version string) (env []string, data string) {
	data = filepath.Join(dir, "data")
	os.Mkdir(data, 0o755)
	return append(os.Environ(), "NEO4J_STANDIN_VERSION="+version, "NEO4J_STANDIN_DATA="+data), data
}

func TestLoadNeo4jUsesEachVersionsSyntax(t *testing.T) {
	bin := standins(t)
	for _, version := range []string{"4.4.30", "5.26.0"} {
		t.Run(version, func(t *testing.T) {
			dir := t.TempDir()
			env, data := neo4jStandin(dir, version)
			admin := []any{bin + "/neo4j-admin"}
			dump := filepath.Join(dir, "neo4j-20261129.dump")
			if _, _, err := runTaskEnv(context.Background(), t, "dump", dir, env, map[string]any{"kind": "neo4j", "database": "neo4j", "dest": dump, "neo4j_admin": admin}); err != nil {
				t.Fatal(err)
			}
			load := map[string]any{"kind": "neo4j", "database": "neo4j", "src": dump, "neo4j_admin": admin}
			if _, log, err := runTaskEnv(context.Background(), t, "load", dir, env, load); err != nil {
				t.Fatalf("%v\n%s", err, log)
			}
			if got, _ := os.ReadFile(filepath.Join(data, "neo4j")); !strings.HasPrefix(string(got), "NEO4J-") {
				t.Fatalf("loaded %q", got)
			}
			_, _, err := runTaskEnv(context.Background(), t, "load", dir, env, load)
			if err == nil || !strings.Contains(err.Error(), "set overwrite: true") {
				t.Fatalf("second load without overwrite: %v", err)
			}
			load["overwrite"] = true
			if _, _, err := runTaskEnv(context.Background(), t, "load", dir, env, load); err != nil {
				t.Fatalf("load with overwrite: %v", err)
			}
		})
	}
}

func TestLoadSQLiteReplacesOnlyWithOverwrite(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "dump.db")
	db, _ := sql.Open("sqlite", src)
	db.Exec(`CREATE TABLE characters (name TEXT); INSERT INTO characters VALUES ('하윤'), ('도윤')`)
	db.Close()
	target := filepath.Join(dir, "live", "story.db")
	if _, _, err := runTaskEnv(context.Background(), t, "load", dir, nil, map[string]any{"kind": "sqlite", "src": "dump.db", "database": target}); err != nil {
		t.Fatal(err)
	}
	check, _ := sql.Open("sqlite", target)
	var n int
	check.QueryRow(`SELECT count(*) FROM characters`).Scan(&n)
	check.Close()
	if n != 2 {
		t.Fatalf("%d rows", n)
	}
	_, _, err := runTaskEnv(context.Background(), t, "load", dir, nil, map[string]any{"kind": "sqlite", "src": "dump.db", "database": target})
	if err == nil || !strings.Contains(err.Error(), "already holds 1 tables: set overwrite: true") {
		t.Fatalf("got %v", err)
	}
	os.WriteFile(filepath.Join(dir, "bad.db"), []byte("not a database"), 0o644)
	_, _, err = runTaskEnv(context.Background(), t, "load", dir, nil, map[string]any{"kind": "sqlite", "src": "bad.db", "database": target, "overwrite": true})
	if err == nil || !strings.Contains(err.Error(), "the dump is damaged") {
		t.Fatalf("got %v", err)
	}
}

// TestLoadPostgresCreatesTheDatabaseAndRestoresEveryRow dumps a database
// with Korean text, loads it into a database that does not exist yet, and
// compares every row by checksum; a second load needs overwrite.
func TestLoadPostgresCreatesTheDatabaseAndRestoresEveryRow(t *testing.T) {
	admin := postgresURL()
	src, dst := fmt.Sprintf("load_src_%d", os.Getpid()), fmt.Sprintf("load_dst_%d", os.Getpid())
	psql(t, admin, "DROP DATABASE IF EXISTS "+src)
	psql(t, admin, "DROP DATABASE IF EXISTS "+dst)
	psql(t, admin, "CREATE DATABASE "+src)
	t.Cleanup(func() {
		exec.Command("psql", admin, "-c", "DROP DATABASE IF EXISTS "+src).Run()
		exec.Command("psql", admin, "-c", "DROP DATABASE IF EXISTS "+dst).Run()
	})
	psql(t, withDB(admin, src), `CREATE TABLE episodes (id int PRIMARY KEY, title text);
		INSERT INTO episodes SELECT i, '제' || i || '화' FROM generate_series(1, 5000) i`)
	dir := t.TempDir()
	if _, _, err := runTaskEnv(context.Background(), t, "dump", dir, os.Environ(), map[string]any{"kind": "postgres", "database": withDB(admin, src), "dest": "x.pgdump"}); err != nil {
		t.Fatal(err)
	}
	load := map[string]any{"kind": "postgres", "database": withDB(admin, dst), "src": "x.pgdump"}
	if _, log, err := runTaskEnv(context.Background(), t, "load", dir, os.Environ(), load); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	sum := "SELECT count(*) || ':' || md5(string_agg(id || title, ',' ORDER BY id)) FROM episodes"
	if a, b := psql(t, withDB(admin, src), sum), psql(t, withDB(admin, dst), sum); a != b {
		t.Fatalf("source %s, loaded %s", a, b)
	}
	_, _, err := runTaskEnv(context.Background(), t, "load", dir, os.Environ(), load)
	if err == nil || !strings.Contains(err.Error(), "already holds 1 tables: set overwrite: true") {
		t.Fatalf("second load: %v", err)
	}
	load["overwrite"] = true
	if _, _, err := runTaskEnv(context.Background(), t, "load", dir, os.Environ(), load); err != nil {
		t.Fatalf("load with overwrite: %v", err)
	}
}

func TestLoadNeo4jInAOneOffContainer(t *testing.T) {
	bin := standins(t)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH")) // `docker` is the stand-in
	for _, version := range []string{"4.4.30", "5.26.0"} {
		t.Run(version, func(t *testing.T) {
			dir := t.TempDir()
			env, data := neo4jStandin(dir, version)
			with := map[string]any{"kind": "neo4j", "database": "neo4j", "neo4j_image": "neo4j:" + version, "neo4j_volume": "factory_neo4j_data"}
			dump := map[string]any{"dest": "graph.dump"}
			for k, v := range with {
				dump[k] = v
			}
			if _, log, err := runTaskEnv(context.Background(), t, "dump", dir, env, dump); err != nil {
				t.Fatalf("dump: %v\n%s", err, log)
			}
			with["src"] = "graph.dump"
			if _, log, err := runTaskEnv(context.Background(), t, "load", dir, env, with); err != nil {
				t.Fatalf("load: %v\n%s", err, log)
			}
			if got, _ := os.ReadFile(filepath.Join(data, "neo4j")); !strings.HasPrefix(string(got), "NEO4J-") {
				t.Fatalf("loaded %q", got)
			}
		})
	}
}

// TestLoadSQLiteRefusesATargetThatIsNotAnEmptyDatabase: a mistyped path to
// another file, an encrypted or a damaged database was replaced without
// overwrite, and the new file was 0600.
func TestLoadSQLiteRefusesATargetThatIsNotAnEmptyDatabase(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "dump.db")
	db, _ := sql.Open("sqlite", src)
	db.Exec(`CREATE TABLE characters (name TEXT); INSERT INTO characters VALUES ('하윤')`)
	db.Close()
	damaged, _ := os.ReadFile(src)
	for i := 100; i < len(damaged); i++ {
		damaged[i] = 0xff
	}
	for name, content := range map[string][]byte{
		"a manuscript at a mistyped path": []byte("# 제1화\n\n새벽 네 시."),
		"an encrypted database":           append([]byte{0x8a, 0x13, 0x5c, 0x02}, make([]byte, 4092)...),
		"a damaged database":              damaged,
	} {
		t.Run(name, func(t *testing.T) {
			target := filepath.Join(dir, "target.db")
			os.WriteFile(target, content, 0o640)
			_, _, err := runTaskEnv(context.Background(), t, "load", dir, nil, map[string]any{"kind": "sqlite", "src": "dump.db", "database": target})
			if err == nil || !strings.Contains(err.Error(), "refusing to replace it") && !strings.Contains(err.Error(), "set overwrite: true") {
				t.Fatalf("err = %v", err)
			}
			if got, _ := os.ReadFile(target); string(got) != string(content) {
				t.Fatal("the target was replaced")
			}
			if _, _, err := runTaskEnv(context.Background(), t, "load", dir, nil, map[string]any{"kind": "sqlite", "src": "dump.db", "database": target, "overwrite": true}); err != nil {
				t.Fatalf("with overwrite: %v", err)
			}
			if info, _ := os.Stat(target); info.Mode().Perm() != 0o640 {
				t.Errorf("mode %v after replacing, want the old file's 0640", info.Mode().Perm())
			}
		})
	}
	// An empty file and a database without tables may be written.
	for name, prepare := range map[string]func(string){
		"an empty file":   func(p string) { os.WriteFile(p, nil, 0o644) },
		"an empty schema": func(p string) { db, _ := sql.Open("sqlite", p); db.Exec("PRAGMA user_version = 1"); db.Close() },
		"no file":         func(string) {},
	} {
		t.Run(name, func(t *testing.T) {
			target := filepath.Join(t.TempDir(), "story.db")
			prepare(target)
			if _, _, err := runTaskEnv(context.Background(), t, "load", dir, nil, map[string]any{"kind": "sqlite", "src": "dump.db", "database": target}); err != nil {
				t.Fatal(err)
			}
			if info, _ := os.Stat(target); info.Mode().Perm()&0o044 == 0 {
				t.Errorf("mode %v: a new database should be readable as any new file is", info.Mode().Perm())
			}
		})
	}
}
