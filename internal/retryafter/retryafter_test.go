package retryafter

import (
	"math"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"":                              0,
		"  ":                            0,
		"7":                             7 * time.Second,
		" 1.5 ":                         1500 * time.Millisecond,
		"0":                             0,
		"-3":                            0,
		"soon":                          0,
		"1e300":                         math.MaxInt64,
		"Thu, 03 Dec 2026 12:00:30 GMT": 30 * time.Second,
		"Thu, 03 Dec 2026 11:59:00 GMT": 0, // already past
	} {
		if got := Parse(h, now); got != want {
			t.Errorf("Parse(%q) = %s, want %s", h, got, want)
		}
	}
}
