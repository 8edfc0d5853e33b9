package cron

import (
	"fmt"
	"strconv"
	"strings"
)

var (
	monthLong = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	dayLong   = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
)

// Describe says in English when the expression fires: "at 04:00 on
// Sunday", "every 15 minutes", "at 09:30 on weekdays (Monday to Friday)",
// "at 00:00 on day 1 of the month".
func (e *Expr) Describe() string {
	mins, hours := members(e.minute, 0, 59), members(e.hour, 0, 23)
	doms, months, dows := members(e.dom, 1, 31), members(e.month, 1, 12), members(e.dow, 0, 6)
	at := timePhrase(mins, hours)

	allDoms, allDows := len(doms) == 31, len(dows) == 7
	var day string
	switch {
	case len(doms) == 1 && len(months) == 1 && allDows:
		// @yearly and its kind: "on 1 January".
		return fmt.Sprintf("%s on %d %s", at, doms[0], monthLong[months[0]-1])
	case allDoms && allDows:
	case allDoms:
		day = "on " + dowPhrase(dows)
	case allDows:
		day = "on " + domPhrase(doms)
	case e.domStar || e.dowStar:
		day = "on " + domPhrase(doms) + " that fall on " + dowPhrase(dows)
	default:
		day = "on " + domPhrase(doms) + " or on " + dowPhrase(dows)
	}
	s := at
	if day != "" {
		s += " " + day
	} else if strings.HasPrefix(at, "at ") && !strings.Contains(at, "of every") {
		s += " every day"
	}
	if len(months) < 12 {
		names := make([]string, len(months))
		for i, m := range months {
			names[i] = monthLong[m-1]
		}
		s += " in " + spans(months, names, " to ")
	}
	return s
}

// timePhrase says at what times of day it fires.
func timePhrase(mins, hours []int) string {
	allMins, allHours := len(mins) == 60, len(hours) == 24
	during := ""
	if !allHours {
		if len(hours) > 1 && hours[len(hours)-1]-hours[0] == len(hours)-1 {
			during = fmt.Sprintf(" from %02d:00 to %02d:59", hours[0], hours[len(hours)-1])
		} else {
			during = " during hour " + numbers(hours)
			if len(hours) > 1 {
				during = " during hours " + numbers(hours)
			}
		}
	}
	step, isStep := evenStep(mins, 60)
	switch {
	case allMins:
		return "every minute" + during
	case isStep:
		return fmt.Sprintf("every %d minutes%s", step, during)
	case len(mins)*len(hours) <= 6:
		var times []string
		for _, h := range hours {
			for _, m := range mins {
				times = append(times, fmt.Sprintf("%02d:%02d", h, m))
			}
		}
		return "at " + joinAnd(times)
	case allHours && len(mins) == 1 && mins[0] == 0:
		return "every hour, on the hour"
	case len(mins) == 1:
		return fmt.Sprintf("at minute %d of every hour%s", mins[0], during)
	}
	hs := "every hour" + during
	if hstep, ok := evenStep(hours, 24); ok && !allHours {
		hs = fmt.Sprintf("every %d hours", hstep)
	}
	return "at minutes " + numbers(mins) + " of " + hs
}

// evenStep says whether vals are 0, s, 2s, … up to n with s dividing n:
// "every s".
func evenStep(vals []int, n int) (int, bool) {
	if len(vals) < 2 || vals[0] != 0 {
		return 0, false
	}
	s := vals[1]
	if n%s != 0 || len(vals) != n/s {
		return 0, false
	}
	for i, v := range vals {
		if v != i*s {
			return 0, false
		}
	}
	return s, true
}

func dowPhrase(dows []int) string {
	switch fmt.Sprint(dows) {
	case "[1 2 3 4 5]":
		return "weekdays (Monday to Friday)"
	case "[0 6]":
		return "weekends (Saturday and Sunday)"
	}
	names := make([]string, len(dows))
	for i, d := range dows {
		names[i] = dayLong[d]
	}
	return spans(dows, names, " to ")
}

func domPhrase(doms []int) string {
	if len(doms) == 1 {
		return fmt.Sprintf("day %d of the month", doms[0])
	}
	return "days " + numbers(doms) + " of the month"
}

// numbers lists values with runs of three or more as ranges: "1-5, 10 and 20".
func numbers(vals []int) string {
	names := make([]string, len(vals))
	for i, v := range vals {
		names[i] = strconv.Itoa(v)
	}
	return spans(vals, names, "-")
}

// spans joins names, writing each run of three or more consecutive values
// as "first<dash>last".
func spans(vals []int, names []string, dash string) string {
	var parts []string
	for i := 0; i < len(vals); {
		j := i
		for j+1 < len(vals) && vals[j+1] == vals[j]+1 {
			j++
		}
		if j-i >= 2 {
			parts = append(parts, names[i]+dash+names[j])
		} else {
			parts = append(parts, names[i:j+1]...)
		}
		i = j + 1
	}
	return joinAnd(parts)
}

// joinAnd joins words as English does: "a", "a and b", "a, b and c".
func joinAnd(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// members lists the bits set in a field's set, from lo to hi.
func members(bits uint64, lo, hi int) []int {
	var vals []int
	for v := lo; v <= hi; v++ {
		if bits&(1<<v) != 0 {
			vals = append(vals, v)
		}
	}
	return vals
}
