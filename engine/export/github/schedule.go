package github

import (
	"fmt"
	"strings"
	"time"

	"github.com/novelfactory/runner/engine/recipe"
)

// cronLine is one entry of on.schedule, with a comment saying where it
// comes from.
type cronLine struct {
	Cron    string
	Comment string
}

// schedules turns the recipe's schedule into GitHub's cron lines, which
// run in UTC. A line in a zone with a fixed offset is moved to UTC (days
// included); a zone with daylight saving time is an error, since no UTC
// line would keep the time all year; a line with no zone is read as UTC.
func schedules(r *recipe.Recipe, now time.Time) ([]cronLine, []string, error) {
	if r.Schedule == nil {
		return nil, nil, nil
	}
	var lines []cronLine
	var notes []string
	for _, e := range r.Schedule.Entries {
		if len(e.Vars) > 0 {
			return nil, nil, fmt.Errorf("github: the schedule entry %q sets vars (%s), which a GitHub schedule cannot pass to its run: export one workflow per entry, each with its vars as --set", e.Spec, strings.Join(e.Sets(), ", "))
		}
		if e.Zone == "" {
			notes = append(notes, fmt.Sprintf("the schedule %q names no time zone: GitHub runs it in UTC", e.Spec))
			utc, err := e.Expr.InUTC(0)
			if err != nil {
				return nil, nil, fmt.Errorf("github: schedule %q: %w", e.Spec, err)
			}
			for _, l := range utc {
				lines = append(lines, cronLine{l, fmt.Sprintf("%s, with no time zone: read as UTC", e.Spec)})
			}
			continue
		}
		offset, err := fixedOffset(e.Location, now)
		if err != nil {
			return nil, nil, fmt.Errorf("github: schedule %q in %s: %w", e.Spec, e.Zone, err)
		}
		utc, err := e.Expr.InUTC(offset)
		if err != nil {
			return nil, nil, fmt.Errorf("github: schedule %q in %s (%s): %w", e.Spec, e.Zone, utcOffset(offset), err)
		}
		for _, l := range utc {
			c := fmt.Sprintf("%s in %s (%s)", e.Spec, e.Zone, utcOffset(offset))
			if offset != 0 {
				c += ", moved to UTC: GitHub's cron runs in UTC"
			}
			lines = append(lines, cronLine{l, c})
		}
	}
	return lines, notes, nil
}

// fixedOffset returns the zone's offset from UTC when it is the same for
// the coming two years, and an error naming the offsets otherwise.
func fixedOffset(loc *time.Location, now time.Time) (time.Duration, error) {
	start := now.UTC().Truncate(24 * time.Hour).Add(12 * time.Hour)
	_, first := start.In(loc).Zone()
	for d := 1; d <= 2*366; d++ {
		if _, off := start.AddDate(0, 0, d).In(loc).Zone(); off != first {
			a, b := time.Duration(first)*time.Second, time.Duration(off)*time.Second
			return 0, fmt.Errorf("the zone has daylight saving time (%s and %s), and GitHub's cron runs in UTC only, so the run would move by an hour for part of the year: write the times in UTC (timezone: UTC) or in a zone without daylight saving time, or export to Argo, whose CronWorkflow keeps the zone",
				utcOffset(min(a, b)), utcOffset(max(a, b)))
		}
	}
	return time.Duration(first) * time.Second, nil
}

// utcOffset writes an offset as UTC+09:00.
func utcOffset(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	return fmt.Sprintf("UTC%s%02d:%02d", sign, int(d.Hours()), int(d.Minutes())%60)
}
