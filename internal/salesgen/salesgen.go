// Package salesgen writes seeded platform sales exports the way Korean
// platforms produce them — a BOM, CRLF, Korean headers, dates in several
// forms, quoted amounts with thousands separators — in UTF-8 or CP949, and
// returns the totals per day computed independently, in integers, to check
// aggregations against.
package salesgen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"

	"golang.org/x/text/encoding/korean"
)

// Header is the first line of an export.
const Header = "판매일시,플랫폼,작품명,회차,판매금액,수수료"

var (
	platforms = []string{"리디", "카카오페이지", "네이버 시리즈", "문피아", "노벨피아"}
	titles    = []string{"쓰이지 않은 책들의 서고", "불씨", "열 번째 문", "잉크의 기억", "서고지기"}
)

// Totals are the sum of 판매금액 per day (YYYY-MM-DD), in won.
type Totals map[string]int64

// Days lists the days in order.
func (t Totals) Days() []string {
	var days []string
	for d := range t {
		days = append(days, d)
	}
	sort.Strings(days)
	return days
}

// Write writes rows sales rows to path, in CP949 when cp949 is set (with
// no BOM, as Korean Windows tools save), else UTF-8 with a BOM.
func Write(path string, rows int, seed uint64, cp949 bool) (Totals, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	var w io.Writer = f
	if cp949 {
		w = korean.EUCKR.NewEncoder().Writer(f)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if !cp949 {
		bw.WriteString("\ufeff")
	}
	bw.WriteString(Header + "\r\n")
	rng := rand.New(rand.NewPCG(seed, seed+1))
	totals := Totals{}
	for i := 0; i < rows; i++ {
		day := 1 + rng.IntN(30)
		month := 10 + rng.IntN(2)
		hour, minute := rng.IntN(24), rng.IntN(60)
		var when string
		switch rng.IntN(4) {
		case 0:
			when = fmt.Sprintf("2026-%02d-%02d %02d:%02d:%02d", month, day, hour, minute, rng.IntN(60))
		case 1:
			when = fmt.Sprintf("2026.%02d.%02d", month, day)
		case 2:
			when = fmt.Sprintf("2026/%d/%d %d:%02d", month, day, hour, minute)
		default:
			when = fmt.Sprintf("2026%02d%02d", month, day)
		}
		amount := int64(100 * (1 + rng.IntN(500)))
		fee := amount * 3 / 10
		totals[fmt.Sprintf("2026-%02d-%02d", month, day)] += amount
		fmt.Fprintf(bw, "%s,%s,%s,%d,\"%s\",%d\r\n", when, platforms[rng.IntN(len(platforms))], titles[rng.IntN(len(titles))], 1+rng.IntN(300), grouped(amount), fee)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return nil, err
	}
	return totals, f.Close()
}

// grouped writes n with thousands separators.
func grouped(n int64) string {
	s := fmt.Sprint(n)
	out := ""
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out += ","
		}
		out += string(c)
	}
	return out
}
