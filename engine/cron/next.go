package cron

import (
	"sort"
	"time"
)

// maxShift bounds how far a zone's wall clock jumps at one transition
// (a DST change is one hour, rarely two): during a repeated hour, a wall
// time this much earlier than another may still come after it.
const maxShift = 3 * time.Hour

// searchYears bounds Next's search: every expression Parse accepts fires
// within it (29 February can be eight years apart, 2096 to 2104).
const searchYears = 9

// Next returns the first time after `after` (strictly) at which the
// expression fires in loc (UTC when nil), in loc, or the zero time if it never
// does within nine years. Daylight-saving changes follow the package
// doc: a skipped wall time fires once, right after the gap; a repeated
// one fires once, at its first occurrence, unless the hour field starts
// with `*`.
func (e *Expr) Next(after time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	after = after.In(loc)
	wall := civil(after).Truncate(time.Minute)
	c := wall
	if transitionNear(wall, loc) {
		c = wall.Add(-maxShift)
	}
	limit := wall.AddDate(searchYears, 0, 0)
	var best, bestCivil time.Time
	for {
		if c = e.nextCivil(c, limit); c.IsZero() {
			if best.IsZero() {
				return best
			}
			return best.In(loc)
		}
		if !best.IsZero() && c.Sub(bestCivil) > maxShift {
			return best.In(loc)
		}
		times, near := e.instants(c, loc)
		for _, t := range times {
			if t.After(after) && (best.IsZero() || t.Before(best)) {
				if best.IsZero() {
					bestCivil = c
				}
				best = t
			}
		}
		if !best.IsZero() && !near {
			return best.In(loc) // no clock change around: no later wall time comes sooner
		}
		c = c.Add(time.Minute)
	}
}

// civil returns t's wall clock in its location as a UTC time: UTC has no
// daylight-saving time, so wall clocks can be stepped through safely.
func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, m, d, h, mi, s, 0, time.UTC)
}

// offset is loc's UTC offset at instant t, in seconds.
func offset(t time.Time, loc *time.Location) int {
	_, off := t.In(loc).Zone()
	return off
}

// transitionNear says whether loc's offset changes within a day of the
// wall time w.
func transitionNear(w time.Time, loc *time.Location) bool {
	a, b := offset(w.Add(-26*time.Hour), loc), offset(w.Add(26*time.Hour), loc)
	return a != b || offset(w, loc) != a
}

// instants returns the instants at which the wall time c (a civil UTC
// time) fires in loc, following the DST rules, and whether a clock change
// is near it.
func (e *Expr) instants(c time.Time, loc *time.Location) (times []time.Time, near bool) {
	if !transitionNear(c, loc) {
		off := offset(c, loc)
		return []time.Time{c.Add(-time.Duration(off) * time.Second)}, false
	}
	seen := map[int]bool{}
	var valid []time.Time
	for k := -4; k <= 4; k++ {
		off := offset(c.Add(time.Duration(k)*6*time.Hour), loc)
		if seen[off] {
			continue
		}
		seen[off] = true
		if t := c.Add(-time.Duration(off) * time.Second); offset(t, loc) == off {
			valid = append(valid, t)
		}
	}
	sort.Slice(valid, func(i, j int) bool { return valid[i].Before(valid[j]) })
	switch {
	case len(valid) == 0 && e.hourStar:
		// Elapsed time: read the skipped wall time with the offset from
		// before the jump. A whole-hour jump makes `5 * * * *`'s 02:05
		// the 03:05 that fires anyway, not a second run at 03:00.
		end := gapEnd(c, loc)
		return []time.Time{c.Add(-time.Duration(offset(end.Add(-time.Second), loc)) * time.Second)}, true
	case len(valid) == 0:
		return []time.Time{gapEnd(c, loc)}, true
	case len(valid) > 1 && !e.hourStar:
		return valid[:1], true
	}
	return valid, true
}

// gapEnd returns the first instant whose wall clock in loc is past c, a
// wall time inside a spring-forward gap: the instant the clocks jump.
func gapEnd(c time.Time, loc *time.Location) time.Time {
	lo, hi := c.Add(-26*time.Hour).Unix(), c.Add(26*time.Hour).Unix()
	for lo < hi {
		mid := lo + (hi-lo)/2
		if civil(time.Unix(mid, 0).In(loc)).After(c) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return time.Unix(lo, 0).In(loc)
}

// nextCivil returns the first wall time at or after c (a civil UTC time
// on a whole minute) that the expression matches, or the zero time if
// none comes before limit.
func (e *Expr) nextCivil(c, limit time.Time) time.Time {
	for c.Before(limit) {
		y, m, d := c.Date()
		switch {
		case e.month&(1<<int(m)) == 0:
			c = time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
		case !e.dayMatches(c):
			c = time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
		case e.hour&(1<<c.Hour()) == 0:
			c = c.Truncate(time.Hour).Add(time.Hour)
		case e.minute&(1<<c.Minute()) == 0:
			c = c.Add(time.Minute)
		default:
			return c
		}
	}
	return time.Time{}
}

// dayMatches applies the day fields to the date of c: both must match
// when either starts with `*`, either is enough when both are restricted
// (Vixie cron's rule).
func (e *Expr) dayMatches(c time.Time) bool {
	domOK := e.dom&(1<<c.Day()) != 0
	dowOK := e.dow&(1<<int(c.Weekday())) != 0
	if e.domStar || e.dowStar {
		return domOK && dowOK
	}
	return domOK || dowOK
}

// Interval returns the longest time between two consecutive fires, in
// wall-clock time (a DST change may stretch or shrink it by an hour): a
// week for `0 4 * * 0`, 15 minutes for `*/15 * * * *`. A schedule that has
// not succeeded for longer than this has missed a run.
func (e *Expr) Interval() time.Duration {
	var minutes []int // the minutes of a day at which it fires
	for h := 0; h < 24; h++ {
		if e.hour&(1<<h) == 0 {
			continue
		}
		for m := 0; m < 60; m++ {
			if e.minute&(1<<m) != 0 {
				minutes = append(minutes, h*60+m)
			}
		}
	}
	longest := 0
	for i := 1; i < len(minutes); i++ {
		longest = max(longest, minutes[i]-minutes[i-1])
	}
	span := minutes[len(minutes)-1] - minutes[0]
	// The longest run of days without a fire, over a century.
	maxDays, prev := 0, time.Time{}
	for d := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2100; d = d.AddDate(0, 0, 1) {
		if e.month&(1<<int(d.Month())) == 0 || !e.dayMatches(d) {
			continue
		}
		if !prev.IsZero() {
			maxDays = max(maxDays, int(d.Sub(prev)/(24*time.Hour)))
		}
		prev = d
	}
	longest = max(longest, maxDays*24*60-span)
	return time.Duration(longest) * time.Minute
}
