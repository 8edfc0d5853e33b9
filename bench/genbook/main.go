// Command genbook writes a seeded web-novel manuscript for the publishing
// benchmarks: N episodes of about C characters each, with a book.yaml.
package main

import (
	"flag"
	"log"
	"os"
	"path/filepath"

	"github.com/novelfactory/runner/internal/bookgen"
)

func main() {
	dir := flag.String("dir", "build/bench/book", "project folder to write (episodes/ and book.yaml)")
	episodes := flag.Int("episodes", 300, "number of episodes")
	chars := flag.Int("chars", 5700, "characters per episode")
	seed := flag.Uint64("seed", 1, "random seed")
	cover := flag.Bool("cover", false, "also write a 1600×2560 JPEG cover, art/cover.jpg, named in book.yaml")
	flag.Parse()
	if err := bookgen.Write(filepath.Join(*dir, "episodes"), *episodes, *chars, *seed); err != nil {
		log.Fatal(err)
	}
	meta := "title: 쓰이지 않은 책들의 서고\nauthor: 한서윤\nlanguage: ko\ndate: 2026-11-01\n"
	if *cover {
		if err := bookgen.WriteCover(filepath.Join(*dir, "art/cover.jpg"), 1600, 2560); err != nil {
			log.Fatal(err)
		}
		meta += "cover: art/cover.jpg\n"
	}
	if err := os.WriteFile(filepath.Join(*dir, "book.yaml"), []byte(meta), 0o644); err != nil {
		log.Fatal(err)
	}
}
