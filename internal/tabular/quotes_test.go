package tabular

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sumByDay reads a three-column table (day, memo, amount) with two workers
// and sums the amounts per day.
func sumByDay(t *testing.T, path string) (map[string]int64, error) {
	t.Helper()
	tb, err := Open(path, Options{})
	if err != nil {
		return nil, err
	}
	defer tb.Close()
	sums := [2]map[string]int64{{}, {}}
	err = tb.Rows(context.Background(), 2, func(w int, fields [][]byte, at Pos) error {
		if len(fields) != 3 {
			return fmt.Errorf("%s: %d fields", at, len(fields))
		}
		n, err := strconv.ParseInt(string(fields[2]), 10, 64)
		if err != nil {
			return fmt.Errorf("%s: %v", at, err)
		}
		sums[w][string(fields[0])] += n
		return nil
	})
	for k, v := range sums[1] {
		sums[0][k] += v
	}
	return sums[0], err
}

// TestStrayQuotesDoNotMisplaceChunkBoundaries: a file is cut into chunks
// where an even number of quotes lies before a newline. One stray quote in
// an unquoted field (5" 화면) put every later cut inside a quoted field,
// and rows were cut in two. A row with an odd number of quotes is now an
// error naming it; an even number of quotes inside fields (그 "남자") is
// read as characters, as before, and the sums are right.
func TestStrayQuotesDoNotMisplaceChunkBoundaries(t *testing.T) {
	for _, c := range []struct{ memo, err string }{
		{`5" 화면`, `stray.csv:2: column 2: a quote (") inside a field that is not in quotes, and an odd number of quotes in the row`},
		{`그 "남자"`, ""},
	} {
		rng := rand.New(rand.NewPCG(7, 7))
		var sb strings.Builder
		sb.WriteString("날짜,메모,금액\n2026-11-01," + c.memo + ",100\n")
		want := map[string]int64{"2026-11-01": 100}
		for sb.Len() < 3*chunkSize {
			day := fmt.Sprintf("2026-11-%02d", 1+rng.IntN(28))
			memo := strings.Repeat("가", rng.IntN(30))
			if rng.IntN(4) == 0 {
				memo = "\"줄\n바꿈 \"\"인용\"\"\n" + memo + "\""
			}
			amount := rng.Int64N(100_000)
			fmt.Fprintf(&sb, "%s,%s,%d\n", day, memo, amount)
			want[day] += amount
		}
		path := filepath.Join(t.TempDir(), "stray.csv")
		if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := sumByDay(t, path)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("%s: error %v, want %q", c.memo, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.memo, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: sums\n%v\nwant\n%v", c.memo, got, want)
		}
	}
}

// TestAQuoteNeverClosedIsAnError: a quoted field that runs to the end of
// the file would swallow every row after it into one value.
func TestAQuoteNeverClosedIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "open.csv")
	if err := os.WriteFile(path, []byte("날짜,메모,금액\n2026-11-01,\"불씨,100\n2026-11-02,서고,200\n2026-11-03,서고,300\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tb, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	err = tb.Rows(context.Background(), 1, func(int, [][]byte, Pos) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "open.csv:2: a quoted field starts in this record and is never closed") {
		t.Fatalf("error %v", err)
	}
}

// TestARecordWithoutEndIsCut: a quoted field opened early makes the rest
// of the file one record; reading stops at maxRecord with an error rather
// than holding the whole file.
func TestARecordWithoutEndIsCut(t *testing.T) {
	defer func(n int) { maxRecord = n }(maxRecord)
	maxRecord = 1 << 20
	body := "날짜,메모,금액\n2026-11-01,\"열린 따옴표,100\n" + strings.Repeat("2026-11-02,서고,200\n", 3*chunkSize/20)
	path := filepath.Join(t.TempDir(), "open.csv")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := sumByDay(t, path); err == nil || !strings.Contains(err.Error(), "open.csv:2: no record ends within 1 MiB from here: a quoted field that is never closed?") {
		t.Fatalf("error %v", err)
	}
	// The same in the header.
	if err := os.WriteFile(path, []byte("\"날짜,메모,금액\n"+strings.Repeat("x\n", 1<<20)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); err == nil || !strings.HasPrefix(err.Error(), path+":1: no record ends within 1 MiB") {
		t.Fatalf("error %v", err) // was "read …open.csv: …open.csv:1: no record…"
	}
	// A header row past the end of the file.
	if _, err := Open(path, Options{HeaderRow: 3}); err == nil || !strings.HasPrefix(err.Error(), path+":1: no record ends") {
		t.Fatalf("error %v", err)
	}
	if err := os.WriteFile(path, []byte("제목\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{HeaderRow: 5}); err == nil || err.Error() != path+": no header row 5: the file ends at line 2" {
		t.Fatalf("error %v", err) // was "…: no header row 5: EOF"
	}
}

// TestOldMacLineEndsAreNamed: lines ending in a carriage return alone
// made the whole file one header row and no data — a sum of nothing.
func TestOldMacLineEndsAreNamed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mac.csv")
	if err := os.WriteFile(path, []byte("날짜,메모,금액\r2026-11-01,불씨,100\r"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "mac.csv:1: the lines end in a carriage return alone") {
		t.Fatalf("error %v", err)
	}
}
