// Package dump is the built-in task type `dump`: dump a Neo4j, PostgreSQL or SQLite database to a file.
// Registered with the others in package tasks.
package dump

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/tasks/internal/bytesize"
	"github.com/novelfactory/runner/tasks/internal/database"
	"github.com/novelfactory/runner/tasks/internal/filehash"
)

// Params are the params of the dump task.
type Params struct {
	// What database: neo4j, postgres or sqlite.
	Kind string `yaml:"kind" json:"kind" required:"true" enum:"neo4j,postgres,sqlite"`
	// neo4j: the database name (neo4j); postgres: a connection URL (postgres://user:password@host/db); sqlite: the database file.
	Database string `yaml:"database" json:"database" required:"true"`
	// The dump file to write. It appears only when the dump is whole.
	Dest                      params.Path `yaml:"dest" json:"dest" required:"true"`
	database.Neo4jAdminParams `yaml:",inline" json:",inline"`
	// postgres: the pg_dump command.
	PgDump string `yaml:"pg_dump" json:"pg_dump" default:"pg_dump"`
}

// Register adds the dump task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: params.JoinDocs(fieldDoc, database.FieldDoc),
		Name:      "dump",
		Summary:   "Dump a Neo4j, PostgreSQL or SQLite database to a file.",
		Doc: "neo4j: drives neo4j-admin (installed, or in a one-off container of the official image on the server's data " +
			"volume), with the syntax of its version — 4.4 `dump --database --to`, 5.x `database dump --to-path` — and turns " +
			"its known failures (database in use, active logical log, image version mismatch) into what to do. Community " +
			"edition needs the server stopped: stop and start it around the dump with shell tasks. postgres: `pg_dump " +
			"--format=custom` (the password goes in PGPASSWORD, never on a command line). sqlite: a consistent online copy " +
			"(VACUUM INTO, in pure Go) that a concurrent writer cannot tear, checked with integrity_check. Every dump is " +
			"written beside `dest` and renamed into place when whole: a failed dump never replaces the last good one.",
		Outputs: []tasktype.Output{
			{Name: "path", Type: "string", Doc: "Absolute path of the dump."},
			{Name: "bytes", Type: "integer", Doc: "Size of the dump."},
			{Name: "sha256", Type: "string", Doc: "SHA-256 of the dump, hex."},
		},
		Examples: []tasktype.Example{
			{Title: "Dump a Neo4j graph with a one-off container", YAML: `dump-graph:
  uses: dump
  with:
    kind: neo4j
    database: neo4j
    dest: build/neo4j.dump
    neo4j_image: neo4j:5.26-community
    neo4j_volume: neo4j-data
`},
			{Title: "Dump a PostgreSQL database", YAML: `dump-db:
  uses: dump
  with:
    kind: postgres
    database: postgres://factory@localhost/novels
    dest: build/novels.dump
`},
		},
		Plan: func(_ context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			what := database.Redact(p.Database)
			switch p.Kind {
			case "sqlite":
				what = env.Path(p.Database)
			case "neo4j":
				what = fmt.Sprintf("database %q with %s", p.Database, p.Admin().Describe())
			}
			return tasktype.Plan{
				Summary: fmt.Sprintf("would dump %s %s into %s", p.Kind, what, p.Dest),
				Outputs: tasktype.Outputs{"path": string(p.Dest)},
			}, nil
		},
		Run: runDump,
	})
}

func runDump(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
	dest := string(p.Dest)
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	var err error
	switch p.Kind {
	case "neo4j":
		admin := p.Admin()
		admin.Procs = env.Processes
		err = admin.Dump(ctx, p.Database, dest, env.Environ, env.Log)
	case "postgres":
		err = database.Postgres{PgDump: p.PgDump, Procs: env.Processes}.Dump(ctx, p.Database, dest, env.Environ, env.Log)
	case "sqlite":
		err = database.SQLiteDump(ctx, env.Path(p.Database), dest)
	}
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(dest)
	if err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	sum, err := filehash.SHA256(ctx, dest)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(env.Log, "dumped %s %s into %s (%s, sha256 %s)\n", p.Kind, database.Redact(p.Database), dest, bytesize.Format(info.Size()), sum[:12])
	return tasktype.Outputs{"path": dest, "bytes": info.Size(), "sha256": sum}, nil
}
