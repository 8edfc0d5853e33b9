package glob_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/novelfactory/runner/internal/glob"
)

// TestGlobDoesNotFollowLinkLoops: "**" followed a link to a parent folder
// round and round — 12 links made the walk exponential and ran runner out
// of memory (hostile review of issue 11, finding 1). Links to folders are
// listed, not entered; a glob matching too many paths is an error.
func TestGlobDoesNotFollowLinkLoops(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 12; i++ {
		sub := filepath.Join(dir, fmt.Sprintf("d%d", i))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("..", filepath.Join(sub, "up")); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, "ep.md"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := glob.Match(dir, "**/*.md")
	if err != nil || len(got) != 12 {
		t.Fatalf("got %d paths (%v), want the 12 real episodes: %.200q", len(got), err, got)
	}
	many := t.TempDir()
	for i := 0; i <= glob.MaxMatches/1000; i++ {
		sub := filepath.Join(many, fmt.Sprint(i))
		os.MkdirAll(sub, 0o755)
		for j := 0; j < 1000; j++ {
			os.WriteFile(filepath.Join(sub, fmt.Sprint(j)), nil, 0o644)
		}
	}
	if _, err := glob.Match(many, "**/*"); err == nil || !strings.Contains(err.Error(), "matches more than 100000 paths") {
		t.Errorf("a glob of 101,000 files: %v", err)
	}
}
