package manuscript

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"golang.org/x/text/encoding/korean"
)

// writeTree writes files (path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// writePNG writes a w×h PNG.
func writePNG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(1, 1, color.RGBA{200, 10, 10, 255})
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

func load(t *testing.T, opt Options) *Book {
	t.Helper()
	b, err := Load(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadErr(t *testing.T, opt Options) string {
	t.Helper()
	_, err := Load(context.Background(), opt)
	if err == nil {
		t.Fatal("Load succeeded, want an error")
	}
	return err.Error()
}

func titles(b *Book) []string {
	var out []string
	for _, ch := range b.Chapters {
		out = append(out, ch.Title)
	}
	return out
}

func TestNaturalOrder(t *testing.T) {
	names := []string{"10.md", "2.md", "1.md", "제10화.md", "제2화.md", "제1화.md", "a/3.md", "a/20.md", "02.md"}
	sort.Slice(names, func(i, j int) bool { return NaturalLess(names[i], names[j]) })
	want := []string{"1.md", "02.md", "2.md", "10.md", "a/3.md", "a/20.md", "제1화.md", "제2화.md", "제10화.md"}
	if !slices.Equal(names, want) {
		t.Fatalf("order %q, want %q", names, want)
	}
}

func TestLoadOrdersTitlesAndLeavesDraftsOut(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"제10화.md":   "# 제10화 마지막 관문\n\n끝.\n",
		"제2화.md":    "---\ntitle: 둘째 날\n---\n\n첫 문단.\n",
		"제1화.md":    "첫 문단에 제목이 없다.\n\n## 나중의 제목\n",
		"제3화.md":    "---\ntitle: 쓰는 중\ndraft: true\n---\n미완성\n",
		"외전.md":     "---\norder: 1.5\n---\n# 외전\n",
		"notes.txt": "not an episode",
	})
	b := load(t, Options{Src: dir})
	want := []string{"나중의 제목", "외전", "둘째 날", "제10화 마지막 관문"}
	if got := titles(b); !slices.Equal(got, want) {
		t.Fatalf("titles %q, want %q", got, want)
	}
	if b.Drafts != 1 {
		t.Fatalf("drafts %d, want 1", b.Drafts)
	}
	if b.Chapters[3].TitleHeading != nil || b.Chapters[3].Doc != nil || b.Chapters[3].Source != nil {
		t.Fatal("Load keeps parsed trees or texts; renderers read and parse again")
	}
	if err := b.Parse(b.Chapters[3], Markdown(false)); err != nil {
		t.Fatal(err)
	}
	if b.Chapters[3].TitleHeading == nil {
		t.Fatal("the opening heading that repeats the title is not marked as the title heading")
	}
	b.Chapters[3].Release()
	if b.Chapters[0].Chars != len([]rune("첫 문단에 제목이 없다.나중의 제목")) {
		t.Fatalf("chars %d", b.Chapters[0].Chars)
	}
}

func TestLoadFollowsAnExplicitOrderAndFallsBackToFileNames(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"b.md": "본문 B\n", "a.md": "본문 A\n", "c.md": "본문 C\n"})
	b := load(t, Options{Src: dir, Order: []string{"c.md", "a.md"}})
	if got := titles(b); !slices.Equal(got, []string{"c", "a"}) {
		t.Fatalf("titles %q", got)
	}
	if msg := loadErr(t, Options{Src: dir, Order: []string{"z.md"}}); !strings.Contains(msg, "order lists z.md") {
		t.Fatalf("error %q", msg)
	}
}

func TestLoadGlobAndPartsFromFolders(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"1부/01.md": "# 하나\n", "1부/02.md": "# 둘\n", "2부/01.md": "---\npart: 2부 귀환\n---\n# 셋\n", "skip.txt": "x"})
	b := load(t, Options{Src: filepath.Join(dir, "**/*.md")})
	var parts []string
	for _, ch := range b.Chapters {
		parts = append(parts, ch.Part)
	}
	if !slices.Equal(parts, []string{"1부", "1부", "2부 귀환"}) || !slices.Equal(titles(b), []string{"하나", "둘", "셋"}) {
		t.Fatalf("parts %q titles %q", parts, titles(b))
	}
}

