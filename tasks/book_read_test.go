package tasks_test

import (
	"archive/zip"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBooksReadOutsideTheProjectOnlyWhatAllowReadLists: an absolute image
// path was a documented way to show shared art, and so was a planted link's
// way to put any file into a book. Now its folder must be under allow_read,
// which is resolved from the recipe's folder like every other path.
func TestBooksReadOutsideTheProjectOnlyWhatAllowReadLists(t *testing.T) {
	for _, uses := range []string{"md2epub", "md2pdf"} {
		t.Run(uses+" refuses the image until allow_read lists its folder", func(t *testing.T) {
			factory := t.TempDir()
			art := filepath.Join(factory, "shared/art/map.png")
			writeTestPNG(t, art)
			episode := filepath.Join(factory, "projects/Pilot/episodes/001.md")
			if err := os.MkdirAll(filepath.Dir(episode), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(episode, []byte("# 제1화\n\n지도를 펼쳤다.\n\n![지도]("+art+")\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			with := map[string]any{"src": "projects/Pilot/episodes", "dest": "out/book", "title": "지도"}
			_, _, err := runTask(context.Background(), t, uses, factory, with)
			want := "001.md:5: image " + art + ": " + art + " is outside the project folder " + filepath.Join(factory, "projects/Pilot")
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, want)
			}
			if _, err := os.Stat(filepath.Join(factory, "out/book")); err == nil {
				t.Fatal("a book was written with a refused image")
			}
			with["allow_read"] = []any{"shared/art"}
			out, log, err := runTask(context.Background(), t, uses, factory, with)
			if err != nil {
				t.Fatalf("with allow_read: %v\n%s", err, log)
			}
			if uses == "md2epub" {
				zr, err := zip.OpenReader(out["path"].(string))
				if err != nil {
					t.Fatal(err)
				}
				defer zr.Close()
				if _, err := zr.Open("EPUB/images/img-001.png"); err != nil {
					t.Fatalf("the allowed image is not in the EPUB: %v", err)
				}
			}
		})
	}
}

func writeTestPNG(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, image.NewGray(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
}
