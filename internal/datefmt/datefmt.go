// Package datefmt recognises the dates Korean platform exports and people
// write — 2026-11-01, 2026.11.01, 2026/11/1, 20261101, 2026년 11월 1일, with
// or without a time after them — and writes them as ISO YYYY-MM-DD.
package datefmt

import "time"

// Normalize returns s as YYYY-MM-DD when it is a date (a time of day after
// it is dropped); ok is false otherwise.
func Normalize(s string) (iso string, ok bool) {
	b, ok := ISO(s)
	if !ok {
		return "", false
	}
	return string(b[:]), true
}

// ISO is Normalize without allocating, for bytes or a string.
func ISO[T string | []byte](s T) (b [10]byte, ok bool) {
	y, m, d, ok := parse(s)
	if !ok {
		return b, false
	}
	b[0], b[1], b[2], b[3] = byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10)
	b[4] = '-'
	b[5], b[6] = byte('0'+m/10), byte('0'+m%10)
	b[7] = '-'
	b[8], b[9] = byte('0'+d/10), byte('0'+d%10)
	return b, true
}

// Parse returns the date in s as a time at midnight UTC.
func Parse(s string) (time.Time, bool) {
	y, m, d, ok := parse(s)
	if !ok {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), true
}

func parse[T string | []byte](s T) (y, m, d int, ok bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	digits := func(max int) (int, int) {
		n, k := 0, 0
		for k < max && i+k < len(s) && s[i+k] >= '0' && s[i+k] <= '9' {
			n = n*10 + int(s[i+k]-'0')
			k++
		}
		return n, k
	}
	y, k := digits(8)
	switch k {
	case 8: // 20261101
		y, m, d = y/10000, y/100%100, y%100
		i += 8
	case 4:
		i += 4
		// A separator, then one or two digits: the month, then the day.
		part := func() (string, int, bool) {
			sep, width := separator(s[i:])
			if width == 0 {
				return "", 0, false
			}
			i += width
			n, k := digits(2)
			i += k
			return sep, n, k > 0
		}
		var sep, sep2 string
		if sep, m, ok = part(); !ok {
			return 0, 0, 0, false
		}
		if sep2, d, ok = part(); !ok || (sep != sep2 && !(sep == "년" && sep2 == "월")) {
			return 0, 0, 0, false
		}
		if sep == "년" {
			if len(s) >= i+len("일") && string(s[i:i+len("일")]) == "일" {
				i += len("일")
			}
		} else if i < len(s) && s[i] == '.' && sep == "." {
			i++ // 2026. 11. 01.
		}
	default:
		return 0, 0, 0, false
	}
	// What follows must be nothing, or a time.
	if i < len(s) && s[i] != ' ' && s[i] != 'T' && s[i] != '\t' {
		return 0, 0, 0, false
	}
	if y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

// separator reads the separator after a year or month: - . / (with spaces
// around, as in "2026. 11. 01"), or 년 / 월.
func separator[T string | []byte](s T) (string, int) {
	i := 0
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i < len(s) && (s[i] == '-' || s[i] == '.' || s[i] == '/') {
		sep := string(s[i : i+1])
		i++
		for i < len(s) && s[i] == ' ' {
			i++
		}
		return sep, i
	}
	for _, w := range []string{"년", "월"} {
		if len(s) >= i+len(w) && string(s[i:i+len(w)]) == w {
			i += len(w)
			for i < len(s) && s[i] == ' ' {
				i++
			}
			return w, i
		}
	}
	return "", 0
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
