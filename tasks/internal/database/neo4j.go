package database

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/regfile"
)

// Neo4jAdmin runs neo4j-admin: the installed command, or a one-off
// container of the official image on the server's data volume.
type Neo4jAdmin struct {
	Command []string           // argv of neo4j-admin when it is installed; ["neo4j-admin"] by default
	Image   string             // e.g. neo4j:5.26-community: run neo4j-admin in a one-off container of it
	Volume  string             // the server's data volume or folder, mounted at /data in the container
	Docker  string             // the docker command; "docker" by default
	Procs   tasktype.Processes // hears of the processes started; may be nil
}

// Describe says how neo4j-admin is run, for plans.
func (a Neo4jAdmin) Describe() string {
	if a.Image != "" {
		return fmt.Sprintf("neo4j-admin in a one-off %s container on volume %s", a.Image, firstOf(a.Volume, "(none)"))
	}
	return strings.Join(a.argv(""), " ")
}

var versionRe = regexp.MustCompile(`(\d+)\.(\d+)(\.\d+)?`)

// argv returns the command line of neo4j-admin with args; dir, when not
// empty, is a host folder that the command sees as /backups.
func (a Neo4jAdmin) argv(dir string, args ...string) []string {
	if a.Image == "" {
		cmd := a.Command
		if len(cmd) == 0 {
			cmd = []string{"neo4j-admin"}
		}
		return append(append([]string{}, cmd...), args...)
	}
	docker := a.Docker
	if docker == "" {
		docker = "docker"
	}
	argv := []string{docker, "run", "--rm"}
	if a.Volume != "" {
		argv = append(argv, "-v", a.Volume+":/data")
	}
	if dir != "" {
		argv = append(argv, "-v", dir+":/backups")
	}
	return append(append(argv, a.Image, "neo4j-admin"), args...)
}

// Version asks neo4j-admin for its version: "4.4.30", "5.26.0".
func (a Neo4jAdmin) Version(ctx context.Context, environ []string) (major int, full string, err error) {
	out, err := run(ctx, a.argv("", "--version"), environ, io.Discard, a.Procs)
	if err != nil {
		return 0, "", fmt.Errorf("ask neo4j-admin for its version: %w", err)
	}
	m := versionRe.FindStringSubmatch(out)
	if m == nil {
		return 0, "", fmt.Errorf("neo4j-admin --version printed no version: %q", out)
	}
	fmt.Sscan(m[1], &major)
	return major, m[0], nil
}

// Dump dumps database into dest (a file), choosing the syntax of the
// installed version: 4.4 writes the file it is given (and refuses an
// existing one); 5.x writes DIR/DB.dump into a folder that must exist. Both
// dump into a fresh temporary folder beside dest, and the file is renamed
// into place only when neo4j-admin succeeded.
func (a Neo4jAdmin) Dump(ctx context.Context, database, dest string, environ []string, log io.Writer) error {
	major, version, err := a.Version(ctx, environ)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dest), ".neo4j-dump-")
	if err != nil {
		return fmt.Errorf("dump %s: %w", database, err)
	}
	defer os.RemoveAll(tmp)
	if a.Image != "" {
		os.Chmod(tmp, 0o777) // the container's neo4j user writes here
	}
	inside := tmp
	if a.Image != "" {
		inside = "/backups"
	}
	var args []string
	switch {
	case major >= 5:
		args = []string{"database", "dump", database, "--to-path=" + inside}
	case major == 4:
		args = []string{"dump", "--database=" + database, "--to=" + inside + "/" + database + ".dump"}
	default:
		return fmt.Errorf("neo4j-admin %s: runner drives 4.4 and 5.x", version)
	}
	fmt.Fprintf(log, "neo4j-admin %s: %s\n", version, strings.Join(args, " "))
	if _, err := run(ctx, a.argv(tmp, args...), environ, log, a.Procs); err != nil {
		return neo4jHint(database, a, err)
	}
	out := filepath.Join(tmp, database+".dump")
	if err := syncFile(out); err != nil {
		return fmt.Errorf("neo4j-admin said it dumped %s, but %w", database, err)
	}
	if err := os.Rename(out, dest); err != nil {
		return fmt.Errorf("move the dump into %s: %w", dest, err)
	}
	return nil
}