func TestMetadataPrecedenceAndEpisodesStayApart(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"book.yaml":       "title: 책 제목\nauthor: 한서윤\ndate: 2026-11-01\ncover: art/cover.png\nsubjects: [판타지]\n",
		"episodes/001.md": "---\ntitle: 제1화\ndate: 1999-01-01\nauthor: 누군가\n---\n본문\n",
	})
	writePNG(t, filepath.Join(root, "art/cover.png"), 16, 24)
	b := load(t, Options{Src: filepath.Join(root, "episodes"), Meta: Metadata{Author: "김작가"}})
	m := b.Meta
	if m.Title != "책 제목" || m.Author != "김작가" || m.Date != "2026-11-01" || m.Language != "ko" || !slices.Equal(m.Subjects, []string{"판타지"}) {
		t.Fatalf("metadata %+v", m)
	}
	if m.Cover != filepath.Join(root, "art/cover.png") {
		t.Fatalf("cover %q: want it resolved against book.yaml's folder", m.Cover)
	}
	if fmt.Sprint(b.Chapters[0].Front["date"])[:10] != "1999-01-01" {
		t.Fatalf("episode front matter %v", b.Chapters[0].Front)
	}
	id := m.URN()
	if !strings.HasPrefix(id, "urn:uuid:") || id != (&Metadata{Title: "책 제목", Author: "김작가"}).URN() {
		t.Fatalf("identifier %q is not derived from title and authors", id)
	}
	if (&Metadata{Title: "다른 책", Author: "김작가"}).URN() == id {
		t.Fatal("two books share an identifier")
	}
	if got := (&Metadata{Identifier: "978-89-12345-67-8"}).URN(); got != "urn:isbn:9788912345678" {
		t.Fatalf("ISBN urn %q", got)
	}
}

func TestBadInputsAreClearErrors(t *testing.T) {
	cp949, err := korean.EUCKR.NewEncoder().String("# 제1화\n\n안녕하세요\n")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"empty folder", map[string]string{"readme.txt": "x"}, []string{"no Markdown episodes (*.md) in"}},
		{"cp949", map[string]string{"001.md": cp949}, []string{"001.md:1:3: not UTF-8", "CP949/EUC-KR", "iconv -f CP949 -t UTF-8"}},
		{"broken front matter", map[string]string{"001.md": "---\ntitle: 제1화\norder: 1\n bad: : x\n---\n본문\n"}, []string{"001.md: front matter:", "line 4: mapping values are not allowed"}},
		{"unclosed front matter", map[string]string{"001.md": "---\ntitle: 제1화\n\n본문\n"}, []string{"001.md:1:1: front matter opened with --- is never closed"}},
		{"front matter not a mapping", map[string]string{"001.md": "---\n- a\n---\n"}, []string{"001.md:2:1: front matter must be a mapping"}},
		{"bad draft", map[string]string{"001.md": "---\ndraft: maybe\n---\n"}, []string{"001.md:2:8: front matter draft: expected true or false"}},
		{"missing image", map[string]string{"001.md": "# 제1화\n\n본문\n\n![지도](../images/map.png)\n"}, []string{"001.md:5: image ../images/map.png: not found (looked in"}},
		{"unreadable image", map[string]string{"001.md": "본문\n\n![깨진 그림](broken.png)\n", "broken.png": "this is not a picture"}, []string{"001.md:3: image broken.png:", "not a readable PNG, JPEG, GIF or SVG image"}},
		{"remote image", map[string]string{"001.md": "![원격](https://example.com/a.png)\n"}, []string{"001.md:1: image https://example.com/a.png: only local images are embedded"}},
		{"all drafts", map[string]string{"001.md": "---\ndraft: true\n---\n"}, []string{"all 1 episodes", "are drafts"}},
		{"book.yaml typo", map[string]string{"001.md": "본문\n", "book.yaml": "title: 책\nauthr: 누구\n"}, []string{`book.yaml:2:1: unknown field "authr"; did you mean author?`}},
		{"bad date", map[string]string{"001.md": "본문\n", "book.yaml": "date: 11/01/2026\n"}, []string{`date "11/01/2026": use YYYY, YYYY-MM or YYYY-MM-DD`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, c.files)
			msg := loadErr(t, Options{Src: dir})
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\nwant it to contain %q", msg, w)
				}
			}
		})
	}
}

