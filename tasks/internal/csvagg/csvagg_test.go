package csvagg_test

import (
	"archive/zip"
	"context"
	"encoding/csv"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/korean"

	"github.com/novelfactory/runner/internal/salesgen"
	"github.com/novelfactory/runner/internal/tabular"
	"github.com/novelfactory/runner/tasks/internal/csvagg"
)

func write(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func cp949(t *testing.T, s string) string {
	t.Helper()
	out, err := korean.EUCKR.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func run(t *testing.T, spec csvagg.Spec, sources ...string) *csvagg.Result {
	t.Helper()
	plan, err := csvagg.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	res, err := plan.Run(context.Background(), sources)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func runErr(t *testing.T, spec csvagg.Spec, sources ...string) string {
	t.Helper()
	plan, err := csvagg.Compile(spec)
	if err != nil {
		return err.Error()
	}
	_, err = plan.Run(context.Background(), sources)
	if err == nil {
		t.Fatal("Run succeeded, want an error")
	}
	return err.Error()
}

func table(res *csvagg.Result) string {
	var sb strings.Builder
	sb.WriteString(strings.Join(res.Header, ",") + "\n")
	for _, r := range res.Rows {
		sb.WriteString(strings.Join(r, ",") + "\n")
	}
	return sb.String()
}

var byDay = csvagg.Spec{
	Groups: []csvagg.Group{{Name: "날짜", Column: "날짜"}},
	Aggs:   []csvagg.Agg{{Out: "금액", Column: "금액", Fn: "sum"}},
}

// messy is what platform exports look like: Korean headers, thousands
// separators, currency marks, dates in every form, a quoted newline, a
// blank amount, a total row.
const messy = "날짜,작품,금액\r\n" +
	"2026-11-01 09:10:00,\"쓰이지 않은 책들의\n서고\",\"1,234\"\r\n" +
	"2026.11.01,불씨,\"1,234원\"\r\n" +
	"2026/11/1 23:59,불씨,₩2000\r\n" +
	"20261102,\"열 번째 \"\"문\"\"\",-1000\r\n" +
	"2026. 11. 2.,불씨,(500)\r\n" +
	"2026-11-02,불씨,\r\n" +
	"2026년 11월 2일,불씨,0.5\r\n" +
	"합계,,\"4,468.5\"\r\n"

func TestSumsMessyExportsInEveryEncoding(t *testing.T) {
	want := "날짜,금액\n2026-11-01,4468\n2026-11-02,-1499.5\n"
	for name, content := range map[string]string{
		"utf8.csv":  messy,
		"bom.csv":   "\ufeff" + messy,
		"cp949.csv": cp949(t, strings.ReplaceAll(messy, "₩", "￦")), // CP949 has the full-width won sign
	} {
		t.Run(name, func(t *testing.T) {
			spec := byDay
			spec.Aggs = []csvagg.Agg{{Out: "금액", Column: "금액", Fn: "sum"}}
			res := run(t, spec, write(t, name, content))
			if got := table(res); got != want {
				t.Fatalf("got\n%s\nwant\n%s", got, want)
			}
			if res.Totals != 1 || res.RowsIn != 8 {
				t.Fatalf("rows in %d, totals %d", res.RowsIn, res.Totals)
			}
		})
	}
}

func TestEveryAggregateAndAnExpressionGroup(t *testing.T) {
	src := write(t, "s.csv", "날짜,플랫폼,금액\n2026-11-01,리디,100\n2026-11-15,리디,300\n2026-12-01,리디,50\n2026-11-03,문피아,7\n")
	spec := csvagg.Spec{
		Groups: []csvagg.Group{csvagg.ParseGroup("월 = month(날짜)"), {Name: "플랫폼", Column: "플랫폼"}},
		Aggs: []csvagg.Agg{{Out: "금액_sum", Column: "금액", Fn: "sum"}, {Out: "금액_avg", Column: "금액", Fn: "avg"}, {Out: "금액_min", Column: "금액", Fn: "min"},
			{Out: "금액_max", Column: "금액", Fn: "max"}, {Out: "금액_count", Column: "금액", Fn: "count"}},
		Where: `num(금액) > 10 || 플랫폼 == "문피아"`,
		Sort:  []string{"-금액_sum"},
	}
	res := run(t, spec, src)
	want := "월,플랫폼,금액_sum,금액_avg,금액_min,금액_max,금액_count\n2026-11,리디,400,200,100,300,2\n2026-12,리디,50,50,50,50,1\n2026-11,문피아,7,7,7,7,1\n"
	if got := table(res); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestBadValuesAreErrorsOrCountedSkips(t *testing.T) {
	src := write(t, "bad.csv", "날짜,금액\n2026-11-01,100\n2026-11-01,\"6,5\"\n2026-11-01,abc\n2026-11-02\n2026-11-02,5\n")
	msg := runErr(t, byDay, src)
	if !strings.Contains(msg, "bad.csv:3: column 2 (금액): \"6,5\" is not a number") {
		t.Fatalf("error %q", msg)
	}
	spec := byDay
	spec.SkipBadRows = true
	res := run(t, spec, src)
	if got := table(res); got != "날짜,금액\n2026-11-01,100\n2026-11-02,5\n" || res.Skipped != 3 {
		t.Fatalf("skipped %d\n%s", res.Skipped, got)
	}
	if !strings.Contains(res.FirstSkip, "bad.csv:3:") {
		t.Fatalf("first skip %q", res.FirstSkip)
	}
	if msg := runErr(t, csvagg.Spec{Groups: []csvagg.Group{{Name: "일자", Column: "일자"}}, Aggs: byDay.Aggs}, src); !strings.Contains(msg, `no column "일자" for group_by; the columns are: 날짜, 금액`) {
		t.Fatalf("error %q", msg)
	}
	// A misspelt column in where would filter every row out silently.
	typo := byDay
	for _, where := range []string{`num(금엑) > 0`, `num(row["금엑"]) > 0`} {
		typo.Where = where
		if msg := runErr(t, typo, src); !strings.Contains(msg, `no column "금엑" for an expression (where or group_by); the columns are: 날짜, 금액`) {
			t.Fatalf("%s: error %q", where, msg)
		}
	}
}

// TestChunkBoundariesNeverSplitARecord sums a file several chunks long whose
// quoted fields hold newlines and doubled quotes, and checks the total
// against encoding/csv read independently.
func TestChunkBoundariesNeverSplitARecord(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var sb strings.Builder
	sb.WriteString("날짜,메모,금액\n")
	want := map[string]*big.Int{}
	for sb.Len() < 13<<20 {
		day := fmt.Sprintf("2026-11-%02d", 1+rng.IntN(28))
		memo := strings.Repeat("가", rng.IntN(40))
		if rng.IntN(3) == 0 {
			memo = "\"줄\n바꿈 \"\"인용\"\" " + memo + "\""
		}
		amount := rng.Int64N(2_000_000) - 500_000
		fmt.Fprintf(&sb, "%s,%s,%d\n", day, memo, amount)
		if want[day] == nil {
			want[day] = new(big.Int)
		}
		want[day].Add(want[day], big.NewInt(amount))
	}
	src := write(t, "big.csv", sb.String())
	// Independently: encoding/csv.
	f, _ := os.Open(src)
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, byDay, src)
	if res.RowsIn != int64(len(records)-1) {
		t.Fatalf("rows in %d, encoding/csv read %d", res.RowsIn, len(records)-1)
	}
	for _, row := range res.Rows {
		if want[row[0]].String() != row[1] {
			t.Fatalf("%s: %s, want %s", row[0], row[1], want[row[0]])
		}
	}
	if len(res.Rows) != len(want) {
		t.Fatalf("%d days, want %d", len(res.Rows), len(want))
	}
}

func TestGeneratedExportsMatchTheIndependentTotals(t *testing.T) {
	for _, enc := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "sales.csv")
		totals, err := salesgen.Write(path, 200_000, 9, enc)
		if err != nil {
			t.Fatal(err)
		}
		res := run(t, csvagg.Spec{Groups: []csvagg.Group{{Name: "date", Column: "판매일시"}}, Aggs: []csvagg.Agg{{Out: "판매금액", Column: "판매금액", Fn: "sum"}}}, path)
		if len(res.Rows) != len(totals) {
			t.Fatalf("%d days, want %d", len(res.Rows), len(totals))
		}
		for _, row := range res.Rows {
			if fmt.Sprint(totals[row[0]]) != row[1] {
				t.Fatalf("cp949=%v %s: %s, want %d", enc, row[0], row[1], totals[row[0]])
			}
		}
	}
}

func TestSpreadsheetHTMLAndZippedExports(t *testing.T) {
	dir := t.TempDir()
	// xlsx with a title row above the header (header_row: 2).
	wb := excelize.NewFile()
	rows := [][]any{{"문피아 정산 내역"}, {"정산일", "작품", "정산금액"}, {"2026-11-01", "불씨", 1200}, {"2026.11.01", "서고", "3,400"}, {"합계", "", 4600}}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := wb.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	xlsx := filepath.Join(dir, "munpia.xlsx")
	if err := wb.SaveAs(xlsx); err != nil {
		t.Fatal(err)
	}
	// HTML saved as .xls, in CP949, with a two-row merged header.
	page := `<html><head><meta charset="euc-kr"></head><body><table><tr><td>요약</td></tr></table>
<table><thead><tr><th rowspan="2">일자</th><th colspan="2">판매</th></tr><tr><th>건수</th><th>금액</th></tr></thead>
<tbody><tr><td>2026-11-01</td><td>3</td><td>1,000</td></tr><tr><td>2026-11-02</td><td>1</td><td>500</td></tr>
<tr><td>총계</td><td>4</td><td>1,500</td></tr></tbody></table></body></html>`
	html := filepath.Join(dir, "naver.xls")
	if err := os.WriteFile(html, []byte(cp949(t, page)), 0o644); err != nil {
		t.Fatal(err)
	}
	// A zip of two CSVs whose cells are wrapped as =T("…").
	zpath := filepath.Join(dir, "ridi.zip")
	zf, _ := os.Create(zpath)
	zw := zip.NewWriter(zf)
	for i, body := range []string{"일자,금액\n=T(\"2026-11-01\"),=T(\"700\")\n", "일자,금액\n\"=T(\"\"2026-11-02\"\")\",\"=T(\"\"1,300\"\")\"\n"} {
		w, _ := zw.Create(fmt.Sprintf("ridi-%d.csv", i))
		w.Write([]byte(body))
	}
	zw.Close()
	zf.Close()

	spec := csvagg.Spec{
		Groups:  []csvagg.Group{{Name: "일자", Column: "일자"}},
		Aggs:    []csvagg.Agg{{Out: "금액", Column: "금액", Fn: "sum"}},
		Renames: map[string]string{"정산일": "일자", "정산금액": "금액", "판매 / 금액": "금액"},
	}
	// Each source read with its own options, as a recipe would: csvsum runs per file here.
	for _, c := range []struct {
		file string
		opt  tabular.Options
		want string
	}{
		{xlsx, tabular.Options{HeaderRow: 2}, "일자,금액\n2026-11-01,4600\n"},
		{html, tabular.Options{}, "일자,금액\n2026-11-01,1000\n2026-11-02,500\n"},
		{zpath, tabular.Options{}, "일자,금액\n2026-11-01,700\n2026-11-02,1300\n"},
	} {
		s := spec
		s.Table = c.opt
		plan, err := csvagg.Compile(s)
		if err != nil {
			t.Fatal(err)
		}
		res, err := plan.Run(context.Background(), []string{c.file})
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if got := table(res); got != c.want {
			t.Errorf("%s (%v):\n%s\nwant\n%s", filepath.Base(c.file), res.Formats, got, c.want)
		}
	}
}

// TestAColumnNamedTwiceMustBePicked: merged exports often have two 금액
// columns; the first was summed and the second ignored, silently. Using
// the name alone is now an error naming both columns and the header's
// place; 금액#2 picks the second, in aggregate, group_by, where and
// columns: alike. Names made equal by columns: are caught the same way.
func TestAColumnNamedTwiceMustBePicked(t *testing.T) {
	src := write(t, "merged.csv", "제목 줄\n날짜,금액,비고,금액,비고\n2026-11-01,100,,-30,\n2026-11-01,200,,-50,x\n2026-11-02,7,,,\n")
	spec := byDay
	spec.Table.HeaderRow = 2
	if msg := runErr(t, spec, src); !strings.Contains(msg, `merged.csv:2: aggregate: the header has the column "금액" twice (columns 2 and 4): write "금액#1" or "금액#2" for the one meant, or rename one with columns: {"금액#2": another name}`) {
		t.Fatalf("error %q", msg)
	}
	spec.Aggs = []csvagg.Agg{{Out: "환불", Column: "금액#2", Fn: "sum"}, {Out: "판매", Column: "금액#1", Fn: "sum"}}
	if got := table(run(t, spec, src)); got != "날짜,환불,판매\n2026-11-01,-80,300\n2026-11-02,0,7\n" {
		t.Fatalf("got\n%s", got)
	}
	// columns: {금액#2: 환불} renames the second only; where reads row["금액#1"].
	spec.Renames = map[string]string{"금액#2": "환불"}
	spec.Aggs = []csvagg.Agg{{Out: "환불", Column: "환불", Fn: "sum"}, {Out: "판매", Column: "금액", Fn: "sum"}}
	spec.Where = `num(row["금액#1"]) > 100 || num(환불) == 0`
	if got := table(run(t, spec, src)); got != "날짜,환불,판매\n2026-11-01,-50,200\n2026-11-02,0,7\n" {
		t.Fatalf("renamed, where:\n%s", got)
	}
	spec.Where = `비고 == "x"`
	if msg := runErr(t, spec, src); !strings.Contains(msg, `merged.csv:2: where or group_by: the header has the column "비고" twice (columns 3 and 5)`) {
		t.Fatalf("error %q", msg)
	}
	// Two source columns renamed to one name.
	both := write(t, "both.csv", "판매일,정산일,금액\n2026-11-01,2026-11-05,100\n")
	spec = byDay
	spec.Renames = map[string]string{"판매일": "날짜", "정산일": "날짜"}
	if msg := runErr(t, spec, both); !strings.Contains(msg, `both.csv:1: group_by: the header has the column "날짜" twice (columns 1 "판매일" and 2 "정산일", named so by columns:)`) {
		t.Fatalf("error %q", msg)
	}
}

// TestTheOutputNeverHasAColumnTwice: group_by [금액] with {금액: count}
// wrote 금액,금액, and sort: -금액 sorted by the second.
func TestTheOutputNeverHasAColumnTwice(t *testing.T) {
	spec := csvagg.Spec{Groups: []csvagg.Group{{Name: "금액", Column: "금액"}}, Aggs: []csvagg.Agg{{Out: "금액", Column: "금액", Fn: "count"}}}
	if _, err := csvagg.Compile(spec); err == nil || !strings.Contains(err.Error(), `aggregate 금액: the output would have two columns named "금액"`) {
		t.Fatalf("error %v", err)
	}
}

// TestTextThatCannotBeRightIsRefused: each summed without a word before.
func TestTextThatCannotBeRightIsRefused(t *testing.T) {
	ascii := strings.Repeat("2026-11-01,abc,100\n", 4000) // 76 KB of ASCII: read as UTF-8
	byTitle := csvagg.Spec{Groups: []csvagg.Group{{Name: "작품", Column: "작품"}}, Aggs: byDay.Aggs}
	for _, c := range []struct {
		what, body string
		spec       csvagg.Spec
		want       string
	}{
		// 1,234 without quotes is two values: 1 was summed, 234 dropped.
		{"unquoted thousands", "날짜,작품,금액\n2026-11-01,불씨,1,234\n", byDay, "x.csv:2: the row has 4 columns, the header 3: a value with a delimiter not in quotes"},
		// A CP949 total row after 64 KiB of ASCII became a group "\xc7\xd5\xb0\xe8".
		{"a CP949 total late", "날짜,작품,금액\n" + ascii + cp949(t, "합계,,400000\n"), byDay, `x.csv:4002: column 1: "\xc7`},
		// CP949 titles read as UTF-8 became mojibake groups.
		{"CP949 read as UTF-8", "날짜,작품,금액\n" + ascii + cp949(t, "2026-11-02,불씨,5\n"), byTitle, "x.csv:4002: column 2 (작품): \"\\xba"},
		// A NUL split a group's key: a three-cell row in a two-column output.
		{"a NUL in a key", "날짜,작품,금액\n2026-11-01,a\x00b,5\n", byTitle, `x.csv:2: column 2 (작품): "a\x00b" holds a NUL byte`},
	} {
		if msg := runErr(t, c.spec, write(t, "x.csv", c.body)); !strings.Contains(msg, c.want) {
			t.Errorf("%s: error %q, want %q", c.what, msg, c.want)
		}
	}
	// A trailing delimiter is no extra value.
	if got := table(run(t, byDay, write(t, "x.csv", "날짜,작품,금액\n2026-11-01,불씨,1,\n"))); got != "날짜,금액\n2026-11-01,1\n" {
		t.Errorf("trailing delimiter:\n%s", got)
	}
}
