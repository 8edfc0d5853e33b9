// Package load is the built-in task type `load`: load a dump into a Neo4j, PostgreSQL or SQLite database.
// Registered with the others in package tasks.
package load

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/regfile"
	"github.com/novelfactory/runner/tasks/internal/database"
)

// Params are the params of the load task.
type Params struct {
	// What database: neo4j, postgres or sqlite.
	Kind string `yaml:"kind" json:"kind" required:"true" enum:"neo4j,postgres,sqlite"`
	// The dump file to load (as written by the dump task).
	Src params.Path `yaml:"src" json:"src" required:"true"`
	// neo4j: the database name; postgres: a connection URL (the database is created when missing); sqlite: the database file.
	Database string `yaml:"database" json:"database" required:"true"`
	// Replace a target that already holds data; without it, such a target is an error.
	Overwrite                 bool `yaml:"overwrite" json:"overwrite"`
	database.Neo4jAdminParams `yaml:",inline" json:",inline"`
}

// Register adds the load task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: params.JoinDocs(fieldDoc, database.FieldDoc),
		Name:      "load",
		Summary:   "Load a dump into a Neo4j, PostgreSQL or SQLite database.",
		Doc: "neo4j: neo4j-admin with its version's syntax — 4.4 `load --from --database [--force]`, 5.x `database load " +
			"--from-path` (the dump is staged as DIR/DB.dump and checked with `--info` first) — installed or in a one-off " +
			"container of the server's image; the server must be stopped (Community edition). postgres: creates the " +
			"database when missing, then `pg_restore --clean --if-exists --no-owner`. sqlite: a verified copy renamed " +
			"into place, keeping the old file's mode. A target that already holds data is replaced only with " +
			"`overwrite: true`; for sqlite only an absent file, an empty one or a database without tables counts as " +
			"empty — a file that is not SQLite (a mistyped path), an encrypted or a damaged database is refused.",
		Outputs: []tasktype.Output{
			{Name: "database", Type: "string", Doc: "The database loaded (a postgres URL without its password)."},
		},
		Examples: []tasktype.Example{
			{Title: "Load a SQLite dump into a fresh database", YAML: `load-db:
  uses: load
  with:
    kind: sqlite
    src: restore/download/sqlite-20261129.db
    database: data/factory.db
`},
		},
		Plan: func(_ context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			target := database.Redact(p.Database)
			if p.Kind == "sqlite" {
				target = env.Path(p.Database)
			}
			how := "if it holds no data"
			if p.Overwrite {
				how = "replacing what it holds"
			}
			return tasktype.Plan{Summary: fmt.Sprintf("would load %s into %s %s, %s", p.Src, p.Kind, target, how)}, nil
		},
		Run: func(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
			src := string(p.Src)
			if err := regfile.Check(src); err != nil {
				return nil, fmt.Errorf("load: %w", err)
			}
			var err error
			switch p.Kind {
			case "neo4j":
				admin := p.Admin()
				admin.Procs = env.Processes
				err = admin.Load(ctx, p.Database, src, p.Overwrite, env.Environ, env.Log)
			case "postgres":
				err = database.Postgres{Procs: env.Processes}.Load(ctx, p.Database, src, p.Overwrite, env.Environ, env.Log)
			case "sqlite":
				dest := env.Path(p.Database)
				if err = os.MkdirAll(filepath.Dir(dest), 0o755); err == nil {
					err = database.SQLiteLoad(ctx, src, dest, p.Overwrite)
				}
			}
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(env.Log, "loaded %s into %s %s\n", src, p.Kind, database.Redact(p.Database))
			return tasktype.Outputs{"database": database.Redact(p.Database)}, nil
		},
	})
}
