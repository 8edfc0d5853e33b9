// Package bytesize writes sizes in bytes for people ("1.5 MiB") and
// counts bytes written. Sizes in params are read by params.Size.
package bytesize

import "fmt"

// Format writes n bytes for people: "512 B", "1.5 MiB".
func Format(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Counter is a writer that counts the bytes written to it.
type Counter struct{ N int64 }

// Write counts p.
func (c *Counter) Write(p []byte) (int, error) {
	c.N += int64(len(p))
	return len(p), nil
}
