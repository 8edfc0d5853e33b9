package bookgen

import (
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
)

// richFiles is a project that uses every feature the publishing tasks
// support: parts in sub-folders, front matter (title, order, draft), images
// beside the episode, in ../images, from the project root and by absolute
// path, GFM tables, strikethrough, footnotes, quotes, lists, code, raw HTML,
// entities, and typographic quotes.
var richFiles = map[string]string{
	"book.yaml": `title: 쓰이지 않은 책들의 서고
subtitle: 특별판
authors: [한서윤, 도하린]
publisher: 노벨 팩토리
date: 2026-11-01
description: 아직 쓰이지 않은 이야기들이 사는 서고.
series: 서고
series_index: 2
rights: © 2026 한서윤
subjects: [판타지, 웹소설]
cover: art/cover.jpg
`,
	"episodes/1부 서고/001.md": `---
title: 제1화 첫 번째 문
---

# 제1화 첫 번째 문

새벽 네 시, 서고의 불이 하나씩 꺼졌다. "누구 있어요?" 하윤은 마지막 남은 등불을 들고 계단을 내려갔다...

![서고의 지도](../../images/map.png)

* * *

그녀는 **손잡이**를 잡았다. *차가웠다.* ~~뜨거웠다.~~ 문 너머에서 'ㅡ' 소리가 들렸다 -- 아주 작게.
`,
	"episodes/1부 서고/002.md": `---
title: 제2화 잉크의 기억
---

## 제2화 잉크의 기억

문 안쪽에는 끝없이 이어진 책장이 있었다.[^1] 책등마다 아직 쓰이지 않은 이야기의 제목이 적혀 있었다.[^잉크]

![장면](art/scene.png)

| 방 | 책 | 쪽수 |
|:---|:--:|---:|
| 첫째 방 | 쓰이지 않은 책 | 1,024 |
| 둘째 방 | 잉크 | 12 |

> "여기는 쓰이지 않은 책들의 방이야."
>
> 목소리의 주인은 소년이었다.

[^1]: 서고의 책장은 모두 3,000개다.
[^잉크]: 잉크는 밤마다 마른다.
`,
	"episodes/1부 서고/003.md": `---
title: 쓰는 중
draft: true
---

미완성 원고.
`,
	"episodes/2부 귀환/010.md": `# 제10화 마지막 관문

1. 등불을 든다
2. 문을 연다
   - 조용히
   - 천천히

` + "```" + `
console.log("열 번째 문");
` + "```" + `

<div class="raw">raw HTML은 빠진다</div>

&copy; 2026 &amp; 그 이후. &nbsp;끝.

![다시 지도](/images/map.png)
`,
	"episodes/2부 귀환/011.md": `제목 없는 에필로그. 첫 문장이 제목이 되지는 않는다.

“이제 네가 쓸 차례야.”
`,
}

// WriteRich writes the feature-complete test project into dir: book.yaml
// (with a JPEG cover), episodes/ in two part folders, and the images they
// show.
func WriteRich(dir string) error {
	for name, content := range richFiles {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	if err := writeImage(filepath.Join(dir, "images/map.png"), 320, 200, false); err != nil {
		return err
	}
	if err := writeImage(filepath.Join(dir, "episodes/1부 서고/art/scene.png"), 240, 160, false); err != nil {
		return err
	}
	return writeImage(filepath.Join(dir, "art/cover.jpg"), 800, 1280, true)
}

// WriteCover writes a w×h JPEG cover (a colour gradient) to path.
func WriteCover(path string, w, h int) error { return writeImage(path, w, h, true) }

func writeImage(path string, w, h int, asJPEG bool) error {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(30 + x*200/w), uint8(40 + y*150/h), 90, 255})
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if asJPEG {
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 85})
	} else {
		err = png.Encode(f, img)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
