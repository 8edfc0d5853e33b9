package schedule

import (
	"time"

	"github.com/novelfactory/runner/engine/recipe"
)

// Grace is how late a fire time may be seen and still count as on time:
// it always fires, whatever the catch-up policy. Older ones were missed.
const Grace = time.Minute

// Policy is what Due does with missed fire times: a recipe's catchup,
// catchup_window and catchup_max.
type Policy struct {
	Catchup string        // recipe.CatchupLatest, CatchupAll or CatchupNone
	Window  time.Duration // missed times older than this are dropped
	Max     int           // the most missed times CatchupAll fires
}

// PolicyOf returns the catch-up policy of a recipe's schedule.
func PolicyOf(s *recipe.Schedule) Policy {
	return Policy{Catchup: s.Catchup, Window: s.CatchupWindow, Max: s.CatchupMax}
}

// Due returns the fire times of entry to start now, oldest first, and the
// time to record as the entry's last fire time (pass it back as last on
// the next call, and persist it in a Ledger before starting the runs).
//
// The times due are those in (last, now]. One no older than Grace is on
// time and fires. Older ones were missed and follow the policy: latest
// fires the newest due time once (an on-time one included), all fires
// each (the newest Max of them, oldest first), none fires none; missed
// times older than the policy's Window are dropped. advanced is the
// newest due time, whether it fired or not (or, when every due time was
// dropped, the start of the window), so a time is never due twice.
//
// A zero last means the entry was never seen: nothing is due, and
// advanced is now, so a first start (or a new or edited cron line) runs
// no backlog and the first fire is the first time after now. A clock that
// stepped back (now before last) fires nothing and keeps last.
func Due(entry *recipe.ScheduleEntry, p Policy, last, now time.Time) (fire []time.Time, advanced time.Time) {
	if last.IsZero() {
		return nil, now
	}
	if !now.After(last) {
		return nil, last
	}
	// Times older than both the window and the grace are dropped
	// whatever the policy: start past them, never before last.
	from := last
	oldest := Grace
	if p.Catchup != recipe.CatchupNone && p.Window > oldest {
		oldest = p.Window
	}
	if cut := now.Add(-oldest); cut.After(from) {
		from = cut.Add(-time.Nanosecond) // a time exactly at the cut still counts
	}
	// Only the newest due times can fire (one for latest, Max for all):
	// look back from now over a span that doubles until it holds that
	// many or reaches from, rather than stepping through a year of
	// `* * * * *` (half a million times) after a long outage.
	need := 1
	if p.Catchup == recipe.CatchupAll {
		need = max(p.Max, 1)
	}
	var missed, onTime []time.Time
	advanced = last
	whole := now.Sub(from) // saturates: a span never overflows
	for span := min(time.Hour, whole); ; {
		start := from
		if span < whole {
			start = now.Add(-span)
		}
		missed, onTime = missed[:0], onTime[:0]
		for t := entry.Expr.Next(start, entry.Location); !t.IsZero() && !t.After(now); t = entry.Expr.Next(t, entry.Location) {
			advanced = t
			if now.Sub(t) <= Grace {
				onTime = append(onTime, t)
			} else {
				missed = append(missed, t)
			}
		}
		if span == whole || len(missed) >= need {
			break
		}
		if span > whole/2 {
			span = whole
		} else {
			span *= 2
		}
	}
	if from.After(last) && advanced.Equal(last) {
		// Nothing in (from, now], but times before from were dropped:
		// they are behind us too.
		if t := entry.Expr.Next(last, entry.Location); !t.IsZero() && !t.After(from) {
			advanced = from
		}
	}
	switch p.Catchup {
	case recipe.CatchupLatest:
		if len(onTime) > 0 {
			return onTime[len(onTime)-1:], advanced
		}
		if len(missed) > 0 {
			return missed[len(missed)-1:], advanced
		}
		return nil, advanced
	case recipe.CatchupAll:
		if n := max(p.Max, 1); len(missed) > n {
			missed = missed[len(missed)-n:]
		}
		return append(missed, onTime...), advanced
	}
	return onTime, advanced
}

// NextTimes returns the next n fire times of entry after from, in the
// entry's zone.
func NextTimes(entry *recipe.ScheduleEntry, from time.Time, n int) []time.Time {
	var times []time.Time
	for t := from; len(times) < n; {
		if t = entry.Expr.Next(t, entry.Location); t.IsZero() {
			break
		}
		times = append(times, t)
	}
	return times
}
