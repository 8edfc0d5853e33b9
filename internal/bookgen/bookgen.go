// Package bookgen writes seeded, realistic web-novel manuscripts — Korean
// narration and dialogue, ellipses, scene breaks, front matter — for tests
// and benchmarks of md2epub and md2pdf.
package bookgen

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

var (
	subjects = []string{"하윤은", "소년은", "그녀는", "도윤이", "서고지기는", "낡은 등불이", "바람이", "누군가", "잉크 냄새가", "검은 고양이가", "열 번째 문이", "기억은"}
	objects  = []string{"책장을", "등불을", "계단을", "페이지를", "펜을", "문고리를", "먼지를", "이야기를", "창틀을", "손가락을", "지도를", "목소리를"}
	adverbs  = []string{"천천히", "조용히", "갑자기", "오래도록", "다시", "아무 말 없이", "망설이며", "끝내", "가만히", "서둘러"}
	verbs    = []string{"넘겼다", "바라보았다", "붙잡았다", "내려놓았다", "떠올렸다", "지나쳤다", "불렀다", "흔들었다", "기다렸다", "밀어냈다"}
	lines    = []string{"누구 있어요?", "여기는 쓰이지 않은 책들의 방이야.", "이제 네가 쓸 차례야.", "아직이야. 아직 꺼지면 안 돼.", "그게… 정말이야?", "조금만 더 가 보자!", "넌 여기서 뭘 하고 있었어?", "괜찮아, 내가 기억하고 있으니까~"}
	places   = []string{"서고", "대장간", "골목", "지붕 위", "강가", "시계탑", "기록실", "정원"}
)

// Episode writes episode n, about chars characters long.
func Episode(rng *rand.Rand, n, chars int) string {
	var b strings.Builder
	title := fmt.Sprintf("제%d화 %s의 %s", n, places[rng.IntN(len(places))], strings.TrimSuffix(strings.TrimSuffix(objects[rng.IntN(len(objects))], "을"), "를"))
	fmt.Fprintf(&b, "---\ntitle: %s\n---\n\n# %s\n\n", title, title)
	written := 0
	for written < chars {
		var p strings.Builder
		switch rng.IntN(10) {
		case 0, 1, 2:
			fmt.Fprintf(&p, "“%s”", lines[rng.IntN(len(lines))])
		case 3:
			p.WriteString("* * *")
		default:
			for s := 0; s < 2+rng.IntN(4); s++ {
				if s > 0 {
					p.WriteByte(' ')
				}
				fmt.Fprintf(&p, "%s %s %s %s.", subjects[rng.IntN(len(subjects))], adverbs[rng.IntN(len(adverbs))], objects[rng.IntN(len(objects))], verbs[rng.IntN(len(verbs))])
			}
		}
		b.WriteString(p.String())
		b.WriteString("\n\n")
		written += utf8.RuneCountInString(p.String())
	}
	return b.String()
}

// Write writes episodes 001.md … into dir, seeded so the same seed gives the
// same book.
func Write(dir string, episodes, chars int, seed uint64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for n := 1; n <= episodes; n++ {
		path := filepath.Join(dir, fmt.Sprintf("%03d.md", n))
		if err := os.WriteFile(path, []byte(Episode(rng, n, chars)), 0o644); err != nil {
			return err
		}
	}
	return nil
}
