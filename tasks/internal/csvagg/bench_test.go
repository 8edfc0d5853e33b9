package csvagg_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/novelfactory/runner/internal/salesgen"
	"github.com/novelfactory/runner/tasks/internal/csvagg"
)

// BenchmarkSumByDay sums 1,000,000 sales rows by day, UTF-8 and CP949.
func BenchmarkSumByDay(b *testing.B) {
	for _, cp949 := range []bool{false, true} {
		name := "utf8"
		if cp949 {
			name = "cp949"
		}
		b.Run(name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "sales.csv")
			if _, err := salesgen.Write(path, 1_000_000, 1, cp949); err != nil {
				b.Fatal(err)
			}
			plan, err := csvagg.Compile(csvagg.Spec{Groups: []csvagg.Group{{Name: "판매일시", Column: "판매일시"}}, Aggs: []csvagg.Agg{{Out: "판매금액", Column: "판매금액", Fn: "sum"}}})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := plan.Run(context.Background(), []string{path}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
