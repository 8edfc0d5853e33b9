package distrun

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// CopyImage copies each folder of image into dst under its base name, as
// Run does for every step: for a local run of the same recipe on the same
// files.
func CopyImage(dst string, image []string) error { return copyImage(dst, image, false) }

func copyImage(dst string, image []string, link bool) error {
	for _, src := range image {
		if err := copyTree(src, filepath.Join(dst, filepath.Base(src)), link); err != nil {
			return fmt.Errorf("copy the image into %s: %w", dst, err)
		}
	}
	return nil
}

// copyTree copies folder src to dst (which must not exist): folders,
// regular files with their permission bits, and symbolic links as links.
// A .runner folder (runs of the tree's recipes) is not part of an image.
// With link, files are hard links to src's instead of copies.
func copyTree(src, dst string, link bool) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir() && d.Name() == ".runner" && path != src:
			return filepath.SkipDir
		case d.IsDir():
			return os.Mkdir(target, info.Mode().Perm()|0o700)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.Type().IsRegular() && link:
			return os.Link(path, target)
		case d.Type().IsRegular():
			return copyFile(path, target, info.Mode().Perm())
		default:
			return fmt.Errorf("%s is neither a file, a folder nor a link: an image holds no such thing", path)
		}
	})
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Close()
}
