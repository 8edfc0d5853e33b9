package cron

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// InUTC returns cron lines that, read in UTC, fire at the same instants as
// e read in a zone whose clock is always offset ahead of UTC (Asia/Seoul:
// 9h; a zone west of Greenwich has a negative offset). A zone with daylight
// saving time has no one offset: the caller must refuse it.
//
// One line is usually enough (`0 4 * * 0` at +9h is `0 19 * * 6`); times
// that land on different UTC days, or an offset with minutes (+5:30), may
// need up to four. The day fields move with the day: a day of the week
// always can; a day of the month only when no time crosses into another
// month (it would need "the last day of the month", which cron cannot
// say), and a restricted month only then too. Otherwise InUTC returns an
// error saying so.
func (e *Expr) InUTC(offset time.Duration) ([]string, error) {
	if offset%time.Minute != 0 || offset <= -24*time.Hour || offset >= 24*time.Hour {
		return nil, fmt.Errorf("cron: offset %v is not a whole number of minutes under a day", offset)
	}
	o := int(offset / time.Minute)
	om := (o%60 + 60) % 60 // o = oh*60 + om, 0 <= om < 60
	oh := (o - om) / 60
	// UTC minutes, by the hour carried (-1 when m-om goes below 0).
	minutes := map[int]uint64{}
	for _, m := range members(e.minute, 0, 59) {
		carry := 0
		if m -= om; m < 0 {
			m, carry = m+60, -1
		}
		minutes[carry] |= 1 << m
	}
	body := e.spec
	if b, ok := Macros[strings.ToLower(strings.TrimSpace(e.spec))]; ok {
		body = b
	}
	toks := splitFields(body)
	var lines []string
	seen := map[string]bool{}
	for _, carry := range []int{-1, 0} {
		if minutes[carry] == 0 {
			continue
		}
		hours := map[int]uint64{} // UTC hours, by the day they move to
		for _, h := range members(e.hour, 0, 23) {
			raw := h - oh + carry
			day := 0
			switch {
			case raw < 0:
				raw, day = raw+24, -1
			case raw > 23:
				raw, day = raw-24, 1
			}
			hours[day] |= 1 << raw
		}
		for _, day := range []int{-1, 0, 1} {
			if hours[day] == 0 {
				continue
			}
			days, err := e.shiftDays(toks, day)
			if err != nil {
				return nil, err
			}
			line := setText(minutes[carry], 0, 59) + " " + setText(hours[day], 0, 23) + " " + days
			if !seen[line] {
				seen[line] = true
				lines = append(lines, line)
			}
		}
	}
	return lines, nil
}

// shiftDays returns the day-of-month, month and day-of-week fields of e
// moved by day (-1, 0 or +1), as text; toks are e's five fields as
// written, kept as they are when the day does not move.
func (e *Expr) shiftDays(toks []token, day int) (string, error) {
	if day == 0 {
		return toks[2].text + " " + toks[3].text + " " + toks[4].text, nil
	}
	const allDom, allMonth, allDow = uint64(1<<32 - 2), uint64(1<<13 - 2), uint64(1<<7 - 1)
	domAll, monthAll, dowAll := e.dom == allDom, e.month == allMonth, e.dow == allDow
	which := "the day before"
	if day > 0 {
		which = "the day after"
	}
	cannot := func(why string) error {
		return fmt.Errorf("%q in UTC falls on %s, and %s: write the schedule in UTC (timezone: UTC)", e.spec, which, why)
	}
	// A field written with `*` but restricted (`*/2`) makes Vixie cron
	// match both day fields; as a list it would match either.
	if e.domStar && !domAll && !dowAll || e.dowStar && !dowAll && !domAll {
		return "", cannot("a stepped day field (*/N) beside another restricted day field cannot move with it")
	}
	if !domAll {
		ds := members(e.dom, 1, 31)
		if day < 0 && ds[0] == 1 {
			return "", cannot("day 1 of a month would be the last day of the month before, which cron cannot write")
		}
		if day < 0 && ds[len(ds)-1] > 28 {
			return "", cannot(fmt.Sprintf("day %d is missing from some months, while the day before it is in all of them", ds[len(ds)-1]))
		}
		if day > 0 && ds[len(ds)-1] >= 28 {
			return "", cannot(fmt.Sprintf("day %d may be the last of its month, and the next day the first of the next month, which cron cannot write", ds[len(ds)-1]))
		}
	}
	if !monthAll && (domAll || !e.dowStar && !dowAll) {
		return "", cannot("a day at the edge of a month moves into another month, which the month field would not match")
	}
	dom, month, dow := toks[2].text, toks[3].text, toks[4].text
	if !domAll {
		var bits uint64
		for _, d := range members(e.dom, 1, 31) {
			bits |= 1 << (d + day)
		}
		dom = setText(bits, 1, 31)
	}
	if !dowAll {
		var bits uint64
		for _, d := range members(e.dow, 0, 6) {
			bits |= 1 << ((d + day + 7) % 7)
		}
		dow = setText(bits, 0, 6)
	}
	return dom + " " + month + " " + dow, nil
}

// setText writes a set of values of a field from lo to hi: `*` for all,
// else a list of values and ranges (1-5).
func setText(bits uint64, lo, hi int) string {
	vals := members(bits, lo, hi)
	if len(vals) == hi-lo+1 {
		return "*"
	}
	var parts []string
	for i := 0; i < len(vals); {
		j := i
		for j+1 < len(vals) && vals[j+1] == vals[j]+1 {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, strconv.Itoa(vals[i])+"-"+strconv.Itoa(vals[j]))
		case j > i:
			parts = append(parts, strconv.Itoa(vals[i]), strconv.Itoa(vals[j]))
		default:
			parts = append(parts, strconv.Itoa(vals[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
