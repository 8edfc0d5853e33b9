// Command gencorpus writes benchmark inputs made from the bundled example:
// "episodes" — projects × episodes of Korean Markdown like the example
// project's, varied so that they do not compress to nothing — and "mixed" —
// about a given size of text, already-compressed media and large binary
// files, as a factory's backup folder holds.
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

var sentences = []string{
	"새벽 네 시, 서고의 불이 하나씩 꺼졌다.", "하윤은 마지막 남은 등불을 들고 계단을 내려갔다.",
	"\"누구 있어요?\"", "대답 대신 오래된 종이 냄새가 밀려왔다.", "문 너머에서 누군가 페이지를 넘기는 소리가 들렸다.",
	"그녀는 손잡이를 잡았다. 차가웠다.", "책등마다 아직 쓰이지 않은 이야기의 제목이 적혀 있었다.",
	"\"여기는 쓰이지 않은 책들의 방이야.\"", "목소리의 주인은 잉크로 얼룩진 손가락을 가진 소년이었다.",
	"열 번째 문 앞에서 하윤은 멈춰 섰다.", "지금까지 지나온 모든 방의 이야기가 등불 속에서 타닥거렸다.",
	"\"이제 네가 쓸 차례야.\"", "그녀는 펜을 들었다.", "바람이 창틀을 흔들었고, 먼지가 빛 속에서 춤을 추었다.",
}

func episode(rng *rand.Rand, project, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "---\ntitle: 제%d화\n---\n\n# 제%d화 %s\n\n", n, n, sentences[rng.IntN(len(sentences))])
	paragraphs := 40 + rng.IntN(40)
	for p := 0; p < paragraphs; p++ {
		for s := 0; s < 2+rng.IntN(4); s++ {
			b.WriteString(sentences[rng.IntN(len(sentences))])
			fmt.Fprintf(&b, " (%d-%d-%d) ", project, n, rng.IntN(1000))
		}
		b.WriteString("\n\n")
		if rng.IntN(15) == 0 {
			b.WriteString("* * *\n\n")
		}
	}
	return b.String()
}

func main() {
	kind := flag.String("kind", "episodes", "episodes or mixed")
	dir := flag.String("dir", "corpus", "where to write")
	projects := flag.Int("projects", 10, "episodes: number of projects")
	episodes := flag.Int("episodes", 300, "episodes: per project")
	size := flag.Int64("mib", 1024, "mixed: total size in MiB")
	flag.Parse()
	rng := rand.New(rand.NewPCG(42, 7))
	write := func(path string, data []byte) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	switch *kind {
	case "episodes":
		for p := 1; p <= *projects; p++ {
			for e := 1; e <= *episodes; e++ {
				write(filepath.Join(*dir, fmt.Sprintf("Project%02d/episodes/%03d.md", p, e)), []byte(episode(rng, p, e)))
			}
		}
	case "mixed":
		total := *size << 20
		var written int64
		for i := 0; written < total; i++ {
			var data []byte
			var name string
			switch i % 10 {
			case 0: // a large text file: logs, exports
				var b strings.Builder
				for b.Len() < 32<<20 {
					b.WriteString(episode(rng, i, b.Len()))
				}
				data, name = []byte(b.String()), fmt.Sprintf("logs/usage-%03d.jsonl", i)
			case 1, 2: // incompressible media
				data = make([]byte, 4<<20+rng.IntN(4<<20))
				for j := range data {
					data[j] = byte(rng.Uint32())
				}
				name = fmt.Sprintf("images/cover-%03d.jpg", i)
			case 3: // a large binary with some structure: a database page file
				data = make([]byte, 16<<20)
				for j := range data {
					if j%4096 < 512 {
						data[j] = byte(rng.Uint32())
					}
				}
				name = fmt.Sprintf("graph/store-%03d.db", i)
			default: // episodes
				for k := 0; k < 50; k++ {
					write(filepath.Join(*dir, fmt.Sprintf("projects/P%03d/episodes/%03d.md", i, k)), []byte(episode(rng, i, k)))
					written += 8 << 10
				}
				continue
			}
			write(filepath.Join(*dir, name), data)
			written += int64(len(data))
		}
	default:
		log.Fatalf("unknown kind %q", *kind)
	}
}
