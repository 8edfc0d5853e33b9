// Package retryafter reads an HTTP Retry-After header, as the task types
// that call web APIs (notify, github_release, llmusage) honour it.
package retryafter

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Parse reads a Retry-After value: seconds (a fraction is taken), or an
// HTTP date, counted from now. It returns 0 when the header is empty, not
// understood or already past; seconds beyond what a time.Duration holds
// are the longest wait.
func Parse(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(h, 64); (err == nil || errors.Is(err, strconv.ErrRange)) && n > 0 {
		if n >= float64(math.MaxInt64)/float64(time.Second) {
			return math.MaxInt64
		}
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
