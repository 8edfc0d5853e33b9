// Package checksum is the built-in task type `checksum`: write a SHA256SUMS
// file that `sha256sum -c` accepts. Registered with the others in package
// tasks.
package checksum

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/novelfactory/runner/engine/atomicfile"
	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/tasks/internal/filehash"
	"github.com/novelfactory/runner/tasks/internal/filelist"
)

// Params are the params of the checksum task.
type Params struct {
	// Files to list (paths or globs with ** for any depth, relative to the recipe).
	Files []string `yaml:"files" json:"files" required:"true"`
	// The checksum file to write; the files are named relative to its folder.
	Dest params.Path `yaml:"dest" json:"dest" default:"SHA256SUMS"`
}

// Register adds the checksum task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: fieldDoc,
		Name:      "checksum",
		Summary:   "Write a SHA256SUMS file that `sha256sum -c` accepts.",
		Doc: "Hashes `files` with SHA-256, reading each as a stream, and writes `dest` with one `HASH  NAME` line per " +
			"file (two spaces, as coreutils writes them), sorted by name, each name relative to `dest`'s folder, so " +
			"that `sha256sum -c SHA256SUMS` run there checks them. The file is written atomically. A glob that matches " +
			"nothing is an error, a file matched twice is listed once, and `dest` itself is never listed. Names with a " +
			"newline or a backslash are refused: sha256sum escapes them in a way other checkers do not read. A file " +
			"outside `dest`'s folder is refused too, since its `../` name would only check from that folder.",
		Outputs: []tasktype.Output{
			{Name: "path", Type: "string", Doc: "Absolute path of the checksum file."},
			{Name: "sums", Type: "map of string", Doc: "Each listed name (as in the file) → its SHA-256, hex."},
			{Name: "files", Type: "integer", Doc: "Number of files listed."},
		},
		Examples: []tasktype.Example{
			{Title: "Checksums of the release's assets", YAML: `checksums:
  uses: checksum
  with:
    files: ["dist/*.zip", "dist/requirements.lock"]
    dest: dist/SHA256SUMS
`},
		},
		Check: func(p *Params) error {
			if len(p.Files) == 0 {
				return params.Errorf("files", "files: list at least one file or glob")
			}
			return nil
		},
		Plan: func(_ context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			files, err := list(env, p)
			if err != nil {
				return tasktype.Plan{}, err
			}
			return tasktype.Plan{
				Summary: fmt.Sprintf("would write the SHA-256 of %s to %s", countFiles(len(files)), p.Dest),
				Outputs: tasktype.Outputs{"path": string(p.Dest), "files": len(files)},
			}, nil
		},
		Run: run,
	})
}

// file is one file to hash, with its name in the checksum file.
type file struct{ path, name string }

// list resolves the files and their names, refusing any sha256sum would
// not read back as written.
func list(env *tasktype.Env, p *Params) ([]file, error) {
	dest, err := filepath.Abs(string(p.Dest))
	if err != nil {
		return nil, fmt.Errorf("checksum: %w", err)
	}
	dir := filepath.Dir(dest)
	found, err := filelist.Resolve(env.Dir, p.Files, func(path string) bool { return path == dest })
	if err != nil {
		return nil, err
	}
	var out []file
	for _, f := range found {
		path := f.Path
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil, fmt.Errorf("files: %s is outside %s, the checksum file's folder: sha256sum -c run there could not find it by a plain name", path, dir)
		}
		name := filepath.ToSlash(rel)
		if strings.ContainsAny(name, "\n\r\\") {
			return nil, fmt.Errorf("files: %q has a newline or a backslash in its name: sha256sum escapes such names (a leading \\), which other checkers misread; rename it", name)
		}
		if name == "-" {
			return nil, fmt.Errorf("files: a file named - cannot be checked: sha256sum -c reads the name - as its standard input; rename it")
		}
		out = append(out, file{path, name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

func run(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
	files, err := list(env, p)
	if err != nil {
		return nil, err
	}
	dest := string(p.Dest)
	sums := make(map[string]any, len(files))
	var b strings.Builder
	for i, f := range files {
		sum, err := filehash.SHA256(ctx, f.path)
		if err != nil {
			return nil, err
		}
		sums[f.name] = sum
		fmt.Fprintf(&b, "%s  %s\n", sum, f.name)
		env.Progress.Progress(int64(i+1), int64(len(files)))
	}
	if err := atomicfile.WriteFile(dest, []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	fmt.Fprintf(env.Log, "wrote the SHA-256 of %s to %s\n", countFiles(len(files)), dest)
	return tasktype.Outputs{"path": dest, "sums": sums, "files": len(files)}, nil
}

// countFiles says n files in words: "1 file", "2 files".
func countFiles(n int) string {
	if n == 1 {
		return "1 file"
	}
	return fmt.Sprintf("%d files", n)
}
