package tasks

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/korean"

	"github.com/novelfactory/runner/engine/tasktype"
)

// UnzipParams are the params of the unzip task.
type UnzipParams struct {
	// The zip file to unpack.
	Src string `yaml:"src" json:"src" required:"true"`
	// The folder to unpack into; created when missing.
	Dest string `yaml:"dest" json:"dest" required:"true"`
	// What to do with a file of dest that differs from the archive's: never (an error listing them), always, or if_newer.
	Overwrite string `yaml:"overwrite" json:"overwrite" default:"never" enum:"never,always,if_newer"`
	// The most the archive may unpack to, e.g. "20GiB": a zip bomb stops here.
	MaxBytes string `yaml:"max_bytes" json:"max_bytes" default:"20GiB"`
	// The largest compression ratio an entry of over 1 MiB may have: a zip bomb's is in the thousands.
	MaxRatio int `yaml:"max_ratio" json:"max_ratio" default:"1000"`
}

func init() {
	register(tasktype.Def[UnzipParams]{
		Name:    "unzip",
		Summary: "Unpack a zip file safely: no escapes, no bombs, all or nothing.",
		Doc: "Checks every entry before writing anything: entries that would land outside `dest` (`..`, absolute " +
			"paths, symlinks pointing out, files reached through a symlink), duplicate names and zip bombs (total size " +
			"over `max_bytes`, a ratio over `max_ratio`, or an entry that expands beyond its declared size) are refused " +
			"with the entries named. The archive is unpacked into a temporary folder beside `dest` and moved into place, " +
			"so a failure leaves `dest` as it was; files already in `dest` with the same content are left alone, " +
			"different ones follow `overwrite`. Names flagged UTF-8 and legacy CP949 names (Korean Windows zip tools) " +
			"both come out as Hangul.",
		Outputs: []tasktype.Output{
			{Name: "path", Type: "string", Doc: "Absolute path of dest."},
			{Name: "files", Type: "integer", Doc: "Files in the archive."},
			{Name: "bytes", Type: "integer", Doc: "Bytes unpacked."},
			{Name: "written", Type: "integer", Doc: "Files written into dest (new or replaced)."},
			{Name: "unchanged", Type: "integer", Doc: "Files already in dest with the same content."},
		},
		Check: func(p *UnzipParams) error {
			if _, err := parseSize(p.MaxBytes); err != nil {
				return fmt.Errorf("max_bytes: %w", err)
			}
			if p.MaxRatio < 1 {
				return errors.New("max_ratio must be at least 1")
			}
			return nil
		},
		Plan: func(_ context.Context, env *tasktype.Env, p *UnzipParams) (tasktype.Plan, error) {
			return tasktype.Plan{
				Summary: fmt.Sprintf("would unpack %s into %s (overwrite: %s)", env.Path(p.Src), env.Path(p.Dest), p.Overwrite),
				Outputs: tasktype.Outputs{"path": env.Path(p.Dest)},
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

// entryName decodes an entry's name: UTF-8 when it is valid UTF-8 (flagged
// or not: many tools write UTF-8 without the flag), else CP949, the code
// page of Korean Windows zip tools.
func entryName(f *zip.File) string {
	if utf8.ValidString(f.Name) {
		return f.Name
	}
	if decoded, err := korean.EUCKR.NewDecoder().String(f.Name); err == nil {
		return decoded
	}
	return f.Name
}

// checkEntries validates every entry before anything is written.
func checkEntries(zr *zip.Reader, maxBytes int64, maxRatio int) ([]entry, error) {
	var (
		entries  []entry
		problems []string
		total    uint64
		seen     = map[string]bool{}
		links    = map[string]bool{}
	)
	for _, f := range zr.File {
		raw := entryName(f)
		name := strings.ReplaceAll(raw, `\`, "/")
		isDir := strings.HasSuffix(name, "/")
		clean := path.Clean(name)
		switch {
		case name == "" || clean == "." && !isDir:
			problems = append(problems, fmt.Sprintf("%q: an empty name", raw))
			continue
		case path.IsAbs(clean) || (len(clean) > 1 && clean[1] == ':'):
			problems = append(problems, fmt.Sprintf("%q: an absolute path", raw))
			continue
		case clean == ".." || strings.HasPrefix(clean, "../"):
			problems = append(problems, fmt.Sprintf("%q: it would land outside the destination", raw))
			continue
		}
		if seen[clean] {
			problems = append(problems, fmt.Sprintf("%q: the name appears twice", raw))
			continue
		}
		seen[clean] = true
		e := entry{f: f, name: clean}
		if f.Mode()&fs.ModeSymlink != 0 {
			target, err := readSmall(f, 4096)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%q: %v", raw, err))
				continue
			}
			resolved := path.Clean(path.Join(path.Dir(clean), target))
			if path.IsAbs(target) || resolved == ".." || strings.HasPrefix(resolved, "../") {
				problems = append(problems, fmt.Sprintf("%q: a symlink pointing outside the destination (%s)", raw, target))
				continue
			}
			e.target = target
			links[clean] = true
		}
		total += f.UncompressedSize64
		if f.UncompressedSize64 > 1<<20 && f.CompressedSize64 > 0 && f.UncompressedSize64/f.CompressedSize64 > uint64(maxRatio) {
			problems = append(problems, fmt.Sprintf("%q: compressed %d:1, over max_ratio %d (a zip bomb?)", raw, f.UncompressedSize64/f.CompressedSize64, maxRatio))
		}
		entries = append(entries, e)
	}
	// A file reached through a symlink of the same archive could be
	// written anywhere the link points.
	for _, e := range entries {
		for dir := path.Dir(e.name); dir != "."; dir = path.Dir(dir) {
			if links[dir] {
				problems = append(problems, fmt.Sprintf("%q: it lies under the symlink %q", e.name, dir))
				break
			}
		}
	}
	if total > uint64(maxBytes) {
		problems = append(problems, fmt.Sprintf("the archive unpacks to %s, over max_bytes %s (a zip bomb?)", humanBytes(int64(total)), humanBytes(maxBytes)))
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("refusing to unpack:\n  %s", strings.Join(problems, "\n  "))
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

func runUnzip(ctx context.Context, env *tasktype.Env, p *UnzipParams) (tasktype.Outputs, error) {
	src, dest := env.Path(p.Src), env.Path(p.Dest)
	maxBytes, _ := parseSize(p.MaxBytes) // checked by Check
	zr, err := zip.OpenReader(src)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", src, err)
	}
	defer zr.Close()
	entries, err := checkEntries(&zr.Reader, maxBytes, p.MaxRatio)
	if err != nil {
		return nil, fmt.Errorf("unzip %s: %w", src, err)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return nil, fmt.Errorf("unzip %s: %w", src, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".unzip-")
	if err != nil {
		return nil, fmt.Errorf("unzip %s: %w", src, err)
	}
	defer os.RemoveAll(tmp)
	var declared int64
	for _, e := range entries {
		declared += int64(e.f.UncompressedSize64)
	}
	files, total, err := extractAll(ctx, env, entries, tmp, maxBytes, declared)
	if err != nil {
		return nil, fmt.Errorf("unzip %s: %w", src, err)
	}
	written, unchanged, err := mergeInto(tmp, dest, entries, p.Overwrite)
	if err != nil {
		return nil, fmt.Errorf("unzip %s into %s: %w", src, dest, err)
	}
	fmt.Fprintf(env.Log, "unzipped %d files (%s) into %s: %d written, %d unchanged\n", files, humanBytes(total), dest, written, unchanged)
	return tasktype.Outputs{"path": dest, "files": files, "bytes": total, "written": written, "unchanged": unchanged}, nil
}

// extractAll writes every entry under tmp, counting real bytes: an entry
// that expands beyond its declared size is a bomb, whatever its header says.
func extractAll(ctx context.Context, env *tasktype.Env, entries []entry, tmp string, maxBytes, declared int64) (int, int64, error) {
	var total int64
	files := 0
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return files, total, err
		}
		out := filepath.Join(tmp, filepath.FromSlash(e.name))
		switch {
		case e.f.Mode().IsDir():
			if err := os.MkdirAll(out, 0o755); err != nil {
				return files, total, err
			}
			continue
		case e.target != "":
			os.MkdirAll(filepath.Dir(out), 0o755)
			if err := os.Symlink(e.target, out); err != nil {
				return files, total, err
			}
			files++
			continue
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return files, total, err
		}
		n, err := extractFile(e, out)
		total += n
		if err != nil {
			return files, total, err
		}
		if total > maxBytes {
			return files, total, fmt.Errorf("the archive unpacks to more than max_bytes %s (a zip bomb?)", humanBytes(maxBytes))
		}
		files++
		env.Progress.Progress(total, declared)
	}
	return files, total, nil
}

func extractFile(e entry, out string) (int64, error) {
	r, err := e.f.Open()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", e.name, err)
	}
	defer r.Close()
	perm := e.f.Mode().Perm() | 0o600
	w, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return 0, err
	}
	declared := int64(e.f.UncompressedSize64)
	n, err := io.Copy(w, io.LimitReader(r, declared+1))
	// archive/zip itself stops an entry that outgrows its header with
	// ErrFormat; say what it means.
	switch {
	case err == nil && n > declared:
		w.Close()
		return n, fmt.Errorf("%s expands beyond its declared %d bytes (a zip bomb?)", e.name, declared)
	case errors.Is(err, zip.ErrFormat):
		w.Close()
		return n, fmt.Errorf("%s expands beyond its declared %d bytes, or its data is damaged (a zip bomb?)", e.name, declared)
	}
	if err == nil {
		err = w.Sync()
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("%s: %w", e.name, err)
	}
	if !e.f.Modified.IsZero() {
		os.Chtimes(out, e.f.Modified, e.f.Modified)
	}
	return n, nil
}

// mergeInto moves the unpacked files into dest: all at once when dest is
// new, else file by file after every conflict has been found, so that a
// refusal changes nothing.
func mergeInto(tmp, dest string, entries []entry, overwrite string) (written, unchanged int, err error) {
	if _, err := os.Lstat(dest); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(tmp, dest); err != nil {
			return 0, 0, err
		}
		os.MkdirAll(tmp, 0o755) // for the deferred RemoveAll
		n := 0
		for _, e := range entries {
			if !e.f.Mode().IsDir() {
				n++
			}
		}
		return n, 0, nil
	}
	type move struct{ from, to string }
	var moves []move
	var conflicts []string
	for _, e := range entries {
		if e.f.Mode().IsDir() {
			continue
		}
		from := filepath.Join(tmp, filepath.FromSlash(e.name))
		to := filepath.Join(dest, filepath.FromSlash(e.name))
		old, err := os.Lstat(to)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			moves = append(moves, move{from, to})
			continue
		case err != nil:
			return 0, 0, err
		case old.IsDir():
			conflicts = append(conflicts, e.name+" (a folder in the destination)")
			continue
		}
		if same, err := sameContent(from, to); err != nil {
			return 0, 0, err
		} else if same {
			unchanged++
			continue
		}
		switch overwrite {
		case "always":
			moves = append(moves, move{from, to})
		case "if_newer":
			if e.f.Modified.After(old.ModTime()) {
				moves = append(moves, move{from, to})
			} else {
				unchanged++
			}
		default:
			conflicts = append(conflicts, e.name)
		}
	}
	if len(conflicts) > 0 {
		return 0, 0, fmt.Errorf("%d files in the destination differ from the archive's (overwrite: never): %s; set overwrite: always or if_newer, or restore into an empty folder",
			len(conflicts), strings.Join(conflicts, ", "))
	}
	for _, m := range moves {
		if err := os.MkdirAll(filepath.Dir(m.to), 0o755); err != nil {
			return written, unchanged, err
		}
		if err := os.Rename(m.from, m.to); err != nil {
			return written, unchanged, err
		}
		written++
	}
	return written, unchanged, nil
}

// sameContent compares two files byte for byte (symlinks by target).
func sameContent(a, b string) (bool, error) {
	ia, err := os.Lstat(a)
	if err != nil {
		return false, err
	}
	ib, err := os.Lstat(b)
	if err != nil {
		return false, err
	}
	if ia.Mode().Type() != ib.Mode().Type() || ia.Size() != ib.Size() {
		return false, nil
	}
	if ia.Mode()&fs.ModeSymlink != 0 {
		ta, _ := os.Readlink(a)
		tb, _ := os.Readlink(b)
		return ta == tb, nil
	}
	fa, err := os.Open(a)
	if err != nil {
		return false, err
	}
	defer fa.Close()
	fb, err := os.Open(b)
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
