package manuscript

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hostileProject lays out base/projects/Pilot (episodes/001.md, images/map.png)
// beside base/outside, which holds what no book should show: a secret, a
// picture, a book.yaml, a stylesheet and a folder of episodes. Then it writes
// files and makes links (name → target), "{base}" in either standing for base.
func hostileProject(t *testing.T, files, links map[string]string) (base, proj string) {
	t.Helper()
	base = t.TempDir()
	proj = filepath.Join(base, "projects/Pilot")
	writeTree(t, base, map[string]string{
		"outside/secret.md":              "# 비밀\n\nroot:$6$planted-hash:19000:0:99999:7:::\n",
		"outside/book.yaml":              "title: 남의 책\n",
		"outside/style.css":              "body { color: red }\n",
		"outside/eps/001.md":             "# 밖의 화\n\n![그림](pic.png)\n",
		"projects/Pilot/episodes/001.md": "# 제1화\n\n본문\n",
	})
	for name, content := range files {
		writeTree(t, base, map[string]string{name: strings.ReplaceAll(content, "{base}", base)})
	}
	writePNG(t, filepath.Join(base, "outside/pic.png"), 8, 8)
	writePNG(t, filepath.Join(base, "outside/eps/pic.png"), 8, 8)
	writePNG(t, filepath.Join(proj, "images/map.png"), 8, 8)
	for name, target := range links {
		p := filepath.Join(base, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(strings.ReplaceAll(target, "{base}", base), p); err != nil {
			t.Fatal(err)
		}
	}
	return base, proj
}

// TestFilesOutsideTheProjectAreRefused: an episode that was a planted link to
// /etc/shadow was published as a chapter. Whatever the manuscript finds by
// itself must resolve to a file inside the project, however it is spelt.
func TestFilesOutsideTheProjectAreRefused(t *testing.T) {
	const rule = ": only files inside it are read (list another folder under allow_read to allow it)"
	climb := strings.Repeat("../", 40) // past the root of any temp dir
	cases := []struct {
		name  string
		files map[string]string
		links map[string]string
		opt   func(base, proj string) Options
		want  []string // "{base}" and "{proj}" stand for the folders
	}{
		{
			name:  "an episode that is a symlink to a file outside",
			links: map[string]string{"projects/Pilot/episodes/ep3.md": "{base}/outside/secret.md"},
			want:  []string{"episodes/ep3.md is a symlink to {base}/outside/secret.md, outside the project folder {proj}" + rule},
		},
		{
			name: "an episode linked to a link inside that leads outside",
			links: map[string]string{
				"projects/Pilot/notes/latest.md": "{base}/outside/secret.md",
				"projects/Pilot/episodes/ep3.md": "../notes/latest.md",
			},
			want: []string{"episodes/ep3.md is a symlink to {base}/outside/secret.md, outside the project folder {proj}"},
		},
		{
			name:  "a glob whose matches include a link outside",
			links: map[string]string{"projects/Pilot/episodes/ep3.md": "{base}/outside/secret.md"},
			opt:   func(_, proj string) Options { return Options{Src: filepath.Join(proj, "episodes/*.md")} },
			want:  []string{"episodes/ep3.md is a symlink to {base}/outside/secret.md"},
		},
		{
			name:  "order naming a link outside",
			links: map[string]string{"projects/Pilot/episodes/ep3.txt": "{base}/outside/secret.md"},
			opt: func(_, proj string) Options {
				return Options{Src: filepath.Join(proj, "episodes"), Order: []string{"001.md", "ep3.txt"}}
			},
			want: []string{"episodes/ep3.txt is a symlink to {base}/outside/secret.md"},
		},
		{
			name:  "order naming a file in a linked folder outside",
			links: map[string]string{"projects/Pilot/episodes/extra": "{base}/outside/eps"},
			opt: func(_, proj string) Options {
				return Options{Src: filepath.Join(proj, "episodes"), Order: []string{"001.md", "extra/001.md"}}
			},
			want: []string{"episodes/extra/001.md resolves to {base}/outside/eps/001.md, outside the project folder {proj}"},
		},
		{
			name: "order climbing out with ../",
			opt: func(_, proj string) Options {
				return Options{Src: filepath.Join(proj, "episodes"), Order: []string{"001.md", "../../../outside/secret.md"}}
			},
			want: []string{"{base}/outside/secret.md is outside the project folder {proj}"},
		},
		{
			name:  "an image that is a symlink to a file outside",
			files: map[string]string{"projects/Pilot/episodes/001.md": "# 제1화\n\n본문\n\n![그림](art/pic.png)\n"},
			links: map[string]string{"projects/Pilot/episodes/art/pic.png": "{base}/outside/pic.png"},
			want:  []string{"001.md:5: image art/pic.png: episodes/art/pic.png is a symlink to {base}/outside/pic.png, outside the project folder {proj}" + rule},
		},
		{
			name:  "an image in a linked folder outside",
			files: map[string]string{"projects/Pilot/episodes/001.md": "![그림](art/pic.png)\n"},
			links: map[string]string{"projects/Pilot/episodes/art": "{base}/outside"},
			want:  []string{"001.md:1: image art/pic.png: episodes/art/pic.png resolves to {base}/outside/pic.png"},
		},
		{
			name:  "an image path climbing out with ../",
			files: map[string]string{"projects/Pilot/episodes/001.md": "본문\n\n![](../../../outside/pic.png)\n"},
			want:  []string{"001.md:3: image ../../../outside/pic.png: {base}/outside/pic.png is outside the project folder {proj}"},
		},
		{
			name:  "an image path climbing past the root",
			files: map[string]string{"projects/Pilot/episodes/001.md": "![](" + climb + "{base}/outside/pic.png)\n"},
			want:  []string{"001.md:1: image " + climb, "{base}/outside/pic.png is outside the project folder {proj}"},
		},
		{
			name:  "an absolute image path outside",
			files: map[string]string{"projects/Pilot/episodes/001.md": "![]({base}/outside/pic.png)\n"},
			want:  []string{"001.md:1: image {base}/outside/pic.png: {base}/outside/pic.png is outside the project folder {proj}" + rule},
		},
		{
			name:  "book.yaml's cover outside",
			files: map[string]string{"projects/Pilot/book.yaml": "title: 책\ncover: ../../outside/pic.png\n"},
			want:  []string{"{proj}/book.yaml: cover: {base}/outside/pic.png is outside the project folder {proj}"},
		},
		{
			name:  "book.yaml's css a symlink outside",
			files: map[string]string{"projects/Pilot/book.yaml": "title: 책\ncss: book.css\n"},
			links: map[string]string{"projects/Pilot/book.css": "{base}/outside/style.css"},
			want:  []string{"{proj}/book.yaml: css: book.css is a symlink to {base}/outside/style.css"},
		},
		{
			name:  "a book.yaml beside src that is a symlink outside",
			links: map[string]string{"projects/Pilot/episodes/book.yaml": "{base}/outside/book.yaml"},
			want:  []string{"episodes/book.yaml is a symlink to {base}/outside/book.yaml"},
		},
		{
			name: "an allow_read folder that does not exist",
			opt: func(base, proj string) Options {
				return Options{Src: filepath.Join(proj, "episodes"), AllowRead: []string{filepath.Join(base, "nowhere")}}
			},
			want: []string{"allow_read {base}/nowhere:"},
		},
		{
			name: "an empty allow_read folder name",
			opt: func(_, proj string) Options {
				return Options{Src: filepath.Join(proj, "episodes"), AllowRead: []string{""}}
			},
			want: []string{"allow_read: an empty folder name would allow the working directory"},
		},
	}
	for _, c := range cases {
		t.Run(c.name+" is refused", func(t *testing.T) {
			base, proj := hostileProject(t, c.files, c.links)
			opt := Options{Src: filepath.Join(proj, "episodes")}
			if c.opt != nil {
				opt = c.opt(base, proj)
			}
			msg := loadErr(t, opt)
			fill := strings.NewReplacer("{base}", base, "{proj}", proj)
			for _, w := range c.want {
				if w = fill.Replace(w); !strings.Contains(msg, w) {
					t.Errorf("error %q\nwant it to contain %q", msg, w)
				}
			}
		})
	}
}

// TestLinksThatStayInsideOrAreAllowedAreRead: links inside the project, the
// folders under allow_read, and what the recipe names itself keep working.
func TestLinksThatStayInsideOrAreAllowedAreRead(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		links map[string]string
		opt   func(base, proj string) Options
		check func(t *testing.T, b *Book, base string)
	}{
		{
			name: "episodes that are links to episodes inside, directly and through another link",
			links: map[string]string{
				"projects/Pilot/episodes/002.md":   "001.md",
				"projects/Pilot/episodes/003.md":   "{base}/projects/Pilot/episodes/001.md",
				"projects/Pilot/notes/n.md":        "../episodes/001.md",
				"projects/Pilot/episodes/004.md":   "../notes/n.md",
				"projects/Pilot/episodes/more":     "../notes",
				"projects/Pilot/episodes/more2.md": "more/n.md",
			},
			check: func(t *testing.T, b *Book, _ string) {
				if len(b.Chapters) != 5 {
					t.Fatalf("%d chapters, want 5: %q", len(b.Chapters), titles(b))
				}
				for _, ch := range b.Chapters {
					// Load keeps no text; Parse reads it again.
					if err := b.Parse(ch, Markdown(false)); err != nil || !strings.Contains(string(ch.Source), "본문") {
						t.Fatalf("%s read %q (%v)", ch.Rel, ch.Source, err)
					}
				}
			},
		},
		{
			name:  "an image that is a link to an image inside, and an absolute path inside",
			files: map[string]string{"projects/Pilot/episodes/001.md": "![](art/map.png)\n\n![]({base}/projects/Pilot/images/map.png)\n"},
			links: map[string]string{"projects/Pilot/episodes/art/map.png": "../../images/map.png"},
			check: func(t *testing.T, b *Book, _ string) {
				if len(b.Images) != 1 {
					t.Fatalf("%d images, want the one map.png", len(b.Images))
				}
			},
		},
		{
			name:  "an absolute image path outside, in a folder under allow_read",
			files: map[string]string{"projects/Pilot/episodes/001.md": "![]({base}/outside/pic.png)\n"},
			opt: func(base, proj string) Options {
				return Options{Src: filepath.Join(proj, "episodes"), AllowRead: []string{filepath.Join(base, "outside")}}
			},
			check: func(t *testing.T, b *Book, base string) {
				if len(b.Images) != 1 || b.Images[0].Path != filepath.Join(base, "outside/pic.png") {
					t.Fatalf("images %+v", b.Images)
				}
			},
		},
		{
			name:  "an image in an allow_read folder that is itself a link",
			files: map[string]string{"projects/Pilot/episodes/001.md": "![]({base}/shared/pic.png)\n"},
			links: map[string]string{"shared": "{base}/outside"},
			opt: func(base, proj string) Options {
				return Options{Src: filepath.Join(proj, "episodes"), AllowRead: []string{filepath.Join(base, "shared")}}
			},
			check: func(t *testing.T, b *Book, _ string) {
				if len(b.Images) != 1 {
					t.Fatalf("%d images", len(b.Images))
				}
			},
		},
		{
			name:  "src that is a link to a folder elsewhere, with its images",
			files: map[string]string{"projects/Pilot/book.yaml": "title: 링크된 책\n"},
			links: map[string]string{"projects/Pilot/linked": "{base}/outside/eps"},
			opt: func(_, proj string) Options {
				return Options{Src: filepath.Join(proj, "linked")}
			},
			check: func(t *testing.T, b *Book, _ string) {
				if b.Meta.Title != "링크된 책" || len(b.Chapters) != 1 || len(b.Images) != 1 {
					t.Fatalf("title %q, %d chapters, %d images", b.Meta.Title, len(b.Chapters), len(b.Images))
				}
			},
		},
		{
			name:  "src that is one file, a link outside, named by the recipe",
			links: map[string]string{"projects/Pilot/episodes/guest.md": "{base}/outside/secret.md"},
			opt: func(_, proj string) Options {
				return Options{Src: filepath.Join(proj, "episodes/guest.md")}
			},
			check: func(t *testing.T, b *Book, _ string) {
				if titles(b)[0] != "비밀" {
					t.Fatalf("titles %q", titles(b))
				}
			},
		},
		{
			name: "book: and cover: named by the recipe outside",
			opt: func(base, proj string) Options {
				return Options{
					Src:      filepath.Join(proj, "episodes"),
					BookFile: filepath.Join(base, "outside/book.yaml"),
					Meta:     Metadata{Cover: filepath.Join(base, "outside/pic.png")},
				}
			},
			check: func(t *testing.T, b *Book, base string) {
				if b.Meta.Title != "남의 책" || b.Meta.Cover != filepath.Join(base, "outside/pic.png") {
					t.Fatalf("metadata %+v", b.Meta)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name+" are read", func(t *testing.T) {
			base, proj := hostileProject(t, c.files, c.links)
			opt := Options{Src: filepath.Join(proj, "episodes")}
			if c.opt != nil {
				opt = c.opt(base, proj)
			}
			c.check(t, load(t, opt), base)
		})
	}
}
