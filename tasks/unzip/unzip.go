// Package unzip is the built-in task type `unzip`: unpack a zip file safely: no escapes, no bombs, all or nothing.
// Registered with the others in package tasks.
package unzip

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/regfile"
	"github.com/novelfactory/runner/internal/zipsafe"
	"github.com/novelfactory/runner/tasks/internal/bytesize"
	"github.com/novelfactory/runner/tasks/internal/ctxio"
	"github.com/novelfactory/runner/tasks/internal/staging"
)

// Params are the params of the unzip task.
type Params struct {
	// The zip file to unpack.
	Src params.Path `yaml:"src" json:"src" required:"true"`
	// The folder to unpack into; created when missing.
	Dest params.Path `yaml:"dest" json:"dest" required:"true"`
	// What to do with a file of dest that differs from the archive's: never (an error listing them), always, or if_newer.
	Overwrite string `yaml:"overwrite" json:"overwrite" default:"never" enum:"never,always,if_newer"`
	// The most the archive may unpack to, e.g. "20GiB": a zip bomb stops here.
	MaxBytes params.Size `yaml:"max_bytes" json:"max_bytes" default:"20GiB" min:"1"`
	// The largest compression ratio an entry of over 1 MiB may have: a zip bomb's is in the thousands.
	MaxRatio int `yaml:"max_ratio" json:"max_ratio" default:"1000" min:"1"`
}

// Register adds the unzip task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: fieldDoc,
		Name:      "unzip",
		Summary:   "Unpack a zip file safely: no escapes, no bombs, all or nothing.",
		Doc: "Checks every entry before writing anything: entries that would land outside `dest` (`..`, absolute " +
			"paths, links pointing out, links to or through links, a `..` after the start of a link's target, files " +
			"reached through a link of the archive or of `dest`), duplicate names, encrypted entries, devices and pipes, " +
			"and zip bombs (total size over `max_bytes`, a ratio over `max_ratio`, or an entry that expands beyond its " +
			"declared size) are refused with the entries named. The archive is unpacked into a temporary folder and " +
			"moved into place, never following a link of `dest` (the kernel confines every write to `dest`), so a failure " +
			"leaves `dest` as it was (a new `dest` appears only when whole); files already in `dest` with the same content are " +
			"left alone, different ones follow `overwrite`. New folders get the umask's mode, as with Info-ZIP. Names flagged UTF-8 and legacy CP949 names " +
			"(Korean Windows zip tools) both come out as Hangul.",
		Outputs: []tasktype.Output{
			{Name: "path", Type: "string", Doc: "Absolute path of dest."},
			{Name: "files", Type: "integer", Doc: "Files in the archive."},
			{Name: "bytes", Type: "integer", Doc: "Bytes unpacked."},
			{Name: "written", Type: "integer", Doc: "Files written into dest (new or replaced)."},
			{Name: "unchanged", Type: "integer", Doc: "Files already in dest with the same content."},
			{Name: "kept", Type: "integer", Doc: "Files of dest that differ and were kept, being newer (overwrite: if_newer)."},
		},
		Examples: []tasktype.Example{
			{Title: "Restore episodes, keeping files that differ", YAML: `unpack:
  uses: unzip
  with:
    src: backup/Pilot-episodes.zip
    dest: projects/Pilot/episodes
    overwrite: never
`},
		},
		Plan: func(_ context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			return tasktype.Plan{
				Summary: fmt.Sprintf("would unpack %s into %s (overwrite: %s)", p.Src, p.Dest, p.Overwrite),
				Outputs: tasktype.Outputs{"path": string(p.Dest)},
			}, nil
		},
		Run: runUnzip,
	})
}

// entry is a checked archive entry.
type entry struct {
	f      *zip.File
	name   string // decoded, cleaned, slash-separated
	target string // of a symlink
}

func (e entry) isDir() bool  { return e.f.Mode().IsDir() }
func (e entry) isLink() bool { return e.f.Mode()&fs.ModeSymlink != 0 }

