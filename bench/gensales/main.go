// Command gensales writes the csvsum benchmark's sales exports: the same
// seeded rows as UTF-8 with a BOM and as CP949, plus the expected totals
// per day, computed independently in integers.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/novelfactory/runner/internal/salesgen"
)

func main() {
	dir := flag.String("dir", "build/bench/sales", "folder to write sales-utf8.csv, sales-cp949.csv and expected.csv into")
	rows := flag.Int("rows", 5_000_000, "rows per file")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	totals, err := salesgen.Write(filepath.Join(*dir, "sales-utf8.csv"), *rows, *seed, false)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := salesgen.Write(filepath.Join(*dir, "sales-cp949.csv"), *rows, *seed, true); err != nil {
		log.Fatal(err)
	}
	f, err := os.Create(filepath.Join(*dir, "expected.csv"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(f, "date,판매금액")
	for _, d := range totals.Days() {
		fmt.Fprintf(f, "%s,%d\n", d, totals[d])
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
