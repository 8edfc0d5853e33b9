package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/novelfactory/runner/internal/testtools"
)

// TestPublishRecipeOnTheExample runs the shipped publish recipe on the
// bundled projects: every EPUB passes epubcheck with no warning, every PDF
// reads back with its metadata, and a second run gives the same bytes.
func TestPublishRecipeOnTheExample(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	res := runner(t, dir, baseEnv(), "apply", "recipes/publish-epub.yaml")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "published Ember.epub, Pilot.epub (5 episodes)") {
		t.Errorf("report line missing:\n%s", res.stdout)
	}
	dist := filepath.Join(dir, "build/dist")
	first := map[string][]byte{}
	for _, name := range []string{"Pilot.epub", "Ember.epub", "Pilot.pdf", "Ember.pdf"} {
		path := filepath.Join(dist, name)
		if strings.HasSuffix(name, ".epub") {
			testtools.EPUBCheck(t, path)
		} else {
			info := testtools.Poppler(t, "pdfinfo", path)
			if !strings.Contains(info, "Page size:       419.53 x 595.28 pts") {
				t.Errorf("%s is not A5:\n%s", name, info)
			}
		}
		first[name] = []byte(readFile(t, path))
	}
	info := testtools.Poppler(t, "pdfinfo", filepath.Join(dist, "Pilot.pdf"))
	for _, want := range []string{"Title:           쓰이지 않은 책들의 서고", "Author:          한서윤", "CreationDate:    Sun Nov  1 00:00:00 2026 UTC"} {
		if !strings.Contains(info, want) {
			t.Errorf("Pilot.pdf: pdfinfo lacks %q:\n%s", want, info)
		}
	}
	text := testtools.Poppler(t, "pdftotext", filepath.Join(dist, "Pilot.pdf"), "-")
	if !strings.Contains(text, "“누구 있어요?”") || !strings.Contains(text, "제10화 마지막 관문") {
		t.Errorf("Pilot.pdf text:\n%s", text)
	}

	// Again, for one project: the same bytes (reproducible: true).
	res = runner(t, dir, baseEnv(), "apply", "recipes/publish-epub.yaml", "--set", "project=Pilot")
	if res.code != 0 || strings.Contains(res.stdout, "Ember") {
		t.Fatalf("exit %d (want only Pilot)\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	for _, name := range []string{"Pilot.epub", "Pilot.pdf"} {
		if readFile(t, filepath.Join(dist, name)) != string(first[name]) {
			t.Errorf("%s: a second run gave different bytes", name)
		}
	}
}

// TestAFailedPublishKeepsTheLastGoodBook: an episode no font can set (a
// private-use character; an emoji is drawn by a fallback font)
// fails the run, and the book already in dist/ stays as it was, with no
// temporary file beside it.
func TestAFailedPublishKeepsTheLastGoodBook(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	if res := runner(t, dir, baseEnv(), "apply", "recipes/publish-epub.yaml", "--set", "project=Pilot"); res.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	dist := filepath.Join(dir, "build/dist")
	good := readFile(t, filepath.Join(dist, "Pilot.pdf"))
	episode := filepath.Join(dir, "examples/factory/projects/Pilot/episodes/002.md")
	if err := os.WriteFile(episode, []byte("# 제2화\n\n웃음 \ue000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runner(t, dir, baseEnv(), "apply", "recipes/publish-epub.yaml", "--set", "project=Pilot")
	if res.code != 1 || !strings.Contains(res.stdout+res.stderr, "002.md:3: character '\\ue000' (U+E000) is in none of the fonts (NanumMyeongjo, ") {
		t.Fatalf("exit %d, want 1 naming the character\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if readFile(t, filepath.Join(dist, "Pilot.pdf")) != good {
		t.Error("the failed run changed the last good PDF")
	}
	entries, err := os.ReadDir(dist)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// TestPublishParamsAreCheckedBeforeAnythingRuns: a wrong page size is a
// validation error at its line.
func TestPublishParamsAreCheckedBeforeAnythingRuns(t *testing.T) {
	dir := t.TempDir()
	recipe := filepath.Join(dir, "book.yaml")
	body := "version: 1\nname: book\ntasks:\n  pdf:\n    uses: md2pdf\n    with:\n      src: episodes\n      dest: out.pdf\n      page_size: a55\n"
	if err := os.WriteFile(recipe, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runner(t, dir, baseEnv(), "validate", "book.yaml")
	if res.code != 2 || !strings.Contains(res.stderr, "book.yaml:9:18:") || !strings.Contains(res.stderr, `page_size "a55": use a5, b6`) {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
}