func TestImagesAreFoundWhereAuthorsMeanThemAndEmbeddedOnce(t *testing.T) {
	root := t.TempDir()
	eps := filepath.Join(root, "episodes")
	writeTree(t, root, map[string]string{
		"episodes/001.md":    "![지도](../images/map.png)\n\n![장면](art/scene.png)\n",
		"episodes/1부/002.md": "![지도 다시](/images/map.png)\n\n![띄어쓰기](../art/with%20space.png)\n",
		"episodes/003.md":    "![절대 경로](" + filepath.Join(root, "images/map.png") + ")\n",
	})
	writePNG(t, filepath.Join(root, "images/map.png"), 40, 30)
	writePNG(t, filepath.Join(eps, "art/scene.png"), 20, 10)
	writePNG(t, filepath.Join(eps, "art/with space.png"), 5, 5)
	b := load(t, Options{Src: eps})
	var names []string
	for _, img := range b.Images {
		names = append(names, filepath.Base(img.Path)+"→"+img.Name)
	}
	want := []string{"map.png→images/img-001.png", "scene.png→images/img-002.png", "with space.png→images/img-003.png"}
	if !slices.Equal(names, want) {
		t.Fatalf("images %q, want %q", names, want)
	}
	if b.Images[0].Width != 40 || b.Images[0].Height != 30 || b.Images[0].MediaType != "image/png" {
		t.Fatalf("image %+v", b.Images[0])
	}
	// Parsed again, every image points at its one copy in the book.
	for _, ch := range b.Chapters {
		if err := b.Parse(ch, Markdown(false)); err != nil {
			t.Fatal(err)
		}
		var buf strings.Builder
		if err := Markdown(false).Renderer().Render(&buf, ch.Source, ch.Doc); err != nil {
			t.Fatal(err)
		}
		if strings.Count(buf.String(), `src="../images/img-00`) == 0 {
			t.Fatalf("%s renders %s", ch.Rel, buf.String())
		}
		ch.Release()
	}
}

// TestLoadKeepsNoTextAndParseChecksItIsUnchanged: Load kept every
// episode's text until the book was written — 3,000 episodes held 41 MiB
// and md2pdf peaked at 157 MiB. Parse reads an episode again and refuses
// one that changed since Load read it (its title, links and images were
// decided from the old text).
func TestLoadKeepsNoTextAndParseChecksItIsUnchanged(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"001.md": "# 하나\n\n본문.\n", "002.md": "# 둘\n\n본문.\n"})
	b := load(t, Options{Src: dir})
	for _, ch := range b.Chapters {
		if ch.Source != nil {
			t.Fatalf("%s: Load kept its text", ch.Rel)
		}
	}
	if err := b.Parse(b.Chapters[0], Markdown(false)); err != nil || !strings.Contains(string(b.Chapters[0].Source), "본문") {
		t.Fatalf("Parse: %v, text %q", err, b.Chapters[0].Source)
	}
	b.Chapters[0].Release()
	if err := os.WriteFile(filepath.Join(dir, "002.md"), []byte("# 둘\n\n고친 본문.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := b.Parse(b.Chapters[1], Markdown(false))
	if err == nil || err.Error() != "002.md changed while the book was being made: run again" {
		t.Errorf("Parse of a changed episode: %v", err)
	}
}
