package tasks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"

	"github.com/novelfactory/runner/engine/atomicfile"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/tasks/internal/fileset"
	"github.com/novelfactory/runner/tasks/internal/pzip"
)

// ZipParams are the params of the zip task.
type ZipParams struct {
	// Directory to pack, relative to the recipe's directory.
	Src string `yaml:"src" json:"src" required:"true"`
	// Zip file to write. It is written to a temporary file and renamed into place.
	Dest string `yaml:"dest" json:"dest" required:"true"`
	// Globs of files to pack, relative to src (** for any depth); every file when empty.
	Include []string `yaml:"include" json:"include"`
	// Globs of files to leave out; a glob without / matches names at any depth.
	Exclude []string `yaml:"exclude" json:"exclude"`
	// Deflate level: 0 stores, 1 is fastest, 9 smallest. Already-compressed files (jpg, png, zip, gz …) are always stored.
	Level int `yaml:"level" json:"level" default:"6"`
	// Fixed timestamps and modes, so that the same files give the same bytes.
	Reproducible bool `yaml:"reproducible" json:"reproducible"`
}

func init() {
	register(tasktype.Def[ZipParams]{
		Name:    "zip",
		Summary: "Pack a directory into a zip file, on every core.",
		Doc: "Packs the files under `src` (optionally filtered by `include` and `exclude` globs) into `dest`, in " +
			"sorted order, with UTF-8 names (Hangul shows right in every unzip). Files are deflated in 1 MiB chunks " +
			"on all cores, so memory stays flat for files of any size. Already-compressed formats are stored. With " +
			"`reproducible: true` timestamps and modes are fixed, so the same input gives the same bytes. The archive " +
			"is written to a temporary file and renamed into place: a failed run never leaves half a zip at `dest`.",
		Outputs: []tasktype.Output{
			{Name: "path", Type: "string", Doc: "Absolute path of the zip file."},
			{Name: "bytes", Type: "integer", Doc: "Size of the zip file."},
			{Name: "files", Type: "integer", Doc: "Number of files packed."},
			{Name: "sha256", Type: "string", Doc: "SHA-256 of the zip file, hex."},
		},
		Check: func(p *ZipParams) error {
			if p.Level < 0 || p.Level > 9 {
				return fmt.Errorf("level %d: use 0 (store) to 9", p.Level)
			}
			return nil
		},
		Plan: func(_ context.Context, env *tasktype.Env, p *ZipParams) (tasktype.Plan, error) {
			entries, err := zipEntries(env, p)
			if err != nil {
				return tasktype.Plan{}, err
			}
			return tasktype.Plan{
				Summary: fmt.Sprintf("would zip %d files (%s) from %s into %s", len(entries), humanBytes(fileset.Size(entries)), env.Path(p.Src), env.Path(p.Dest)),
				Outputs: tasktype.Outputs{"path": env.Path(p.Dest)},
			}, nil
		},
		Run: runZip,
	})
}

func zipEntries(env *tasktype.Env, p *ZipParams) ([]fileset.Entry, error) {
	dest := env.Path(p.Dest)
	entries, err := fileset.Walk(env.Path(p.Src), fileset.Options{
		Include: p.Include, Exclude: p.Exclude, Dirs: true,
		Skip: []string{dest}, // a zip written inside its own source
	})
	if err != nil {
		return nil, fmt.Errorf("list files to zip: %w", err)
	}
	// Temp files of an earlier, interrupted zip into the same folder.
	out := entries[:0]
	prefix := "." + filepath.Base(dest) + ".tmp-"
	for _, e := range entries {
		if filepath.Dir(e.Path) == filepath.Dir(dest) && len(filepath.Base(e.Path)) > len(prefix) && filepath.Base(e.Path)[:len(prefix)] == prefix {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

func runZip(ctx context.Context, env *tasktype.Env, p *ZipParams) (tasktype.Outputs, error) {
	entries, err := zipEntries(env, p)
	if err != nil {
		return nil, err
	}
	dest := env.Path(p.Dest)
	f, err := atomicfile.Create(dest, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Abort()
	sum := sha256.New()
	counter := &countingWriter{}
	total := fileset.Size(entries)
	files, err := pzip.Write(ctx, io.MultiWriter(f, sum, counter), entries, pzip.Options{
		Level: p.Level, Reproducible: p.Reproducible,
		Progress: func(done int64) { env.Progress.Progress(done, total) },
	})
	if err != nil {
		return nil, fmt.Errorf("zip %s: %w", env.Path(p.Src), err)
	}
	if err := f.Commit(); err != nil {
		return nil, err
	}
	fmt.Fprintf(env.Log, "zipped %d files, %s → %s (%s)\n", files, humanBytes(total), dest, humanBytes(counter.n))
	return tasktype.Outputs{"path": dest, "bytes": counter.n, "files": files, "sha256": hex.EncodeToString(sum.Sum(nil))}, nil
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// humanBytes renders a size in binary units: 1.2 GiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
