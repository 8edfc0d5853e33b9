package tasks_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMd2pdfRefusesPagesWithoutRoom runs md2pdf with page sizes, margins
// and type at their extremes: each that leaves no room is an error naming
// the param, never a PDF set off the page. Before, "nan" passed as a page
// width or a margin (strconv reads it) and a 40 mm text area at 30 pt and
// line height 4 set every line on a page of its own, past the bottom.
func TestMd2pdfRefusesPagesWithoutRoom(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "001.md"), []byte("# 제1화\n\n본문\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		with map[string]any
		want string
	}{
		{map[string]any{"page_size": "nanx210"}, "leaves a text area of NaNx"},
		{map[string]any{"margins": "nan"}, "leaves a text area of NaNxNaN mm"},
		{map[string]any{"margins": "inf"}, "margins \"inf\" leave less than 40 mm"},
		{map[string]any{"page_size": "1e400x210"}, "page_size \"1e400x210\": use a5"},
		{map[string]any{"page_size": "50x50", "margins": "5", "font_size": 30, "line_height": 4}, "leaves no room for a line on a text area 40 mm high"},
		{map[string]any{"margins": "0 74 0 74"}, "leave less than 40 mm of text area"},
	} {
		with := map[string]any{"src": dir, "dest": filepath.Join(dir, "out.pdf")}
		for k, v := range c.with {
			with[k] = v
		}
		_, _, err := runTask(context.Background(), t, "md2pdf", dir, with)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.with, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out.pdf")); err == nil {
		t.Error("a PDF was written")
	}
}
