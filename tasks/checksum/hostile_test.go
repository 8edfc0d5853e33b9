package checksum_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sha256sum -c reads a listed name "-" as its standard input, so a file
// named - in dest's folder would fail the check: it is refused.
func TestRefusesAFileNamedDash(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"-": "x", "a.zip": "a"})
	_, err := run(t, dir, map[string]any{"files": []any{"*"}})
	if err == nil || !strings.Contains(err.Error(), "standard input") {
		t.Errorf("error %v, want one saying sha256sum reads - as its standard input", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "SHA256SUMS")); err == nil {
		t.Error("SHA256SUMS written anyway")
	}
}
