package testtools

import (
	"path/filepath"
	"testing"

	"github.com/novelfactory/runner/internal/bookgen"
)

// Book writes a seeded manuscript of episodes × about chars characters into
// a temporary folder and returns its episodes folder.
func Book(tb testing.TB, episodes, chars int, seed uint64) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "episodes")
	if err := bookgen.Write(dir, episodes, chars, seed); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// RichBook writes bookgen's feature-complete project (parts, images,
// tables, footnotes, a JPEG cover) into a temporary folder and returns it.
func RichBook(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	if err := bookgen.WriteRich(dir); err != nil {
		tb.Fatal(err)
	}
	return dir
}