// checkEntries validates every entry before anything is written, with the
// rules zip checked them by (zipsafe), plus what only an archive from
// elsewhere can hold. isLink says which paths of dest already are links.
func checkEntries(zr *zip.Reader, maxBytes int64, maxRatio int, isLink func(string) bool) ([]entry, error) {
	var (
		problems []string
		total    uint64
		checked  = make([]zipsafe.Entry, len(zr.File))
	)
	for i, f := range zr.File {
		checked[i] = zipsafe.Entry{Name: strings.ReplaceAll(zipsafe.EntryName(f), `\`, "/"), Dir: f.Mode().IsDir()}
		mode := f.Mode()
		switch {
		case f.Flags&0x1 != 0:
			problems = append(problems, fmt.Sprintf("%q: encrypted; encrypted entries are not supported (unpack it with a tool that knows the password)", checked[i].Name))
			continue // its sizes say nothing of a bomb
		case f.Flags&0x800 != 0 && !utf8.ValidString(f.Name):
			problems = append(problems, fmt.Sprintf("%q: flagged UTF-8, but the name is not UTF-8", checked[i].Name))
		case mode&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe|fs.ModeSocket) != 0:
			problems = append(problems, fmt.Sprintf("%q: a device, pipe or socket, not data", checked[i].Name))
		case mode&fs.ModeSymlink != 0:
			target, err := readSmall(f, 4096)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%q: %v", checked[i].Name, err))
			}
			checked[i].Link, checked[i].Target = true, target
		}
		total += f.UncompressedSize64
		if f.UncompressedSize64 > 1<<20 && f.CompressedSize64 > 0 && f.UncompressedSize64/f.CompressedSize64 > uint64(maxRatio) {
			problems = append(problems, fmt.Sprintf("%q: compressed %d:1, over max_ratio %d (a zip bomb?)", checked[i].Name, f.UncompressedSize64/f.CompressedSize64, maxRatio))
		}
	}
	names, bad := zipsafe.Check(checked, isLink)
	problems = append(problems, bad...)
	if total > uint64(maxBytes) {
		problems = append(problems, fmt.Sprintf("the archive unpacks to %s, over max_bytes %s (a zip bomb?)", bytesize.Format(int64(min(total, 1<<62))), bytesize.Format(maxBytes)))
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("refusing to unpack:\n  %s", strings.Join(problems, "\n  "))
	}
	entries := make([]entry, len(zr.File))
	for i, f := range zr.File {
		entries[i] = entry{f: f, name: names[i], target: checked[i].Target}
	}
	return entries, nil
}

func readSmall(f *zip.File, max int64) (string, error) {
	r, err := f.Open()
	if err != nil {
		return "", err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return "", err
	}
	if int64(len(data)) > max {
		return "", errors.New("a symlink target longer than 4 KiB")
	}
	return string(data), nil
}

func runUnzip(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
	src, dest, maxBytes := string(p.Src), string(p.Dest), int64(p.MaxBytes)
	// Opened once, as a regular file: what is checked is what is read.
	f, err := regfile.Open(src)
	if err != nil {
		return nil, fmt.Errorf("unzip: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("unzip: %w", err)
	}
	zr, err := zip.NewReader(f, info.Size())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", src, err)
	}
	var root *os.Root // dest, when it exists: every change to it goes through here
	switch info, err := os.Stat(dest); {
	case err == nil && !info.IsDir():
		return nil, fmt.Errorf("unzip %s: dest %s is a file, not a folder", src, dest)
	case err == nil:
		if root, err = os.OpenRoot(dest); err != nil {
			return nil, fmt.Errorf("unzip %s: %w", src, err)
		}
		defer root.Close()
		// What is checked in dest stays true until the entries are in.
		unlock, err := staging.Lock(ctx, dest, root, func() {
			fmt.Fprintf(env.Log, "waiting: another unzip or s3get is writing into %s\n", dest)
		})
		if err != nil {
			return nil, fmt.Errorf("unzip %s: %w", src, err)
		}
		defer unlock()
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("unzip %s: %w", src, err)
	}
	isLink := func(string) bool { return false }
	if root != nil {
		isLink = func(name string) bool {
			info, err := root.Lstat(filepath.FromSlash(name))
			return err == nil && info.Mode()&fs.ModeSymlink != 0
		}
	}
	entries, err := checkEntries(zr, maxBytes, p.MaxRatio, isLink)
	if err != nil {
		return nil, fmt.Errorf("unzip %s: %w", src, err)
	}

	// Unpack into a temp folder beside dest; then rename it into place
	// when dest is new, else move entry by entry.
	stage, err := staging.New(dest, "unzip")
	if err != nil {
		return nil, fmt.Errorf("unzip %s: %w", src, err)
	}
	defer stage.Close()
	for _, r := range stage.Removed {
		fmt.Fprintf(env.Log, "removed %s, left by a killed run\n", r)
	}
	var declared int64
	for _, e := range entries {
		declared += int64(e.f.UncompressedSize64)
	}
	files, total, err := extractAll(ctx, env, entries, stage.Root, maxBytes, declared)
	if err == nil {
		err = stage.Sync()
	}
	if err != nil {
		return nil, fmt.Errorf("unzip %s: %w", src, err)
	}
	m := merge{}
	if root == nil {
		if err := stage.Replace(); err != nil {
			return nil, fmt.Errorf("unzip %s: %w", src, err)
		}
		m.written = files
	} else if err := m.into(root, stage, entries, p.Overwrite); err != nil {
		return nil, fmt.Errorf("unzip %s into %s: %w", src, dest, err)
	}
	fmt.Fprintf(env.Log, "unzipped %d files (%s) into %s: %d written, %d unchanged", files, bytesize.Format(total), dest, m.written, m.unchanged)
	if m.kept > 0 {
		fmt.Fprintf(env.Log, ", %d kept (newer in dest)", m.kept)
	}
	fmt.Fprintln(env.Log)
	return tasktype.Outputs{"path": dest, "files": files, "bytes": total, "written": m.written, "unchanged": m.unchanged, "kept": m.kept}, nil
}

// extractAll writes every entry into root (the staging folder), counting
// real bytes: an entry that expands beyond its declared size is a bomb,
// whatever its header says.
func extractAll(ctx context.Context, env *tasktype.Env, entries []entry, root *os.Root, maxBytes, declared int64) (int, int64, error) {
	var total int64
	files := 0
	made := map[string]bool{".": true}
	mkdir := func(dir string) error {
		if made[dir] {
			return nil
		}
		if err := root.MkdirAll(dir, 0o777); err != nil {
			return err
		}
		made[dir] = true
		return nil
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return files, total, err
		}
		name := filepath.FromSlash(e.name)
		if e.isDir() {
			if err := mkdir(name); err != nil {
				return files, total, err
			}
			continue
		}
		if err := mkdir(filepath.Dir(name)); err != nil {
			return files, total, err
		}
		files++
		if e.isLink() {
			if err := root.Symlink(e.target, name); err != nil {
				return files, total, err
			}
			continue
		}
		n, err := extractFile(ctx, root, e, name, maxBytes-total)
		total += n
		if err != nil {
			return files, total, err
		}
		env.Progress.Progress(total, declared)
	}
	return files, total, nil
}

func extractFile(ctx context.Context, root *os.Root, e entry, name string, room int64) (int64, error) {
	r, err := e.f.Open()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", e.name, err)
	}
	defer r.Close()
	w, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, e.f.Mode().Perm()|0o600)
	if err != nil {
		return 0, err
	}
	defer w.Close()
	declared := int64(e.f.UncompressedSize64)
	n, err := io.Copy(w, &ctxio.Reader{Ctx: ctx, R: io.LimitReader(r, min(declared, room)+1)})
	// archive/zip itself stops an entry that outgrows its header with
	// ErrFormat; say what it means.
	switch {
	case err == nil && n > room:
		return n, fmt.Errorf("the archive unpacks to more than max_bytes (a zip bomb?)")
	case err == nil && n > declared:
		return n, fmt.Errorf("%s expands beyond its declared %d bytes (a zip bomb?)", e.name, declared)
	case errors.Is(err, zip.ErrFormat):
		return n, fmt.Errorf("%s expands beyond its declared %d bytes, or its data is damaged (a zip bomb?)", e.name, declared)
	}
	if cerr := w.Close(); err == nil {
		err = cerr // the data reaches the disk with the staging folder's one sync
	}
	if err != nil {
		return n, fmt.Errorf("%s: %w", e.name, err)
	}
	if !e.f.Modified.IsZero() {
		root.Chtimes(name, e.f.Modified, e.f.Modified)
	}
	return n, nil
}

// merge counts what moving the staged entries into an existing dest did.
type merge struct {
	written, unchanged, kept int
}

// into moves the staged entries into dest (root) after every conflict has
// been found, so that a refusal changes nothing, and as one change (see
// staging.Dir.Apply). Nothing is written through a link: checkEntries
// refused entries under links of dest, and every move goes through root.
func (m *merge) into(root *os.Root, stage *staging.Dir, entries []entry, overwrite string) error {
	var moves []string
	var differ, blocked []string
	for _, e := range entries {
		name := filepath.FromSlash(e.name)
		old, err := root.Lstat(name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if !e.isDir() {
				moves = append(moves, name)
			}
			continue
		case errors.Is(err, syscall.ENOTDIR):
			blocked = append(blocked, e.name+" (a folder above it is a file in the destination)")
			continue
		case err != nil:
			return err
		case e.isDir() && old.IsDir():
			continue
		case e.isDir():
			blocked = append(blocked, e.name+" (a file in the destination, a folder in the archive)")
			continue
		case old.IsDir():
			blocked = append(blocked, e.name+" (a folder in the destination, a file in the archive)")
			continue
		}
		if same, err := sameContent(stage.Root, root, name); err != nil {
			return err
		} else if same {
			m.unchanged++
			continue
		}
		switch overwrite {
		case "always":
			moves = append(moves, name)
		case "if_newer":
			if e.f.Modified.After(old.ModTime()) {
				moves = append(moves, name)
			} else {
				m.kept++
			}
		default:
			differ = append(differ, e.name)
		}
	}
	if len(blocked) > 0 {
		return fmt.Errorf("%d entries cannot be placed, whatever overwrite says: %s; move those away, or restore into an empty folder",
			len(blocked), strings.Join(blocked, ", "))
	}
	if len(differ) > 0 {
		return fmt.Errorf("%d files in the destination differ from the archive's (overwrite: never): %s; set overwrite: always or if_newer, or restore into an empty folder",
			len(differ), strings.Join(differ, ", "))
	}
	var dirs []string
	for _, e := range entries {
		if e.isDir() {
			dirs = append(dirs, filepath.FromSlash(e.name))
		}
	}
	if err := stage.Apply(root, dirs, moves); err != nil {
		return err
	}
	m.written = len(moves)
	return nil
}

// sameContent compares the staged file at name with dest's (links by target).
func sameContent(staged, dest *os.Root, name string) (bool, error) {
	ia, err := staged.Lstat(name)
	if err != nil {
		return false, err
	}
	ib, err := dest.Lstat(name)
	if err != nil {
		return false, err
	}
	if ia.Mode().Type() != ib.Mode().Type() || ia.Size() != ib.Size() {
		return false, nil
	}
	if ia.Mode()&fs.ModeSymlink != 0 {
		ta, _ := staged.Readlink(name)
		tb, _ := dest.Readlink(name)
		return ta == tb, nil
	}
	if !ia.Mode().IsRegular() {
		return false, nil
	}
	fa, err := staged.Open(name)
	if err != nil {
		return false, err
	}
	defer fa.Close()
	fb, err := dest.Open(name)
	if err != nil {
		return false, err
	}
	defer fb.Close()
	ba, bb := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		if ea == io.EOF || ea == io.ErrUnexpectedEOF {
			return true, nil // the sizes are equal: both ended here
		}
		if ea != nil {
			return false, ea
		}
		if eb != nil {
			return false, eb
		}
	}
}