// neo4jHint turns neo4j-admin's known failures into errors that say what to do.
func neo4jHint(database string, a Neo4jAdmin, err error) error {
	var ee *ExitError
	if !errors.As(err, &ee) {
		return fmt.Errorf("dump %s: %w", database, err)
	}
	var advice string
	switch {
	case strings.Contains(ee.Output, "The database is in use"):
		advice = fmt.Sprintf("the database %q is in use: Community edition can dump only a stopped database — stop the server "+
			"(for Docker: docker stop the container, dump with a one-off container on its volume, then start it; "+
			"recipes/weekly-backup.yaml shows how) and run again", database)
	case strings.Contains(ee.Output, "Active logical log detected"):
		advice = "the database was not shut down cleanly (active logical log): start the server once so that it recovers, stop it cleanly, then dump again"
	case strings.Contains(ee.Output, "Unknown serialization format version"):
		advice = fmt.Sprintf("the neo4j-admin of %s does not read this store: use the image of the server's exact version", firstOf(a.Image, "this installation"))
	case ee.Code == 2 || ee.Code == 64:
		advice = "neo4j-admin rejected its arguments: check the database name, and that the neo4j-admin version matches the server's"
	}
	if advice != "" {
		return fmt.Errorf("dump %s: %w\n%s", database, err, advice)
	}
	return fmt.Errorf("dump %s: %w", database, err)
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// syncFile flushes a file to disk, failing if it is missing.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("the dump is missing: %w", err)
	}
	defer f.Close()
	return f.Sync()
}

// Load loads the dump src into database with the installed version's
// syntax: 4.4 `load --from=FILE --database=DB [--force]`; 5.x reads exactly
// DIR/DB.dump, so the dump is staged under that name (a hard link, or a
// copy) in a temporary folder, checked with `--info`, then loaded with
// `--overwrite-destination=true` when overwrite is set.
func (a Neo4jAdmin) Load(ctx context.Context, database, src string, overwrite bool, environ []string, log io.Writer) error {
	major, version, err := a.Version(ctx, environ)
	if err != nil {
		return err
	}
	var args []string
	dir := ""
	switch {
	case major >= 5:
		stage, err := os.MkdirTemp(filepath.Dir(src), ".neo4j-load-")
		if err != nil {
			return fmt.Errorf("load %s: %w", database, err)
		}
		defer os.RemoveAll(stage)
		if a.Image != "" {
			os.Chmod(stage, 0o777)
		}
		staged := filepath.Join(stage, database+".dump")
		if err := os.Link(src, staged); err != nil {
			if err := copyFile(src, staged); err != nil {
				return fmt.Errorf("load %s: stage the dump: %w", database, err)
			}
		}
		dir = stage
		inside := stage
		if a.Image != "" {
			inside = "/backups"
		}
		if _, err := run(ctx, a.argv(dir, "database", "load", "--info", database, "--from-path="+inside), environ, log, a.Procs); err != nil {
			return fmt.Errorf("load %s: the dump does not check out: %w", database, err)
		}
		args = []string{"database", "load", database, "--from-path=" + inside}
		if overwrite {
			args = append(args, "--overwrite-destination=true")
		}
	case major == 4:
		from := src
		if a.Image != "" {
			dir, from = filepath.Dir(src), "/backups/"+filepath.Base(src)
		}
		args = []string{"load", "--from=" + from, "--database=" + database}
		if overwrite {
			args = append(args, "--force")
		}
	default:
		return fmt.Errorf("neo4j-admin %s: runner drives 4.4 and 5.x", version)
	}
	fmt.Fprintf(log, "neo4j-admin %s: %s\n", version, strings.Join(args, " "))
	if _, err := run(ctx, a.argv(dir, args...), environ, log, a.Procs); err != nil {
		var ee *ExitError
		if errors.As(err, &ee) && strings.Contains(strings.ToLower(ee.Output), "already exists") {
			return fmt.Errorf("load %s: %w\nthe database already exists: set overwrite: true to replace it", database, err)
		}
		if errors.As(err, &ee) && strings.Contains(ee.Output, "AccessDeniedException") {
			return fmt.Errorf("load %s: %w\nneo4j-admin cannot write the data folder: run it as the neo4j user (in Docker: docker exec -u neo4j, or the one-off container of the server's image with NEO4J_ACCEPT_LICENSE_AGREEMENT=yes for Enterprise images)", database, err)
		}
		return neo4jHint(database, a, err)
	}
	return nil
}

func copyFile(src, dest string) error {
	in, err := regfile.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dest)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
