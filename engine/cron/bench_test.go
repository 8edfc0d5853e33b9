package cron

import (
	"testing"
	"time"
)

// BenchmarkNext: the server asks for next times on every tick and page.
func BenchmarkNext(b *testing.B) {
	ny, _ := time.LoadLocation("America/New_York")
	for _, c := range []struct {
		name, spec string
		at         time.Time
	}{
		{"weekly", "0 4 * * 0", time.Date(2026, 5, 1, 0, 0, 0, 0, ny)},
		{"every minute at a DST change", "* * * * *", time.Date(2026, 11, 1, 1, 30, 0, 0, ny)},
		{"leap day", "0 0 29 2 *", time.Date(2026, 5, 1, 0, 0, 0, 0, ny)},
	} {
		e, _ := Parse(c.spec)
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				e.Next(c.at, ny)
			}
		})
	}
}
